/** What the tiered index adds over the conformance suite: tier changes, hysteresis, background migrations. */
import { describe, expect, it } from 'vitest';
import { TieredVectorIndex, type TieredIndexOptions } from '../../../src/router/semantic/tiered-index.js';
import { bruteForce, clustered } from './fixtures.js';

const DIM = 16;
const GRAPH = { m: 16, efConstruction: 200, efSearch: 128, seed: 3 };

/** A scheduler the test drives by hand, and a clock that advances 1 ms per reading. */
function manual(): { options: Pick<TieredIndexOptions, 'schedule' | 'now' | 'sliceMs'>; run(): boolean; queued(): number } {
  const queue: Array<() => void> = [];
  let t = 0;
  return {
    options: {
      sliceMs: 2,
      now: () => t++,
      schedule: (fn) => {
        queue.push(fn);
        return () => {
          const i = queue.indexOf(fn);
          if (i >= 0) queue.splice(i, 1);
        };
      },
    },
    run: () => {
      const fn = queue.shift();
      fn?.();
      return fn !== undefined;
    },
    queued: () => queue.length,
  };
}

describe('TieredVectorIndex', () => {
  const data = clustered(200, DIM, 20, 0.5, 4);
  const queries = clustered(10, DIM, 20, 0.7, 5);

  it('searches exactly up to the threshold, with HNSW above it, and exactly again below half of it', () => {
    const index = new TieredVectorIndex(DIM, { exactThreshold: 100, build: 'sync', hnsw: GRAPH });
    data.slice(0, 100).forEach((v, i) => index.add(i, v));
    expect(index.kind).toBe('exact');
    index.add(100, data[100]!);
    expect(index.kind).toBe('hnsw');
    expect(index.stats()).toMatchObject({ kind: 'hnsw', size: 101, rebuilds: 1 });
    // Hysteresis: still HNSW down to half the threshold.
    for (let i = 0; i < 51; i++) index.remove(i);
    expect(index.kind).toBe('hnsw');
    index.remove(51);
    expect(index.kind).toBe('exact');
    expect(index.size).toBe(49);
    index.close();
  });

  it('migrates in the background: the old tier answers until the new one holds every live point', () => {
    const m = manual();
    const index = new TieredVectorIndex(DIM, { exactThreshold: 50, build: 'background', hnsw: GRAPH, ...m.options });
    const points = new Map<number, Float32Array>();
    data.slice(0, 60).forEach((v, i) => {
      index.add(i, v);
      points.set(i, v);
    });
    expect(index.migrating).toBe(true);
    expect(index.kind).toBe('exact');
    // One slice copies a few points (the clock runs out), then yields.
    expect(m.run()).toBe(true);
    expect(index.migrating).toBe(true);
    // Changes during the migration reach the new index too.
    index.remove(0);
    points.delete(0);
    index.remove(59);
    points.delete(59);
    data.slice(60, 70).forEach((v, i) => {
      index.add(60 + i, v);
      points.set(60 + i, v);
    });
    for (const q of queries) expect(index.search(q, 5).map((h) => h.label)).toEqual(bruteForce(points, q, 5));
    let slices = 1;
    while (m.run()) slices++;
    expect(slices).toBeGreaterThan(3);
    expect(index.migrating).toBe(false);
    expect(index.kind).toBe('hnsw');
    expect(index.size).toBe(points.size);
    expect(new Set(index.labels())).toEqual(new Set(points.keys()));
    for (const q of queries) expect(index.search(q, 5).map((h) => h.label)).toEqual(bruteForce(points, q, 5));
    index.close();
  });

  it('idle() resolves when the migration completes; close() cancels pending work', async () => {
    const background = new TieredVectorIndex(DIM, { exactThreshold: 20, build: 'background', sliceMs: 0.01, hnsw: GRAPH });
    data.slice(0, 40).forEach((v, i) => background.add(i, v));
    expect(background.migrating).toBe(true);
    await background.idle();
    expect(background.kind).toBe('hnsw');
    background.close();

    const m = manual();
    const index = new TieredVectorIndex(DIM, { exactThreshold: 20, build: 'background', hnsw: GRAPH, ...m.options });
    data.slice(0, 40).forEach((v, i) => index.add(i, v));
    expect(m.queued()).toBe(1);
    const idle = index.idle();
    index.close();
    expect(m.queued()).toBe(0);
    await idle;
  });
});
