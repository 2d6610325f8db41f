/**
 * The VectorIndex conformance suite: every implementation runs it (see
 * vector-index.test.ts). Results are compared with a brute-force reference on
 * clustered data small enough for HNSW to be exact at the configured ef.
 */
import { describe, expect, it } from 'vitest';
import type { VectorIndex } from '../../../src/router/semantic/vector-index.js';
import { bruteForce, clustered, cosine, prng, randomUnit } from './fixtures.js';

export interface IndexFactory {
  /** A fresh index; `initialCapacity` small enough that the tests exercise growth. */
  create(dimension: number, initialCapacity: number): VectorIndex;
  /** Waits for background work (migrations) to finish. */
  settle?(index: VectorIndex): Promise<void>;
}

const DIM = 32;
const N = 600;

function fill(index: VectorIndex, points: Map<number, Float32Array>, vectors: Float32Array[], firstLabel = 0): void {
  vectors.forEach((v, i) => {
    index.add(firstLabel + i, v);
    points.set(firstLabel + i, v);
  });
}

function expectSameTop(index: VectorIndex, points: Map<number, Float32Array>, queries: Float32Array[], k: number): void {
  for (const q of queries) {
    const hits = index.search(q, k);
    expect(hits.map((h) => h.label)).toEqual(bruteForce(points, q, k));
  }
}

export function runVectorIndexConformance(name: string, factory: IndexFactory): void {
  const settle = async (index: VectorIndex): Promise<void> => {
    await factory.settle?.(index);
  };

  describe(`VectorIndex conformance: ${name}`, () => {
    const data = clustered(N, DIM, 30, 0.6, 7);
    const queries = clustered(20, DIM, 30, 0.8, 8);

    it('is empty at first and finds nothing', () => {
      const index = factory.create(DIM, 16);
      expect(index.size).toBe(0);
      expect(index.search(randomUnit(DIM, prng(1)), 5)).toEqual([]);
      expect(index.stats().size).toBe(0);
      index.close();
    });

    it('rejects a wrong dimension, a zero vector and a live label', () => {
      const index = factory.create(DIM, 16);
      expect(() => index.add(1, new Float32Array(DIM + 1).fill(1))).toThrow(RangeError);
      expect(() => index.add(1, new Float32Array(DIM))).toThrow(RangeError);
      index.add(1, data[0]!);
      expect(() => index.add(1, data[1]!)).toThrow(RangeError);
      expect(() => index.search(new Float32Array(DIM - 1), 3)).toThrow(RangeError);
      expect(index.size).toBe(1);
      index.close();
    });

    it('returns the same top results as a brute-force scan, best first, with cosine similarities', async () => {
      const index = factory.create(DIM, 16);
      const points = new Map<number, Float32Array>();
      fill(index, points, data);
      await settle(index);
      expect(index.size).toBe(N);
      expectSameTop(index, points, queries, 10);
      for (const q of queries.slice(0, 5)) {
        const hits = index.search(q, 10);
        for (let i = 0; i < hits.length; i++) {
          expect(hits[i]!.similarity).toBeCloseTo(cosine(q, points.get(hits[i]!.label)!), 5);
          if (i > 0) expect(hits[i]!.similarity).toBeLessThanOrEqual(hits[i - 1]!.similarity + 1e-6);
        }
      }
      index.close();
    });

    it('returns at most size hits, none for k < 1 or a zero query', () => {
      const index = factory.create(DIM, 16);
      fill(index, new Map(), data.slice(0, 7));
      expect(index.search(queries[0]!, 50)).toHaveLength(7);
      expect(index.search(queries[0]!, 0)).toEqual([]);
      expect(index.search(new Float32Array(DIM), 5)).toEqual([]);
      index.close();
    });

    it('stores unit vectors and unscaled inputs rank the same', () => {
      const index = factory.create(DIM, 16);
      index.add(3, data[0]!.map((x) => x * 7));
      const stored = index.vector(3)!;
      expect(cosine(stored, data[0]!)).toBeCloseTo(1, 5);
      expect(Math.hypot(...stored)).toBeCloseTo(1, 5);
      expect(index.vector(4)).toBeUndefined();
      expect(index.search(data[0]!.map((x) => x * 0.01), 1)[0]!.similarity).toBeCloseTo(1, 5);
      index.close();
    });

    it('never returns removed labels and agrees with brute force on what remains', async () => {
      const index = factory.create(DIM, 16);
      const points = new Map<number, Float32Array>();
      fill(index, points, data);
      for (let label = 0; label < N; label += 3) {
        expect(index.remove(label)).toBe(true);
        points.delete(label);
      }
      expect(index.remove(0)).toBe(false);
      expect(index.remove(10_000)).toBe(false);
      await settle(index);
      expect(index.size).toBe(points.size);
      expect(new Set(index.labels())).toEqual(new Set(points.keys()));
      expect(index.vector(0)).toBeUndefined();
      for (const q of queries) {
        for (const hit of index.search(q, 20)) expect(hit.label % 3).not.toBe(0);
      }
      expectSameTop(index, points, queries, 10);
      index.close();
    });

    it('accepts a removed label again, with its new vector', async () => {
      const index = factory.create(DIM, 16);
      fill(index, new Map(), data.slice(0, 50));
      index.remove(7);
      const moved = randomUnit(DIM, prng(99));
      index.add(7, moved);
      await settle(index);
      expect(index.has(7)).toBe(true);
      expect(index.search(moved, 1)[0]!.label).toBe(7);
      index.close();
    });

    it('grows past its initial capacity', async () => {
      const index = factory.create(DIM, 16);
      const points = new Map<number, Float32Array>();
      fill(index, points, data);
      await settle(index);
      const stats = index.stats();
      expect(stats.size).toBe(N);
      expect(stats.capacity).toBeGreaterThanOrEqual(N);
      expectSameTop(index, points, queries.slice(0, 5), 5);
      index.close();
    });

    it('rebuilds once deletions pile up, keeping results exact', async () => {
      const index = factory.create(DIM, 16);
      const points = new Map<number, Float32Array>();
      fill(index, points, data);
      await settle(index);
      for (let label = 0; label < N; label += 2) {
        index.remove(label);
        points.delete(label);
      }
      await settle(index);
      const stats = index.stats();
      expect(stats.size).toBe(N / 2);
      // Deleted marks never stay above a quarter of the structure.
      expect(stats.deleted).toBeLessThanOrEqual(0.25 * (stats.size + stats.deleted));
      if (stats.kind === 'hnsw') expect(stats.rebuilds).toBeGreaterThan(0);
      expectSameTop(index, points, queries, 10);
      // The rebuilt index keeps working: adds and removals after it.
      fill(index, points, data.slice(0, 20), 10_000);
      index.remove(10_001);
      points.delete(10_001);
      await settle(index);
      expectSameTop(index, points, queries, 10);
      index.close();
    });

    it('is empty again once everything is removed', async () => {
      const index = factory.create(DIM, 16);
      fill(index, new Map(), data.slice(0, 40));
      for (let label = 0; label < 40; label++) index.remove(label);
      await settle(index);
      expect(index.size).toBe(0);
      expect(index.search(queries[0]!, 5)).toEqual([]);
      expect([...index.labels()]).toEqual([]);
      index.close();
    });
  });
}
