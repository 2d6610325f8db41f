/**
 * A Redis for one test (or one suite): the run's shared test Redis (see
 * test/setup/redis-global.ts) with a key prefix of its own, so suites running
 * in parallel never see each other's keys, and a cleanup that deletes them.
 *
 *   const redis = await testRedis();
 *   afterAll(() => redis.cleanup());
 *   startServer({ redisUrl: redis.url, redisKeyPrefix: redis.prefix });
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { connectRedis } from '../../src/storage/redis-connection.js';
import { INSTALL_HINT } from '../setup/redis-server.js';

export interface TestRedis {
  readonly url: string;
  /** Unique per call; pass it as `redisKeyPrefix`. Every key the test makes must start with it. */
  readonly prefix: string;
  /** A client for assertions and fault injection (closed by cleanup). */
  client(): Promise<Redis>;
  /** Deletes every key under the prefix and closes the helper's client. */
  cleanup(): Promise<void>;
}

/** The run's test Redis URL, or an error saying how to get one. */
export function testRedisUrl(): string {
  const url = inject('redisUrl') || process.env['ARQON_TEST_REDIS_URL'];
  if (!url) throw new Error(inject('redisError') || INSTALL_HINT);
  return url;
}

export async function testRedis(): Promise<TestRedis> {
  const url = testRedisUrl();
  const prefix = `arqontest-${randomBytes(6).toString('hex')}`;
  let admin: Promise<Redis> | undefined;
  const client = (): Promise<Redis> => (admin ??= connectRedis(url, `${prefix}:admin`));
  return {
    url,
    prefix,
    client,
    async cleanup() {
      const redis = await client();
      admin = undefined;
      try {
        await deleteByPrefix(redis, prefix);
      } finally {
        await redis.quit();
      }
    },
  };
}

/** Deletes every key starting with `prefix` (SCAN, never KEYS, so a shared Redis is not blocked). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Ids of the connections named `name` (CLIENT KILL has no name filter, so they are found in CLIENT LIST). */
export async function clientIds(redis: Redis, name: string): Promise<string[]> {
  const list = (await redis.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /^id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
}
