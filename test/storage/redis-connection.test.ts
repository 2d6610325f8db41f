/** connectRedis / redactRedisUrl against the real test Redis and a dead port. */
import { describe, expect, it } from 'vitest';
import { connectRedis, reconnectDelay, redactRedisUrl, RedisUnavailableError, MAX_RECONNECT_DELAY_MS } from '../../src/storage/redis-connection.js';
import { testRedisUrl } from '../helpers/redis.js';
import { freePort } from '../setup/redis-server.js';

describe('redactRedisUrl', () => {
  it('hides the password and keeps everything else', () => {
    expect(redactRedisUrl('redis://user:s3cret@db.internal:6380/2')).toBe('redis://user:***@db.internal:6380/2');
    expect(redactRedisUrl('rediss://:s3cret@db.internal')).toBe('rediss://:***@db.internal');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url //u:s3cret@host')).not.toContain('s3cret');
  });
});

describe('reconnectDelay', () => {
  it('grows, is capped at 2 s and never gives up', () => {
    const delays = Array.from({ length: 50 }, (_, i) => reconnectDelay(i + 1));
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(Math.max(...delays)).toBe(MAX_RECONNECT_DELAY_MS);
    expect(delays.every((d) => typeof d === 'number' && d > 0)).toBe(true);
  });
});

describe('connectRedis', () => {
  it('resolves a ready client that carries its connection name', async () => {
    const name = `arqontest-conn-${process.pid}`;
    const client = await connectRedis(testRedisUrl(), name);
    try {
      expect(client.status).toBe('ready');
      expect(await client.client('GETNAME')).toBe(name);
    } finally {
      await client.quit();
    }
  });

  it('rejects with RedisUnavailableError naming the URL without its password', async () => {
    const url = `redis://app:hunter2@127.0.0.1:${await freePort()}`;
    const err = await connectRedis(url, 'arqontest-dead', { readyTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    const message = (err as Error).message;
    expect(message).not.toContain('hunter2');
    expect(message).toContain('redis://app:***@127.0.0.1:');
    expect(message).toContain('is Redis running? start it or pass --redis-optional');
    expect((err as RedisUnavailableError).code).toBe('REDIS_UNAVAILABLE');
  });
});
