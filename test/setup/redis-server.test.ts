/** The test-Redis discovery itself, fallback path included (never touching the machine's Redis). */
import { describe, expect, it } from 'vitest';
import { findOrStartRedis, freePort, INSTALL_HINT, pings } from './redis-server.js';

describe('findOrStartRedis', () => {
  it('uses an explicit URL as is', async () => {
    const found = await findOrStartRedis({ envUrl: 'redis://example.invalid:1' });
    expect(found).toMatchObject({ url: 'redis://example.invalid:1', source: 'env' });
  });

  it('starts redis-server on a free port when the default Redis does not answer, and stops it', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    expect(await pings(dead, 200)).toBe(false);
    const found = await findOrStartRedis({ defaultUrl: dead });
    try {
      expect(found.source).toBe('spawned');
      expect(found.url).not.toBe(dead);
      expect(await pings(found.url, 1_000)).toBe(true);
    } finally {
      await found.stop();
    }
    expect(await pings(found.url, 200)).toBe(false);
  });

  it('says how to install Redis when there is none to start', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const err = await findOrStartRedis({ defaultUrl: dead, redisServerBin: '/nonexistent/redis-server' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(INSTALL_HINT);
    expect((err as Error).message).toMatch(/apt-get install redis-server/);
  });
});
