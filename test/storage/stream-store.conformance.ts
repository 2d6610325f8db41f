/**
 * The StreamStore conformance suite: every backend (memory, Redis, ...) runs
 * it, so they all behave the same to the history and recovery code.
 *
 * Each test uses a fresh tenant id, so a backend shared between tests (a real
 * Redis) never sees another test's streams. Time is a fake clock the tests
 * advance; nothing sleeps.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { HistoryPage, RetentionOptions, StreamKey, StreamStore } from '../../src/storage/stream-store.js';

export interface StoreOptions {
  readonly retention: RetentionOptions;
  readonly clock: () => number;
}

export type MakeStore = (opts: StoreOptions) => Promise<StreamStore> | StreamStore;

let fixtureSeq = 0;
/** A minimal valid event envelope with a unique id. */
export function envelope(overrides: Partial<Envelope> = {}): Envelope {
  fixtureSeq++;
  return {
    version: '1.0',
    id: `fx_${fixtureSeq}_${randomUUID().slice(0, 8)}`,
    type: 'event',
    room: 'lobby',
    channel: 'general',
    from: 'client-1',
    timestamp: new Date(0).toISOString(),
    payload: { n: fixtureSeq },
    ...overrides,
  };
}

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public now = 1_700_000_000_000) {}
  readonly read = (): number => this.now;
  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
}

const offsets = (page: HistoryPage): number[] => page.messages.map((m) => m.offset);

