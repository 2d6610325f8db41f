/**
 * StreamStore on Redis Streams: history that outlives the process and is
 * shared by every node pointed at the same Redis.
 *
 * One stream per (tenant, room, channel) with two companions (meta hash,
 * dedupe set), all under one hash tag so a Redis Cluster keeps them on one
 * slot. Each operation is one Lua script (redis-stream-scripts.ts): atomic,
 * one round trip. Entry ids are the offsets (`<offset>-0`); the epoch lives in
 * the meta hash and changes when the stream's keys disappear. Keys and costs:
 * docs/operations.md#redis.
 *
 * While Redis is unreachable every call fails at once with the retryable
 * HISTORY_UNAVAILABLE instead of waiting in ioredis's offline queue, so a
 * publisher learns immediately that its event was not stored (and not delivered).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Envelope } from '../protocol/envelope.js';
import { ArqonError } from '../protocol/errors.js';
import type { Logger } from '../telemetry/logger.js';
import { connectRedis, type ConnectRedisOptions } from './redis-connection.js';
import { APPEND_LUA, POSITION_LUA, READ_LUA } from './redis-stream-scripts.js';
import {
  dedupeKey,
  type AppendBroadcast,
  type AppendResult,
  type HistoryPage,
  type HistoryQuery,
  type RetentionOptions,
  type StoredMessage,
  type StreamKey,
  type StreamPosition,
  type StreamStore,
} from './stream-store.js';

type Arg = string | number;

/** The client with the store's scripts defined on it (ioredis `defineCommand`: EVALSHA, falling back to EVAL). */
interface ScriptedRedis extends Redis {
  arqonHistoryAppend(stream: string, meta: string, ids: string, ...args: Arg[]): Promise<[string, number, number, number]>;
  arqonHistoryRead(stream: string, meta: string, ids: string, ...args: Arg[]): Promise<(string | number)[]>;
  arqonHistoryPosition(stream: string, meta: string, ids: string, ...args: Arg[]): Promise<[string, number]>;
}

export interface RedisStreamStoreOptions {
  readonly retention: RetentionOptions;
  /** Prefix of every key (`--redis-key-prefix`). */
  readonly prefix?: string;
  /** Time for age retention (ms since the epoch); injectable for tests. */
  readonly clock?: () => number;
  /** Quit the client on close() (default true). */
  readonly ownsClient?: boolean;
  /**
   * Makes the per-append resend token. Tests inject a fixed one to replay
   * exactly what ioredis re-sends after a reconnect.
   */
  readonly nonce?: () => string;
  readonly logger?: Logger;
}

export interface ConnectRedisStreamStoreOptions extends RedisStreamStoreOptions {
  /** `CLIENT SETNAME` of the store's connection (default `arqonbus:history:<random>`). */
  readonly connectionName?: string;
  readonly redis?: ConnectRedisOptions;
}

export interface RedisStreamKeys {
  readonly stream: string;
  readonly meta: string;
  readonly ids: string;
}

/**
 * The keys of one stream. Each part is URI-encoded, so `:` (the separator) and
 * `{`/`}` (hash-tag delimiters) never come from a name and no two keys collide.
 */
export function redisStreamKeys(prefix: string, { tenant, room, channel }: StreamKey): RedisStreamKeys {
  const enc = encodeURIComponent;
  const stream = `${prefix}:h:{${enc(tenant)}:${enc(room)}:${enc(channel)}}`;
  return { stream, meta: `${stream}:meta`, ids: `${stream}:ids` };
}

export class RedisStreamStore implements StreamStore {
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly maxMessages: number;
  private readonly maxAgeMs: number;
  private readonly clock: () => number;
  private readonly ownsClient: boolean;
  private readonly nonce: () => string;
  private lastError: string | undefined;
  private closed = false;
  private readonly detach: () => void;

  /** Opens its own connection (see connectRedis) and wraps it; rejects with RedisUnavailableError. */
  static async connect(url: string, options: ConnectRedisStreamStoreOptions): Promise<RedisStreamStore> {
    const name = options.connectionName ?? `arqonbus:history:${randomBytes(4).toString('hex')}`;
    const client = await connectRedis(url, name, {
      // Bounds a hung Redis (e.g. stopped, not closed): a publish fails instead of waiting for ever.
      commandTimeout: 5_000,
      ...options.redis,
    });
    return new RedisStreamStore(client, { ...options, ownsClient: options.ownsClient ?? true });
  }

