/**
 * RedisStreamStore against the real test Redis: the shared conformance suite,
 * then what only a Redis backend has (keys lost behind its back, resends,
 * physical trimming, key prefixes, outages).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArqonError } from '../../src/protocol/errors.js';
import { connectRedis } from '../../src/storage/redis-connection.js';
import { RedisStreamStore, redisStreamKeys, type RedisStreamStoreOptions } from '../../src/storage/stream-store-redis.js';
import type { StreamKey } from '../../src/storage/stream-store.js';
import { clientIds, deleteByPrefix, testRedis, type TestRedis } from '../helpers/redis.js';
import { envelope, FakeClock, streamStoreConformance } from './stream-store.conformance.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await testRedis();
  client = await connectRedis(redis.url, `${redis.prefix}:store-tests`);
});

afterAll(async () => {
  await client?.quit();
  await redis?.cleanup();
});

// One connection for the whole suite; each store is a view on it (ownsClient false).
streamStoreConformance('RedisStreamStore (conformance)', ({ retention, clock }) =>
  new RedisStreamStore(client, { retention, clock, prefix: redis.prefix, ownsClient: false }),
);

describe('RedisStreamStore', () => {
  const freshKey = (): StreamKey => ({ tenant: `t-${randomUUID()}`, room: 'lobby', channel: 'general' });
  const store = (options: Partial<RedisStreamStoreOptions> = {}): RedisStreamStore =>
    new RedisStreamStore(client, { retention: { maxMessages: 100, maxAgeMs: 0 }, prefix: redis.prefix, ownsClient: false, ...options });

  it('keeps the three keys of a stream under the prefix and one hash tag', () => {
    const keys = redisStreamKeys('pfx', { tenant: 'a:{b}', room: 'r', channel: 'c' });
    const tags = Object.values(keys).map((k) => /\{([^}]*)\}/.exec(k)?.[1]);
    expect(new Set(tags).size).toBe(1);
    expect(tags[0]).toBe('a%3A%7Bb%7D:r:c'); // separators and braces from names are encoded
    for (const k of Object.values(keys)) expect(k.startsWith('pfx:h:')).toBe(true);
  });

  it('starts a new epoch when the stream keys are deleted behind its back', async () => {
    const s = store();
    const key = freshKey();
    for (let i = 0; i < 3; i++) await s.append(key, envelope(), 1_000);
    const before = await s.position(key);
    expect(before.offset).toBe(3);

    // Everything gone (a restart without persistence, FLUSHALL): offsets restart under a new epoch.
    const k = s.keysOf(key);
    await client.del(k.stream, k.meta, k.ids);
    const after = await s.append(key, envelope(), 1_000);
    expect(after).toMatchObject({ offset: 1, duplicate: false });
    expect(after.epoch).not.toBe(before.epoch);
    const page = await s.read(key, { sinceOffset: 3, epoch: before.epoch, limit: 10 });
    expect(page).toMatchObject({ recovered: false, epoch: after.epoch, latestOffset: 1 });
  });

  it('starts a new epoch when only the entries or only the meta key vanish', async () => {
    const s = store();
    const key = freshKey();
    const k = s.keysOf(key);
    for (let i = 0; i < 2; i++) await s.append(key, envelope(), 1_000);
    const first = await s.position(key);

    await client.del(k.stream); // the meta still says offset 2
    const second = await s.position(key);
    expect(second.offset).toBe(0);
    expect(second.epoch).not.toBe(first.epoch);

    await s.append(key, envelope(), 1_000);
    await client.del(k.meta); // the entries survive, but without their epoch they cannot be trusted
    const third = await s.append(key, envelope(), 1_000);
    expect(third.offset).toBe(1);
    expect(third.epoch).not.toBe(second.epoch);
    expect(await client.xlen(k.stream)).toBe(1);
  });

  it('stores a re-sent append once and answers it as not a duplicate', async () => {
    // ioredis re-sends a command that was in flight when the connection dropped, with
    // the same arguments: the same nonce. That is the caller's own append, still to deliver.
    let nonce = 'resend-1';
    const s = store({ nonce: () => nonce });
    const key = freshKey();
    const env = envelope();
    const first = await s.append(key, env, 1_000);
    const resent = await s.append(key, env, 1_000);
    expect(resent).toEqual(first);
    expect(resent.duplicate).toBe(false);

    // A genuine republish of the same message (another call, another nonce) is a duplicate.
    nonce = 'resend-2';
    expect(await s.append(key, env, 1_000)).toEqual({ ...first, duplicate: true });
    const page = await s.read(key, { limit: 10 });
    expect(page.messages.map((m) => m.envelope.id)).toEqual([env.id]);
    expect(await client.xlen(s.keysOf(key).stream)).toBe(1);
  });

  it('publishes a broadcast in the append itself: offset and epoch filled in, once per stored message', async () => {
    const subscriber = await connectRedis(redis.url, `${redis.prefix}:broadcast-sub`);
    const got: string[] = [];
    subscriber.on('message', (_topic: string, message: string) => got.push(message));
    const topic = `${redis.prefix}:test-topic:${randomUUID()}`;
    await subscriber.subscribe(topic);
    try {
      let nonce = 'b-1';
      const s = store({ nonce: () => nonce });
      const key = freshKey();
      const broadcast = { topic, before: 'H\n{"o":', between: ',"e":"', after: '"}' };
      const env = envelope();
      const first = await s.append(key, env, 1_000, broadcast);
      expect(first).toMatchObject({ offset: 1, duplicate: false, published: true });
      const second = await s.append(key, envelope(), 1_000, broadcast);
      // ioredis' resend of the first call: its first run published already, nothing goes out again.
      expect(await s.append(key, env, 1_000, broadcast)).toEqual(first);
      nonce = 'b-2';
      const { published: _published, ...position } = first;
      expect(await s.append(key, env, 1_000, broadcast)).toEqual({ ...position, duplicate: true });
      expect(await s.append(key, envelope(), 1_000)).not.toHaveProperty('published');
      await subscriber.ping(); // every message published before this reached the subscriber first
      await client.publish(topic, 'end');
      await waitFor(() => got.includes('end'));
      expect(got).toEqual([`H\n{"o":1,"e":"${first.epoch}"}`, `H\n{"o":${second.offset},"e":"${second.epoch}"}`, 'end']);
    } finally {
      await subscriber.quit();
    }
  });

  it('trims by age with MINID and forgets the dedupe ids of expired messages', async () => {
    const clock = new FakeClock();
    const s = store({ retention: { maxMessages: 10_000, maxAgeMs: 1_000 }, clock: clock.read });
    const key = freshKey();
    const k = s.keysOf(key);
    const old = envelope();
    await s.append(key, old, clock.now);
    for (let i = 1; i < 500; i++) await s.append(key, envelope(), clock.now);
    expect(await client.xlen(k.stream)).toBe(500);

    clock.advance(2_000); // all 500 expired
    const fresh = await s.append(key, envelope(), clock.now);
    expect(fresh.offset).toBe(501);
    // MINID ~ trims whole radix-tree nodes (100 entries by default): most of the 500 go at once.
    expect(await client.xlen(k.stream)).toBeLessThanOrEqual(101);
    expect(await client.zcard(k.ids)).toBe(1);
    const page = await s.read(key, { limit: 10 });
    expect(page).toMatchObject({ earliestOffset: 501, latestOffset: 501 });
    // The expired message's id is forgotten, as in the memory store: it is stored again.
    expect(await s.append(key, old, clock.now)).toMatchObject({ offset: 502, duplicate: false });
  });

  it('trims by count with MAXLEN ~ while readers see exactly maxMessages', async () => {
    const s = store({ retention: { maxMessages: 50, maxAgeMs: 0 } });
    const key = freshKey();
    const k = s.keysOf(key);
    for (let i = 0; i < 400; i++) await s.append(key, envelope(), 1_000);
    const page = await s.read(key, { limit: 1000 });
    expect(page.messages.map((m) => m.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 351 + i));
    expect(page.earliestOffset).toBe(351);
    expect(await client.zcard(k.ids)).toBe(50);
    const len = await client.xlen(k.stream);
    expect(len).toBeGreaterThanOrEqual(50);
    expect(len).toBeLessThanOrEqual(150); // approximate: at most one extra node
  });

  it('finds time bounds by binary search over a long stream', async () => {
    const s = store({ retention: { maxMessages: 5_000, maxAgeMs: 0 } });
    const key = freshKey();
    for (let i = 0; i < 1_000; i++) await s.append(key, envelope(), 10_000 + i * 10);
    const page = await s.read(key, { since: 10_000 + 4_321, until: 10_000 + 4_400, limit: 5 });
    expect(page.messages.map((m) => m.offset)).toEqual([434, 435, 436, 437, 438]);
    expect(page.hasMore).toBe(true);
  });

  it('isolates key prefixes', async () => {
    const other = `${redis.prefix}-other`;
    const a = store();
    const b = store({ prefix: other });
    const key = freshKey();
    await a.append(key, envelope(), 1_000);
    await a.append(key, envelope(), 1_000);
    expect((await b.append(key, envelope(), 1_000)).offset).toBe(1);
    expect((await a.position(key)).epoch).not.toBe((await b.position(key)).epoch);

    // Every key b made starts with its prefix; removing them leaves a's stream intact.
    expect(await deleteByPrefix(client, `${other}:`)).toBe(3);
    expect((await a.position(key)).offset).toBe(2);
  });

  it('remove() deletes the keys and cleanup() deletes the whole prefix', async () => {
    const own = await testRedis();
    const ownClient = await own.client();
    const s = new RedisStreamStore(ownClient, { retention: { maxMessages: 10, maxAgeMs: 0 }, prefix: own.prefix, ownsClient: false });
    const key = freshKey();
    await s.append(key, envelope(), 1_000);
    await s.append({ ...key, channel: 'other' }, envelope(), 1_000);
    const k = s.keysOf(key);
    expect(await ownClient.exists(k.stream, k.meta, k.ids)).toBe(3);
    await s.remove(key);
    expect(await ownClient.exists(k.stream, k.meta, k.ids)).toBe(0);

    await own.cleanup();
    const [, left] = await client.scan('0', 'MATCH', `${own.prefix}*`, 'COUNT', 10_000);
    expect(left).toEqual([]);
  });

  it('fails at once with a retryable HISTORY_UNAVAILABLE while disconnected, and recovers', async () => {
    const own = await connectRedis(redis.url, `${redis.prefix}:outage`);
    const s = new RedisStreamStore(own, { retention: { maxMessages: 10, maxAgeMs: 0 }, prefix: redis.prefix });
    const key = freshKey();
    await s.append(key, envelope(), 1_000);
    expect(s.healthReason()).toBeNull();

    // Disconnect without reconnecting (an outage that lasts).
    const ended = new Promise((resolve) => own.once('end', resolve));
    own.disconnect(false);
    await ended;
    expect(s.healthReason()).toMatch(/history store: Redis connection/);
    const err = await s.append(key, envelope(), 1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArqonError);
    expect((err as ArqonError).code).toBe('HISTORY_UNAVAILABLE');
    expect((err as ArqonError).retryable).toBe(true);
    await expect(s.read(key, { limit: 1 })).rejects.toMatchObject({ code: 'HISTORY_UNAVAILABLE' });

    await own.connect();
    expect(s.healthReason()).toBeNull();
    expect((await s.append(key, envelope(), 1_000)).offset).toBe(2);
    // close() quits the connection it owns.
    const closed = new Promise((resolve) => own.once('end', resolve));
    await s.close();
    await closed;
    expect(own.status).toBe('end');
  });

  it('survives CLIENT KILL mid-burst: re-sent appends are stored once and not reported as duplicates', async () => {
    const name = `${redis.prefix}:killme`;
    const s = await RedisStreamStore.connect(redis.url, {
      retention: { maxMessages: 10_000, maxAgeMs: 0 },
      prefix: redis.prefix,
      connectionName: name,
    });
    const [id] = await clientIds(client, name);
    expect(id).toBeDefined();
    const key = freshKey();
    const envs = Array.from({ length: 2_000 }, () => envelope());
    const acked = new Map<string, number>();
    const failed: number[] = [];
    // The kill goes out while the burst is being executed: Redis has run some of the
    // scripts whose replies it never sends, and ioredis re-sends them after reconnecting.
    const inflight = envs.map(async (env, i) => {
      if (i === envs.length / 2) void client.client('KILL', 'ID', id!);
      try {
        const r = await s.append(key, env, 1_000);
        expect(r.duplicate).toBe(false); // each was appended once: a duplicate here would be a lost delivery
        acked.set(env.id, r.offset);
      } catch (err) {
        expect((err as ArqonError).code).toBe('HISTORY_UNAVAILABLE');
        failed.push(i);
      }
    });
    await Promise.all(inflight);
    expect(await clientIds(client, name)).not.toContain(id); // it reconnected: a new connection
    await waitFor(() => s.healthReason() === null);
    // Senders retry what failed (it may have been stored: then it is a duplicate).
    for (const i of failed) {
      const r = await s.append(key, envs[i]!, 1_000);
      acked.set(envs[i]!.id, r.offset);
    }
    const page = await s.read(key, { limit: 5_000 });
    expect(page.messages.map((m) => m.offset)).toEqual(envs.map((_, i) => i + 1));
    expect(new Set(page.messages.map((m) => m.envelope.id)).size).toBe(envs.length);
    for (const m of page.messages) expect(acked.get(m.envelope.id)).toBe(m.offset);
    await s.close();
  });
});

/** Polls a condition the code under test reaches on its own (a reconnect), bounded. */
async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
