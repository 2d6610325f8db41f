/**
 * vitest globalSetup: finds (or starts) one Redis for the whole run and hands
 * its URL to the workers through `provide` (read with test/helpers/redis.ts).
 * When no Redis can be had, the run goes on and only the Redis suites fail,
 * with a message saying how to get one.
 */
import type { TestProject } from 'vitest/node';
import { findOrStartRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test Redis; '' when none could be found or started. */
    redisUrl: string;
    /** Why there is no test Redis ('' when there is one). */
    redisError: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  try {
    const redis = await findOrStartRedis({ envUrl: process.env['ARQON_TEST_REDIS_URL'] });
    project.provide('redisUrl', redis.url);
    project.provide('redisError', '');
    return () => redis.stop();
  } catch (err) {
    project.provide('redisUrl', '');
    project.provide('redisError', err instanceof Error ? err.message : String(err));
    return undefined;
  }
}