  constructor(redis: Redis, options: RedisStreamStoreOptions) {
    const { maxMessages, maxAgeMs } = options.retention;
    if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new RangeError('retention.maxMessages must be an integer >= 1');
    if (!(maxAgeMs >= 0)) throw new RangeError('retention.maxAgeMs must be >= 0');
    this.maxMessages = maxMessages;
    this.maxAgeMs = maxAgeMs;
    this.prefix = options.prefix ?? 'arqon';
    this.clock = options.clock ?? Date.now;
    this.ownsClient = options.ownsClient ?? true;
    const nonceBase = randomBytes(6).toString('base64url');
    let seq = 0;
    this.nonce = options.nonce ?? (() => `${nonceBase}.${(seq++).toString(36)}`);

    redis.defineCommand('arqonHistoryAppend', { numberOfKeys: 3, lua: APPEND_LUA });
    redis.defineCommand('arqonHistoryRead', { numberOfKeys: 3, lua: READ_LUA });
    redis.defineCommand('arqonHistoryPosition', { numberOfKeys: 3, lua: POSITION_LUA });
    this.redis = redis as ScriptedRedis;

    // Log transitions only: ioredis emits close/error on every failed reconnect attempt.
    const logger = options.logger;
    let up = redis.status === 'ready';
    const listeners = {
      error: (err: Error): void => {
        this.lastError = err.message;
      },
      close: (): void => {
        if (up && !this.closed) logger?.warn('history store: Redis connection lost; publishes fail with HISTORY_UNAVAILABLE until it is back');
        up = false;
      },
      ready: (): void => {
        if (!up) logger?.info('history store: Redis connection ready');
        up = true;
        this.lastError = undefined;
      },
    };
    for (const [event, fn] of Object.entries(listeners)) redis.on(event, fn);
    // A client shared by several stores (ownsClient false) must not collect their listeners.
    this.detach = () => {
      for (const [event, fn] of Object.entries(listeners)) redis.off(event, fn);
    };
  }

  /** The connection's name in `CLIENT LIST`. */
  get connectionName(): string | undefined {
    return this.redis.options.connectionName;
  }

  /** Null while Redis is usable; otherwise why not (a /health reason). */
  healthReason(): string | null {
    const status = this.redis.status;
    if (status === 'ready') return null;
    return `history store: Redis connection ${status}${this.lastError ? ` (${this.lastError})` : ''}`;
  }

  keysOf(key: StreamKey): RedisStreamKeys {
    return redisStreamKeys(this.prefix, key);
  }

  async append(key: StreamKey, envelope: Envelope, time: number, broadcast?: AppendBroadcast): Promise<AppendResult> {
    const k = this.ready(key);
    const at = Number.isFinite(time) ? Math.floor(time) : this.clock();
    const b = broadcast ?? NO_BROADCAST;
    const [epoch, offset, duplicate, published] = await this.call(() =>
      this.redis.arqonHistoryAppend(
        k.stream, k.meta, k.ids,
        JSON.stringify(envelope), at, dedupeKey(envelope), this.nonce(),
        this.maxMessages, this.maxAgeMs, this.clock(), newEpoch(),
        b.topic, b.before, b.between, b.after,
      ),
    );
    // `published` only when it happened, so results compare equal across backends otherwise.
    return { offset, epoch, duplicate: duplicate === 1, ...(published === 1 ? { published: true } : {}) };
  }

  async read(key: StreamKey, query: HistoryQuery): Promise<HistoryPage> {
    const k = this.ready(key);
    // Stored times are whole ms, so rounding the bounds inwards keeps them exact.
    const bound = (v: number | undefined, round: (x: number) => number): Arg => (v === undefined ? '' : round(v));
    const reply = await this.call(() =>
      this.redis.arqonHistoryRead(
        k.stream, k.meta, k.ids,
        this.clock(), this.maxMessages, this.maxAgeMs, newEpoch(),
        query.sinceOffset === undefined ? '' : Math.max(0, Math.floor(query.sinceOffset) || 0),
        query.epoch ?? '',
        bound(query.since, Math.ceil), bound(query.until, Math.floor),
        Math.max(0, Math.floor(query.limit) || 0),
      ),
    );
    const messages: StoredMessage[] = [];
    for (let i = 5; i + 2 < reply.length; i += 3) {
      messages.push({ offset: reply[i] as number, time: reply[i + 1] as number, envelope: JSON.parse(reply[i + 2] as string) as Envelope });
    }
    return {
      messages,
      epoch: reply[0] as string,
      latestOffset: reply[1] as number,
      earliestOffset: reply[2] as number,
      recovered: reply[3] === 1,
      hasMore: reply[4] === 1,
    };
  }

  async position(key: StreamKey): Promise<StreamPosition> {
    const k = this.ready(key);
    const [epoch, offset] = await this.call(() => this.redis.arqonHistoryPosition(k.stream, k.meta, k.ids, newEpoch()));
    return { offset, epoch };
  }

  async remove(key: StreamKey): Promise<void> {
    const k = this.ready(key);
    await this.call(() => this.redis.del(k.stream, k.meta, k.ids));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    if (!this.ownsClient) return;
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  /** Keys for a call, or HISTORY_UNAVAILABLE at once when the connection is down (no offline queueing). */
  private ready(key: StreamKey): RedisStreamKeys {
    if (this.redis.status !== 'ready') throw unavailable();
    return this.keysOf(key);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw unavailable();
    }
  }
}

const NO_BROADCAST: AppendBroadcast = { topic: '', before: '', between: '', after: '' };

/** A candidate epoch; used only if the call finds the stream new or lost. */
function newEpoch(): string {
  return randomBytes(8).toString('hex');
}

function unavailable(): ArqonError {
  return new ArqonError('HISTORY_UNAVAILABLE', 'history store (Redis) is unreachable; retry later');
}
