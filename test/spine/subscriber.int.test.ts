/**
 * Subscriber against the real Redis: which subscriptions it reports live.
 * A channel is live only once Redis answered the SUBSCRIBE sent for the
 * interest it has now, not an earlier one that was withdrawn.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Subscriber } from '../../src/spine/subscriber.js';
import { connectRedis } from '../../src/storage/redis-connection.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let conn: Redis;
const errors: unknown[] = [];

beforeEach(async () => {
  redis = await testRedis();
  conn = await connectRedis(redis.url, `${redis.prefix}:sub`);
  errors.length = 0;
});
afterEach(async () => {
  conn.disconnect();
  await redis.cleanup();
});

describe('Subscriber', () => {
  it('is live once its SUBSCRIBE is answered, and no longer after remove', async () => {
    const sub = new Subscriber(conn, (e) => errors.push(e));
    const topic = `${redis.prefix}:t`;
    sub.add(topic, () => {});
    expect(sub.isLive(topic)).toBe(false);
    await sub.ready(topic);
    expect(sub.isLive(topic)).toBe(true);
    sub.remove(topic);
    expect(sub.isLive(topic)).toBe(false);
  });

  it('add → remove → add: the first SUBSCRIBE\'s answer does not make the channel live while the UNSUBSCRIBE is in flight', async () => {
    const sub = new Subscriber(conn, (e) => errors.push(e));
    const topic = `${redis.prefix}:t`;
    sub.add(topic, () => {}); // SUBSCRIBE #1
    // Answered after #1 and before the UNSUBSCRIBE and SUBSCRIBE #2 below (one connection answers in order).
    const between = conn.subscribe(`${redis.prefix}:probe`).then(() => sub.isLive(topic));
    sub.remove(topic); // UNSUBSCRIBE
    sub.add(topic, () => {}); // SUBSCRIBE #2
    expect(await between).toBe(false);
    await sub.ready(topic);
    expect(sub.isLive(topic)).toBe(true);
    expect(errors).toEqual([]);
  });
});
