/**
 * Client options: `defaultOptions()` gives every default, `parseOptions()`
 * validates the caller's options once, fills in defaults and freezes the result.
 */
import { ArqonClientError } from './errors.js';
import type { TokenOption } from './token.js';
import type { WebSocketConstructor } from './transport.js';
import type { WireProtocol } from '../protocol/proto-subprotocols.js';

export const CLIENT_TYPES = ['human', 'ai-agent', 'dashboard', 'service'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

export interface ReconnectOptions {
  /** Reconnect after an unexpected close (default true). */
  enabled: boolean;
  /** Ceiling of the first delay (default 250 ms). */
  initialDelayMs: number;
  /** Largest ceiling (default 10 000 ms). */
  maxDelayMs: number;
  /** Growth of the ceiling per attempt (default 2). */
  factor: number;
  /** 'full': wait a uniformly random time in [0, ceiling] (default); 'none': wait the ceiling. */
  jitter: 'full' | 'none';
}

export interface ClientOptions {
  /** ws:// or wss:// URL of the server. */
  url: string;
  clientType?: ClientType;
  screenName?: string;
  avatar?: string;
  personality?: string;
  /**
   * The JWT, sent as the `token` query parameter (browsers cannot set an
   * Authorization header on a WebSocket).
   *
   * - A string is used for every connect. When it expires the server closes
   *   with 4003 and the client stops there (status `closed`, code 4003):
   *   reconnecting with the same expired token could never succeed.
   * - A provider `() => string | Promise<string>` is called for every connect
   *   and reconnect, and again when the server warns `token_expiring`: the
   *   client then sends `refresh_token` so the connection lives on. If the
   *   refresh fails (an 'error' event with `details.phase: 'refresh'`), the
   *   server closes with 4003 at expiry and the client reconnects, asking the
   *   provider again. Each call is bounded by connectTimeoutMs (connects) or
   *   commandTimeoutMs (refreshes).
   */
  token?: TokenOption;
  /** Default time a command waits for its response (default 10 000 ms). */
  commandTimeoutMs?: number;
  /** Time from opening a socket to the server's welcome before the attempt is abandoned (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** `false` disables reconnecting; an object overrides single settings. */
  reconnect?: Partial<ReconnectOptions> | boolean;
  /** Consecutive failed reconnect attempts before giving up (default Infinity). */
  maxReconnectAttempts?: number;
  /**
   * Live events kept per channel while its history is being replayed after a
   * reconnect (default 1000). Beyond that they are dropped and read from
   * history instead, so memory stays bounded.
   */
  resumeBufferLimit?: number;
  /** WebSocket constructor; default `globalThis.WebSocket`, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /**
   * Wire protocol (default 'json'): 'proto' negotiates the binary subprotocol
   * `arqonbus.v1.proto` and loads protobufjs on first connect (docs/protocol.md#binary-subprotocol).
   */
  protocol?: WireProtocol;
  /** Random source in [0, 1) for the backoff jitter (default Math.random); injectable for tests. */
  random?: () => number;
}

export interface ResolvedOptions {
  readonly url: string;
  readonly clientType: ClientType | undefined;
  readonly screenName: string | undefined;
  readonly avatar: string | undefined;
  readonly personality: string | undefined;
  readonly token: TokenOption | undefined;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: Readonly<ReconnectOptions>;
  readonly maxReconnectAttempts: number;
  readonly resumeBufferLimit: number;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly protocol: WireProtocol;
  readonly random: () => number;
}

export function defaultOptions(): Omit<ResolvedOptions, 'url'> {
  return {
    clientType: undefined,
    screenName: undefined,
    avatar: undefined,
    personality: undefined,
    token: undefined,
    commandTimeoutMs: 10_000,
    connectTimeoutMs: 10_000,
    reconnect: { enabled: true, initialDelayMs: 250, maxDelayMs: 10_000, factor: 2, jitter: 'full' },
    maxReconnectAttempts: Number.POSITIVE_INFINITY,
    resumeBufferLimit: 1000,
    WebSocket: undefined,
    protocol: 'json',
    random: Math.random,
  };
}

function invalid(key: string, message: string): ArqonClientError {
  return new ArqonClientError('INVALID_OPTION', { message: `${key}: ${message}`, details: { option: key } });
}

/** Largest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

function positiveNumber(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw invalid(key, 'must be a positive number');
  return value;
}

function timerMs(key: string, value: unknown, fallback: number): number {
  const ms = positiveNumber(key, value, fallback);
  if (ms > MAX_TIMER_MS) throw invalid(key, `must be at most ${MAX_TIMER_MS}`);
  return ms;
}

function nonNegativeNumber(key: string, value: unknown, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' && value >= 0 && (Number.isFinite(value) || (allowInfinity && value === Infinity));
  if (!ok) throw invalid(key, 'must be a number >= 0');
  return value;
}

function optionalString(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(key, 'must be a non-empty string');
  return value;
}

function parseToken(value: unknown): TokenOption | undefined {
  if (typeof value === 'function') return value as TokenOption;
  if (value === undefined || (typeof value === 'string' && value.length > 0)) return value;
  throw invalid('token', 'must be a non-empty string or a function returning one');
}

function parseReconnect(value: ClientOptions['reconnect'], defaults: ReconnectOptions): Readonly<ReconnectOptions> {
  if (value === undefined || value === true) return Object.freeze({ ...defaults });
  if (value === false) return Object.freeze({ ...defaults, enabled: false });
  if (typeof value !== 'object' || value === null) throw invalid('reconnect', 'must be a boolean or an object');
  const enabled = value.enabled ?? defaults.enabled;
  if (typeof enabled !== 'boolean') throw invalid('reconnect.enabled', 'must be a boolean');
  const initialDelayMs = nonNegativeNumber('reconnect.initialDelayMs', value.initialDelayMs, defaults.initialDelayMs);
  const maxDelayMs = nonNegativeNumber('reconnect.maxDelayMs', value.maxDelayMs, defaults.maxDelayMs);
  if (maxDelayMs > MAX_TIMER_MS) throw invalid('reconnect.maxDelayMs', `must be at most ${MAX_TIMER_MS}`);
  if (maxDelayMs < initialDelayMs) throw invalid('reconnect.maxDelayMs', 'must be >= reconnect.initialDelayMs');
  const factor = value.factor ?? defaults.factor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw invalid('reconnect.factor', 'must be a number >= 1');
  }
  const jitter = value.jitter ?? defaults.jitter;
  if (jitter !== 'full' && jitter !== 'none') throw invalid('reconnect.jitter', "must be 'full' or 'none'");
  return Object.freeze({ enabled, initialDelayMs, maxDelayMs, factor, jitter });
}

/** Validates options once; errors name the offending key. The result is frozen. */
export function parseOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  const d = defaultOptions();

  if (typeof options.url !== 'string') throw invalid('url', 'must be a string');
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw invalid('url', 'must be an absolute URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw invalid('url', 'must use ws: or wss:');

  const clientType = options.clientType;
  if (clientType !== undefined && !(CLIENT_TYPES as readonly string[]).includes(clientType)) {
    throw invalid('clientType', `must be one of ${CLIENT_TYPES.join(', ')}`);
  }
  if (options.WebSocket !== undefined && typeof options.WebSocket !== 'function') {
    throw invalid('WebSocket', 'must be a WebSocket constructor');
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    throw invalid('random', 'must be a function returning a number in [0, 1)');
  }
  const protocol = options.protocol ?? d.protocol;
  if (protocol !== 'json' && protocol !== 'proto') throw invalid('protocol', "must be 'json' or 'proto'");
  const resumeBufferLimit = positiveNumber('resumeBufferLimit', options.resumeBufferLimit, d.resumeBufferLimit);
  if (!Number.isInteger(resumeBufferLimit)) throw invalid('resumeBufferLimit', 'must be an integer');

  return Object.freeze({
    url: options.url,
    clientType,
    screenName: optionalString('screenName', options.screenName),
    avatar: optionalString('avatar', options.avatar),
    personality: optionalString('personality', options.personality),
    token: parseToken(options.token),
    commandTimeoutMs: timerMs('commandTimeoutMs', options.commandTimeoutMs, d.commandTimeoutMs),
    connectTimeoutMs: timerMs('connectTimeoutMs', options.connectTimeoutMs, d.connectTimeoutMs),
    reconnect: parseReconnect(options.reconnect, d.reconnect),
    maxReconnectAttempts: nonNegativeNumber(
      'maxReconnectAttempts',
      options.maxReconnectAttempts,
      d.maxReconnectAttempts,
      true,
    ),
    resumeBufferLimit,
    WebSocket: options.WebSocket,
    protocol,
    random: options.random ?? d.random,
  });
}

/**
 * The URL a socket opens: the configured URL plus the profile query
 * parameters and `token` (by default the static token option; the client
 * passes what a token provider returned).
 */
export function connectUrl(
  options: ResolvedOptions,
  token: string | undefined = typeof options.token === 'string' ? options.token : undefined,
): string {
  const url = new URL(options.url);
  const params: ReadonlyArray<[string, string | undefined]> = [
    ['client_type', options.clientType],
    ['screen_name', options.screenName],
    ['avatar', options.avatar],
    ['personality', options.personality],
    ['token', token],
  ];
  for (const [name, value] of params) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}
