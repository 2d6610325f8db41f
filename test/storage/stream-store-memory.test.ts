import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/errors.js';
import { MemoryStreamStore } from '../../src/storage/stream-store-memory.js';
import type { StoredMessage, StreamKey } from '../../src/storage/stream-store.js';
import { envelope, FakeClock, streamStoreConformance } from './stream-store.conformance.js';

streamStoreConformance('MemoryStreamStore (conformance)', ({ retention, clock }) => new MemoryStreamStore(retention, clock));

const key: StreamKey = { tenant: 't', room: 'r', channel: 'c' };

describe('MemoryStreamStore', () => {
  it('rejects invalid retention options', () => {
    expect(() => new MemoryStreamStore({ maxMessages: 0, maxAgeMs: 0 })).toThrow(RangeError);
    expect(() => new MemoryStreamStore({ maxMessages: 1.5, maxAgeMs: 0 })).toThrow(RangeError);
    expect(() => new MemoryStreamStore({ maxMessages: 1, maxAgeMs: -1 })).toThrow(RangeError);
  });

  it('rejects a room or channel containing the key separator', async () => {
    const store = new MemoryStreamStore({ maxMessages: 10, maxAgeMs: 0 });
    await expect(store.position({ ...key, room: 'a\u0000b' })).rejects.toBeInstanceOf(ProtocolError);
    await expect(store.append({ ...key, channel: 'a\u0000b' }, envelope(), 0)).rejects.toBeInstanceOf(ProtocolError);
  });

  it('clamps a time that goes backwards so time search stays sorted', async () => {
    const store = new MemoryStreamStore({ maxMessages: 10, maxAgeMs: 0 });
    await store.append(key, envelope(), 100);
    await store.append(key, envelope(), 50);
    await store.append(key, envelope(), 120);
    const page = await store.read(key, { limit: 10 });
    expect(page.messages.map((m) => m.time)).toEqual([100, 100, 120]);
    expect((await store.read(key, { since: 100, until: 100, limit: 10 })).messages.map((m) => m.offset)).toEqual([1, 2]);
  });

  it('creates streams on first touch, drops them on remove and everything on close', async () => {
    const store = new MemoryStreamStore({ maxMessages: 10, maxAgeMs: 0 });
    await store.position(key);
    await store.read({ ...key, channel: 'c2' }, { limit: 1 });
    await store.append({ ...key, channel: 'c3' }, envelope(), 0);
    expect(store.size).toBe(3);
    await store.remove(key);
    expect(store.size).toBe(2);
    await store.close();
    expect(store.size).toBe(0);
  });

  it('forgets ids of evicted messages', async () => {
    const store = new MemoryStreamStore({ maxMessages: 2, maxAgeMs: 0 });
    const first = envelope();
    await store.append(key, first, 0);
    await store.append(key, envelope(), 0);
    await store.append(key, envelope(), 0); // evicts `first`
    expect((await store.append(key, first, 0)).offset).toBe(4);
  });

  // Cross-check the ring (growth, wrap-around, count and age eviction, offset
  // arithmetic, binary search) against a plain array model over random operations.
  it.each([1, 3, 16, 17, 40])('matches a naive model (maxMessages %i)', async (maxMessages) => {
    let seed = maxMessages * 7919;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const maxAgeMs = 200;
    const clock = new FakeClock(0);
    const store = new MemoryStreamStore({ maxMessages, maxAgeMs }, clock.read);
    let model: StoredMessage[] = [];
    let latest = 0;
    const expire = (): void => {
      model = model.filter((m) => m.time >= clock.now - maxAgeMs);
    };

    for (let step = 0; step < 600; step++) {
      clock.advance(rand(3) === 0 ? rand(60) : 0);
      if (rand(3) > 0) {
        expire();
        const env = envelope();
        await store.append(key, env, clock.now);
        model.push({ offset: ++latest, time: clock.now, envelope: env });
        if (model.length > maxMessages) model.shift();
        continue;
      }
      expire();
      const sinceOffset = rand(2) ? rand(latest + 2) : undefined;
      const since = rand(2) ? clock.now - rand(250) : undefined;
      const until = rand(2) ? clock.now - rand(150) : undefined;
      const limit = rand(maxMessages + 3);
      const page = await store.read(key, { sinceOffset, since, until, limit });
      const matched = model.filter(
        (m) =>
          (sinceOffset === undefined || m.offset > sinceOffset) &&
          (since === undefined || m.time >= since) &&
          (until === undefined || m.time <= until),
      );
      expect(page.messages).toEqual(matched.slice(0, limit));
      expect(page.hasMore).toBe(matched.length > limit);
      expect(page.latestOffset).toBe(latest);
      const earliest = model[0]?.offset ?? latest + 1;
      expect(page.earliestOffset).toBe(earliest);
      expect(page.recovered).toBe(sinceOffset === undefined || (sinceOffset <= latest && sinceOffset + 1 >= earliest));
    }
  });
});
