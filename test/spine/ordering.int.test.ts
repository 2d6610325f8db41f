/**
 * What a member can rely on when several nodes publish to one channel at once:
 * every event exactly once, in offset order (the order of the shared history),
 * on every node, the publishers' own nodes included; and a join answers with
 * an offset after which nothing is missed live.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import { barrier, Cluster, isEvent, LOBBY } from './cluster.js';

let cluster: Cluster;

beforeEach(async () => {
  cluster = await Cluster.start(3);
});
afterEach(async () => {
  await cluster.close();
});

const offsets = (envs: Envelope[]): number[] => envs.filter(isEvent).map((e) => e.metadata?.['offset'] as number);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Waits for the event with `offset` at `c`, then for everything sent before it to be processed. */
async function drain(c: RawClient, offset: number): Promise<number[]> {
  await c.next((e) => isEvent(e) && e.metadata?.['offset'] === offset, 15_000);
  await barrier(c);
  // next() took the awaited one out of `received`; in order, it was the last to arrive.
  return [...offsets(c.received), offset];
}

describe('ordering across nodes', () => {
  it('concurrent publishers on two nodes: every member on every node gets each event once, in offset order', async () => {
    const pubA = await cluster.connect(0, 'pub-a');
    const pubB = await cluster.connect(1, 'pub-b');
    const listeners = [await cluster.connect(0, 'l0'), await cluster.connect(1, 'l1'), await cluster.connect(2, 'l2')];
    for (const c of [pubA, pubB, ...listeners]) await c.ok('join_channel', LOBBY);

    const N = 300;
    for (let i = 0; i < N; i++) {
      pubA.send({ type: 'event', id: `a-${i}`, ...LOBBY, payload: { i } });
      pubB.send({ type: 'event', id: `b-${i}`, ...LOBBY, payload: { i } });
    }
    for (const c of listeners) {
      // Offsets are assigned by the shared history: the last one is 2N, wherever it was published.
      expect(await drain(c, 2 * N)).toEqual(range(1, 2 * N));
    }
    // The publishers (no echo) get the other one's events only, also in offset order.
    for (const [c, own] of [[pubA, 'a-'], [pubB, 'b-']] as const) {
      await barrier(c);
      const got = c.received.filter(isEvent);
      expect(got.every((e) => !e.id.startsWith(own))).toBe(true);
      expect(got.length).toBe(N);
      const seen = offsets(got);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    }
  });

  it('a member joining on a node mid-stream misses nothing after the offset its join answered', async () => {
    const publisher = await cluster.connect(0, 'pub');
    await publisher.ok('join_channel', LOBBY);
    const joiner = await cluster.connect(1, 'joiner');
    let seq = 0;
    let pumping = true;
    // Keeps a steady stream going while the joiner (the only member on node 1) joins and leaves.
    const pump = (async () => {
      while (pumping) {
        for (let i = 0; i < 20; i++) publisher.send({ type: 'event', id: `p-${++seq}`, ...LOBBY, payload: { seq } });
        await publisher.barrier();
      }
    })();
    try {
      for (let round = 0; round < 8; round++) {
        joiner.received.length = 0;
        const { offset } = await joiner.ok<{ offset: number }>('join_channel', LOBBY);
        // Mark the end of this round with an event of the joiner's own, echoed back.
        joiner.send({ type: 'event', id: `mark-${round}`, ...LOBBY, payload: {}, metadata: { echo: true } });
        const mark = await joiner.next((e) => e.id === `mark-${round}`, 15_000);
        const end = mark.metadata?.['offset'] as number;
        const live = offsets(joiner.received).filter((o) => o > offset && o < end);
        expect(live, `round ${round}: join answered offset ${offset}`).toEqual(range(offset + 1, end - 1));
        await joiner.ok('leave_channel', LOBBY);
      }
    } finally {
      pumping = false;
      await pump;
    }
  });
});
