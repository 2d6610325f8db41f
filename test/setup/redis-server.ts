/**
 * Finding a Redis for the tests, or starting a throwaway one.
 *
 * Order: an explicit URL (ARQON_TEST_REDIS_URL), then the conventional local
 * Redis if it answers PING, then a `redis-server` from PATH on a free port with
 * persistence off. Used once per run by the vitest globalSetup, and by fault
 * tests that need a Redis of their own to stop and restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

export const INSTALL_HINT =
  'the Redis tests need a Redis server: set ARQON_TEST_REDIS_URL, run one on 127.0.0.1:6379, ' +
  'or install redis-server so the tests can start one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)';

export interface FoundRedis {
  readonly url: string;
  readonly source: 'env' | 'default' | 'spawned';
  /** Stops a spawned server; a no-op for one the tests did not start. */
  stop(): Promise<void>;
}

export interface FindRedisOptions {
  /** An explicit URL (ARQON_TEST_REDIS_URL); used as is, never probed. */
  readonly envUrl?: string | undefined;
  /** Probed with PING before starting a server (default redis://127.0.0.1:6379). */
  readonly defaultUrl?: string;
  /** The server binary to start (default `redis-server` from PATH). */
  readonly redisServerBin?: string;
}

export async function findOrStartRedis(options: FindRedisOptions = {}): Promise<FoundRedis> {
  const none = async (): Promise<void> => {};
  if (options.envUrl) return { url: options.envUrl, source: 'env', stop: none };
  const defaultUrl = options.defaultUrl ?? DEFAULT_TEST_REDIS_URL;
  if (await pings(defaultUrl, 500)) return { url: defaultUrl, source: 'default', stop: none };
  const server = await startRedisServer({ bin: options.redisServerBin });
  return { url: server.url, source: 'spawned', stop: () => server.stop() };
}

/** True when the server at `url` answers PING within `timeoutMs`. */
export async function pings(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface RedisServerProcess {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Stops it (SIGTERM; nothing is saved) and removes its working directory. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on `port` (a free one by default) with persistence off
 * and resolves once it answers PING. Rejects with INSTALL_HINT when the binary
 * is missing.
 */
export async function startRedisServer(opts: { bin?: string | undefined; port?: number } = {}): Promise<RedisServerProcess> {
  const port = opts.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'arqon-redis-'));
  const child = spawn(
    opts.bin ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(err.code === 'ENOENT' ? `${INSTALL_HINT} (${opts.bin ?? 'redis-server'} not found)` : `cannot start redis-server: ${err.message}`));
    });
  });
  const url = `redis://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([spawnError, waitForPing(url, 10_000)]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, process: child, stop };
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pings(url, 200)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server at ${url} did not answer PING within ${timeoutMs} ms`);
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