export function streamStoreConformance(
  name: string,
  makeStore: MakeStore,
  cleanup?: (store: StreamStore) => Promise<void>,
): void {
  describe(name, () => {
    const opened: StreamStore[] = [];

    afterEach(async () => {
      for (const store of opened.splice(0)) {
        if (cleanup) await cleanup(store);
        else await store.close();
      }
    });

    /** A fresh store, clock and tenant-unique key for one test. */
    async function setup(retention: Partial<RetentionOptions> = {}) {
      const clock = new FakeClock();
      const store = await makeStore({
        retention: { maxMessages: 100, maxAgeMs: 0, ...retention },
        clock: clock.read,
      });
      opened.push(store);
      const tenant = `t-${randomUUID()}`;
      const key: StreamKey = { tenant, room: 'lobby', channel: 'general' };
      /** Appends n fresh envelopes at the current clock time; returns their envelopes. */
      const fill = async (n: number, k: StreamKey = key): Promise<Envelope[]> => {
        const out: Envelope[] = [];
        for (let i = 0; i < n; i++) {
          const env = envelope();
          await store.append(k, env, clock.now);
          out.push(env);
        }
        return out;
      };
      return { store, clock, tenant, key, fill };
    }

    it('assigns offsets 1..n under one stable epoch', async () => {
      const { store, clock, key } = await setup();
      const positions = [];
      for (let i = 0; i < 5; i++) positions.push(await store.append(key, envelope(), clock.now));
      expect(positions.map((p) => p.offset)).toEqual([1, 2, 3, 4, 5]);
      const epoch = positions[0]!.epoch;
      expect(typeof epoch).toBe('string');
      expect(epoch.length).toBeGreaterThan(0);
      for (const p of positions) expect(p.epoch).toBe(epoch);
      expect(await store.position(key)).toEqual({ offset: 5, epoch });
    });

    it('reads oldest first and honours limit with hasMore', async () => {
      const { store, key, fill, clock } = await setup();
      const envs = await fill(5);

      const all = await store.read(key, { limit: 10 });
      expect(offsets(all)).toEqual([1, 2, 3, 4, 5]);
      expect(all.messages.map((m) => m.envelope)).toEqual(envs);
      expect(all.messages.every((m) => m.time === clock.now)).toBe(true);
      expect(all).toMatchObject({ latestOffset: 5, earliestOffset: 1, hasMore: false, recovered: true });

      const two = await store.read(key, { limit: 2 });
      expect(offsets(two)).toEqual([1, 2]);
      expect(two.hasMore).toBe(true);

      const exact = await store.read(key, { limit: 5 });
      expect(offsets(exact)).toEqual([1, 2, 3, 4, 5]);
      expect(exact.hasMore).toBe(false);
    });

    it('resumes after sinceOffset and pages through with limit', async () => {
      const { store, key, fill } = await setup();
      await fill(7);
      const { epoch } = await store.position(key);

      const rest = await store.read(key, { sinceOffset: 2, epoch, limit: 100 });
      expect(offsets(rest)).toEqual([3, 4, 5, 6, 7]);
      expect(rest).toMatchObject({ recovered: true, hasMore: false, epoch });

      const seen: number[] = [];
      let cursor = 0;
      for (;;) {
        const page = await store.read(key, { sinceOffset: cursor, epoch, limit: 3 });
        expect(page.recovered).toBe(true);
        seen.push(...offsets(page));
        cursor = page.messages.at(-1)?.offset ?? cursor;
        if (!page.hasMore) break;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it('evicts the oldest beyond maxMessages and reports the gap as not recovered', async () => {
      const { store, key, fill } = await setup({ maxMessages: 3 });
      await fill(5);
      const { epoch } = await store.position(key);

      const all = await store.read(key, { limit: 10 });
      expect(offsets(all)).toEqual([3, 4, 5]);
      expect(all).toMatchObject({ earliestOffset: 3, latestOffset: 5, recovered: true });

      // Offset 2 was evicted: the client missed it.
      const gap = await store.read(key, { sinceOffset: 1, epoch, limit: 10 });
      expect(gap.recovered).toBe(false);
      expect(offsets(gap)).toEqual([3, 4, 5]);

      // The client saw 2, and 3.. are all retained.
      const ok = await store.read(key, { sinceOffset: 2, epoch, limit: 10 });
      expect(ok.recovered).toBe(true);
      expect(offsets(ok)).toEqual([3, 4, 5]);
    });

    it('reports an epoch mismatch as not recovered', async () => {
      const { store, key, fill } = await setup();
      await fill(3);
      const { epoch } = await store.position(key);
      const page = await store.read(key, { sinceOffset: 1, epoch: `${epoch}-other`, limit: 10 });
      expect(page.recovered).toBe(false);
      expect(page.epoch).toBe(epoch);
      expect(page.latestOffset).toBe(3);
    });

    it('reports a caught-up client as recovered, even after eviction', async () => {
      const { store, key, fill } = await setup({ maxMessages: 2 });
      await fill(5);
      const { epoch } = await store.position(key);
      const page = await store.read(key, { sinceOffset: 5, epoch, limit: 10 });
      expect(page).toMatchObject({ messages: [], recovered: true, hasMore: false, latestOffset: 5 });
      // Without an epoch the offset is taken at face value.
      expect((await store.read(key, { sinceOffset: 5, limit: 10 })).recovered).toBe(true);
    });

    it('treats an offset beyond the latest as not recovered', async () => {
      const { store, key, fill } = await setup();
      await fill(3);
      const { epoch } = await store.position(key);
      const page = await store.read(key, { sinceOffset: 9, epoch, limit: 10 });
      expect(page.recovered).toBe(false);
      expect(page.latestOffset).toBe(3);
    });

    it('filters by inclusive time bounds since/until', async () => {
      const { store, key, clock } = await setup();
      const t0 = clock.now;
      for (let i = 0; i < 6; i++) await store.append(key, envelope(), t0 + i * 10); // offsets 1..6 at t0..t0+50

      expect(offsets(await store.read(key, { since: t0 + 10, until: t0 + 30, limit: 10 }))).toEqual([2, 3, 4]);
      expect(offsets(await store.read(key, { since: t0 + 15, limit: 10 }))).toEqual([3, 4, 5, 6]);
      expect(offsets(await store.read(key, { until: t0 + 15, limit: 10 }))).toEqual([1, 2]);
      expect(offsets(await store.read(key, { since: t0 + 100, limit: 10 }))).toEqual([]);
      expect(offsets(await store.read(key, { until: t0 - 1, limit: 10 }))).toEqual([]);

      const limited = await store.read(key, { since: t0 + 10, until: t0 + 40, limit: 2 });
      expect(offsets(limited)).toEqual([2, 3]);
      expect(limited.hasMore).toBe(true);

      const both = await store.read(key, { sinceOffset: 3, since: t0, until: t0 + 40, limit: 10 });
      expect(offsets(both)).toEqual([4, 5]);
      expect(both.messages.map((m) => m.time)).toEqual([t0 + 30, t0 + 40]);
    });

    it('evicts messages older than maxAgeMs by the injected clock', async () => {
      const { store, key, clock } = await setup({ maxAgeMs: 1_000 });
      await store.append(key, envelope(), clock.now); // 1 at t
      await store.append(key, envelope(), clock.advance(500)); // 2 at t+500
      const { epoch } = await store.position(key);

      clock.advance(700); // 1 is 1200 ms old, 2 is 700 ms old
      const page = await store.read(key, { limit: 10 });
      expect(offsets(page)).toEqual([2]);
      expect(page).toMatchObject({ earliestOffset: 2, latestOffset: 2, epoch });
      expect((await store.read(key, { sinceOffset: 0, epoch, limit: 10 })).recovered).toBe(false);
      expect((await store.read(key, { sinceOffset: 1, epoch, limit: 10 })).recovered).toBe(true);

      // Everything expires; offsets keep counting in the same epoch.
      clock.advance(5_000);
      const empty = await store.read(key, { limit: 10 });
      expect(empty).toMatchObject({ messages: [], latestOffset: 2, earliestOffset: 3, epoch });
      expect((await store.read(key, { sinceOffset: 1, epoch, limit: 10 })).recovered).toBe(false);
      expect((await store.read(key, { sinceOffset: 2, epoch, limit: 10 })).recovered).toBe(true);
      expect(await store.append(key, envelope(), clock.now)).toEqual({ offset: 3, epoch, duplicate: false });
    });

    it('is idempotent by sender and envelope id', async () => {
      const { store, key, clock } = await setup();
      const first = envelope();
      const pos = await store.append(key, first, clock.now);
      await store.append(key, envelope(), clock.now);
      expect(pos.duplicate).toBe(false);
      expect(await store.append(key, first, clock.advance(10))).toEqual({ ...pos, duplicate: true });
      expect(await store.append(key, { ...first, payload: { changed: true } }, clock.now)).toEqual({ ...pos, duplicate: true });

      const page = await store.read(key, { limit: 10 });
      expect(offsets(page)).toEqual([1, 2]);
      expect(page.messages[0]!.envelope).toEqual(first);
      expect((await store.append(key, envelope(), clock.now)).offset).toBe(3);
      // The same id from another sender is a different message.
      expect((await store.append(key, { ...first, from: 'client-2' }, clock.now)).offset).toBe(4);
    });

    it('keeps tenants apart even with identical room and channel names', async () => {
      const { store, key, clock, fill } = await setup();
      const other: StreamKey = { ...key, tenant: `${key.tenant}-b` };
      const mine = await fill(3);
      const theirs = envelope();
      expect((await store.append(other, theirs, clock.now)).offset).toBe(1);
      // An id is only unique within its own stream: another tenant reusing it is stored.
      expect((await store.append(other, mine[0]!, clock.now)).offset).toBe(2);

      expect((await store.read(key, { limit: 10 })).messages.map((m) => m.envelope)).toEqual(mine);
      expect((await store.read(other, { limit: 10 })).messages.map((m) => m.envelope)).toEqual([theirs, mine[0]]);
      expect((await store.position(key)).offset).toBe(3);
      expect((await store.position(other)).offset).toBe(2);

      await store.remove(other);
      expect((await store.position(key)).offset).toBe(3);
    });

    it('never joins key parts ambiguously', async () => {
      const { store, tenant, clock } = await setup();
      const keys: StreamKey[] = [
        { tenant, room: 'a.b', channel: 'c' },
        { tenant, room: 'a', channel: 'b.c' },
        { tenant: `${tenant}.a`, room: 'b', channel: 'c' },
        { tenant: `${tenant}:a`, room: 'b', channel: 'c' },
        { tenant: `${tenant}/a`, room: 'b', channel: 'c' },
      ];
      for (const k of keys) expect((await store.append(k, envelope(), clock.now)).offset).toBe(1);
    });

    it('starts a new epoch at offset 1 after remove()', async () => {
      const { store, key, fill, clock } = await setup();
      await fill(3);
      const old = await store.position(key);
      await store.remove(key);

      const pos = await store.append(key, envelope(), clock.now);
      expect(pos.offset).toBe(1);
      expect(pos.epoch).not.toBe(old.epoch);

      const page = await store.read(key, { sinceOffset: old.offset, epoch: old.epoch, limit: 10 });
      expect(page).toMatchObject({ recovered: false, epoch: pos.epoch, latestOffset: 1 });
      await expect(store.remove({ ...key, channel: 'never-written' })).resolves.toBeUndefined();
    });

    it('gives an empty stream latest 0, earliest 1 and a stable epoch', async () => {
      const { store, key, clock } = await setup();
      const a = await store.read(key, { limit: 10 });
      expect(a).toMatchObject({ messages: [], latestOffset: 0, earliestOffset: 1, hasMore: false, recovered: true });
      const b = await store.read(key, { limit: 10 });
      expect(b.epoch).toBe(a.epoch);
      expect(await store.position(key)).toEqual({ offset: 0, epoch: a.epoch });
      expect((await store.read(key, { sinceOffset: 0, epoch: a.epoch, limit: 10 })).recovered).toBe(true);
      // The first append continues the epoch the empty stream already had.
      expect(await store.append(key, envelope(), clock.now)).toEqual({ offset: 1, epoch: a.epoch, duplicate: false });
    });
  });
}
