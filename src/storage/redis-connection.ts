/**
 * Opening a Redis connection the way every ArqonBus component wants it.
 *
 * Shared by the history store and the spine, so they behave alike when Redis
 * is slow or gone:
 * - start-up fails closed: `connectRedis` rejects with `RedisUnavailableError`
 *   if the server is not ready within `readyTimeoutMs` (default 3 s), instead
 *   of ioredis's default of retrying silently for ever;
 * - once connected, a lost connection is retried for ever with a backoff capped
 *   at 2 s, so a node recovers without a restart when Redis comes back;
 * - a command issued while disconnected fails after a couple of reconnect
 *   attempts (`maxRetriesPerRequest`), so callers can answer a retryable error
 *   instead of hanging;
 * - every connection carries a `CLIENT SETNAME` so operators (and the fault
 *   tests) can find it in `CLIENT LIST`.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Reconnect delay never exceeds this: a recovered Redis is picked up within ~2 s. */
export const MAX_RECONNECT_DELAY_MS = 2_000;
const DEFAULT_READY_TIMEOUT_MS = 3_000;

export interface ConnectRedisExtras {
  /** How long to wait for the first `ready` before giving up (ms). */
  readonly readyTimeoutMs?: number;
}

export type ConnectRedisOptions = Partial<RedisOptions> & ConnectRedisExtras;

/** Redis could not be reached at start-up. The message is meant for the operator, as is. */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';
  /** The URL with its password removed. */
  readonly url: string;

  constructor(url: string, reason: string | undefined, options?: { cause?: unknown }) {
    super(
      `Redis at ${url} is not reachable${reason ? ` (${reason})` : ''}: is Redis running? ` +
        'start it or pass --redis-optional to run on in-memory history',
      options,
    );
    this.name = 'RedisUnavailableError';
    this.url = url;
  }
}

/**
 * Redis answered at start-up but a component could not set itself up on it
 * (a command failed or timed out). The message names Redis, for the operator.
 */
export class RedisStartError extends Error {
  readonly code = 'REDIS_START_FAILED';
  /** The URL with its password removed. */
  readonly url: string;

  constructor(url: string, what: string, cause: unknown) {
    super(`Redis at ${url}: ${what} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'RedisStartError';
    this.url = url;
  }
}

/** Backoff for reconnects: grows with the attempt number, capped, never gives up (never returns null). */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS);
}

/**
 * Connects to `url` and resolves once the client is ready. `name` becomes the
 * connection name (`CLIENT SETNAME`). Rejects with `RedisUnavailableError`
 * (after disconnecting the client) when not ready within the timeout.
 */
export async function connectRedis(url: string, name: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const { readyTimeoutMs = DEFAULT_READY_TIMEOUT_MS, ...redisOptions } = options;
  const redacted = redactRedisUrl(url);
  const client = new Redis(url, {
    connectionName: name,
    retryStrategy: reconnectDelay,
    maxRetriesPerRequest: 1,
    // Each socket attempt is bounded too, so a black-holed address cannot eat the whole ready timeout.
    connectTimeout: Math.min(readyTimeoutMs, 2_000),
    lazyConnect: true,
    ...redisOptions,
  });
  let lastError: Error | undefined;
  // Always listen: without a listener ioredis prints every reconnect failure to
  // stderr. Components that care subscribe their own listener or watch `status`.
  client.on('error', (err: Error) => {
    lastError = err;
  });

  return new Promise<Redis>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      client.disconnect();
      reject(new RedisUnavailableError(redacted, lastError?.message, { cause: lastError }));
    }, readyTimeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(client);
    };
    client.once('ready', onReady);
    // connect() rejects on the first failed attempt while ioredis keeps retrying
    // in the background; the timer above decides when to give up.
    client.connect().catch((err: unknown) => {
      if (err instanceof Error) lastError = err;
    });
  });
}

/** The URL with any password replaced by `***`, safe to log. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL we can parse: hide anything that looks like credentials.
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
