/**
 * The one configuration schema. It gives the TypeScript type (`Config`), the
 * defaults, the CLI flag and `ARQON_*` env names, the `--help` text and the
 * table in docs/configuration.md (a test checks the docs list every option).
 */

import type { SemanticOptionsInput } from '../router/semantic/options.js';
import type { TenantOverrides } from './tenants.js';

interface OptionBase<T> {
  readonly flag: string;
  readonly env: string;
  readonly default: T;
  readonly doc: string;
}
export interface IntOption extends OptionBase<number> {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
}
export interface StringOption extends OptionBase<string> {
  readonly kind: 'string';
}
export interface OptionalStringOption extends OptionBase<string | undefined> {
  readonly kind: 'optional-string';
}
export interface OptionalIntOption extends OptionBase<number | undefined> {
  readonly kind: 'optional-int';
  readonly min: number;
  readonly max: number;
}
export interface BoolOption extends OptionBase<boolean> {
  readonly kind: 'bool';
}
export interface EnumOption<T extends string> extends OptionBase<T> {
  readonly kind: 'enum';
  readonly values: readonly T[];
}
export type Option =
  | IntOption
  | StringOption
  | OptionalStringOption
  | OptionalIntOption
  | BoolOption
  | EnumOption<string>;

const KiB = 1024;
const MiB = 1024 * KiB;

export const CONFIG_SCHEMA = {
  host: { kind: 'string', flag: 'host', env: 'ARQON_HOST', default: '127.0.0.1', doc: 'Interface to listen on.' },
  port: {
    kind: 'int', flag: 'port', env: 'ARQON_PORT', default: 9100, min: 0, max: 65535,
    doc: 'TCP port for WebSocket and HTTP; 0 picks a free port (the real one is printed).',
  },
  tlsCert: {
    kind: 'optional-string', flag: 'tls-cert', env: 'ARQON_TLS_CERT', default: undefined,
    doc: 'PEM certificate file; with --tls-key, serves wss:// and https://.',
  },
  tlsKey: {
    kind: 'optional-string', flag: 'tls-key', env: 'ARQON_TLS_KEY', default: undefined,
    doc: 'PEM private key file for --tls-cert.',
  },
  maxPayloadBytes: {
    kind: 'int', flag: 'max-payload-bytes', env: 'ARQON_MAX_PAYLOAD_BYTES', default: MiB, min: 256, max: 64 * MiB,
    doc: 'Largest accepted frame. Larger frames get FRAME_TOO_LARGE and close 4500; frames over twice this are cut by the transport (1009).',
  },
  maxConnections: {
    kind: 'int', flag: 'max-connections', env: 'ARQON_MAX_CONNECTIONS', default: 10_000, min: 1, max: 1_000_000,
    doc: 'Concurrent bus connections; further upgrades are refused with HTTP 503.',
  },
  heartbeatIntervalMs: {
    kind: 'int', flag: 'heartbeat-interval-ms', env: 'ARQON_HEARTBEAT_INTERVAL_MS', default: 25_000, min: 50, max: 600_000,
    doc: 'Server ping interval; a client silent for two intervals is closed (4001) and cleaned up.',
  },
  maxBufferedBytes: {
    kind: 'int', flag: 'max-buffered-bytes', env: 'ARQON_MAX_BUFFERED_BYTES', default: 4 * MiB, min: 16 * KiB, max: 1024 * MiB,
    doc: 'Slow-consumer limit: a client whose unsent outbound bytes exceed this is disconnected (4002).',
  },
  historyMaxMessages: {
    kind: 'int', flag: 'history-max-messages', env: 'ARQON_HISTORY_MAX_MESSAGES', default: 1000, min: 1, max: 10_000_000,
    doc: 'Messages kept per channel in history (oldest evicted first).',
  },
  historyMaxAgeMs: {
    kind: 'int', flag: 'history-max-age-ms', env: 'ARQON_HISTORY_MAX_AGE_MS', default: 86_400_000, min: 0, max: 365 * 86_400_000,
    doc: 'Age limit of history entries in ms; 0 keeps them until evicted by count.',
  },
  maxInvalidFrames: {
    kind: 'int', flag: 'max-invalid-frames', env: 'ARQON_MAX_INVALID_FRAMES', default: 50, min: 1, max: 1_000_000,
    doc: 'Invalid frames a connection may send per 10 s before it is closed as abusive (4501).',
  },
  telemetryPort: {
    kind: 'optional-int', flag: 'telemetry-port', env: 'ARQON_TELEMETRY_PORT', default: undefined, min: 0, max: 65535,
    doc: 'Serve the telemetry stream on its own port (as v1 did) instead of the /telemetry path.',
  },
  telemetryBufferSize: {
    kind: 'int', flag: 'telemetry-buffer', env: 'ARQON_TELEMETRY_BUFFER', default: 1000, min: 1, max: 1_000_000,
    doc: 'Telemetry events queued per observer before the oldest are dropped.',
  },
  shutdownTimeoutMs: {
    kind: 'int', flag: 'shutdown-timeout-ms', env: 'ARQON_SHUTDOWN_TIMEOUT_MS', default: 5000, min: 0, max: 120_000,
    doc: 'On SIGINT/SIGTERM, how long to wait for clients to close before terminating them.',
  },
  auth: {
    kind: 'enum', flag: 'auth', env: 'ARQON_AUTH', default: 'jwt', values: ['jwt', 'none'],
    doc: 'jwt: every connection needs a valid token (fail closed). none: anonymous clients in tenant "default", loopback only unless --allow-insecure.',
  },
  allowInsecure: {
    kind: 'bool', flag: 'allow-insecure', env: 'ARQON_ALLOW_INSECURE', default: false,
    doc: 'Allow --auth none on a non-loopback host.',
  },
  jwtSecret: {
    kind: 'optional-string', flag: 'jwt-secret', env: 'ARQON_JWT_SECRET', default: undefined,
    doc: 'HMAC secret (at least 32 characters) for HS256/384/512 tokens. With no key configured at all, the CLI generates a random one per run.',
  },
  jwtPublicKeyFile: {
    kind: 'optional-string', flag: 'jwt-public-key-file', env: 'ARQON_JWT_PUBLIC_KEY_FILE', default: undefined,
    doc: 'PEM public key (RSA, EC P-256/384/521 or Ed25519) verifying RS*/PS*, ES* or EdDSA tokens.',
  },
  jwtPrivateKeyFile: {
    kind: 'optional-string', flag: 'jwt-private-key-file', env: 'ARQON_JWT_PRIVATE_KEY_FILE', default: undefined,
    doc: 'PEM private key used only by `npm run token` to mint tokens for the public-key setup.',
  },
  jwksFile: {
    kind: 'optional-string', flag: 'jwks-file', env: 'ARQON_JWKS_FILE', default: undefined,
    doc: 'JSON Web Key Set file; the token header `kid` selects the key.',
  },
  jwksUrl: {
    kind: 'optional-string', flag: 'jwks-url', env: 'ARQON_JWKS_URL', default: undefined,
    doc: 'JWKS URL (http/https), cached and refetched on an unknown `kid` (key rotation).',
  },
  jwtAlgorithms: {
    kind: 'optional-string', flag: 'jwt-algorithms', env: 'ARQON_JWT_ALGORITHMS', default: undefined,
    doc: 'Comma-separated algorithm allow-list; defaults to every algorithm the configured key can verify. `none` is never accepted.',
  },
  jwtIssuer: {
    kind: 'optional-string', flag: 'jwt-issuer', env: 'ARQON_JWT_ISSUER', default: undefined,
    doc: 'Required `iss` claim.',
  },
  jwtAudience: {
    kind: 'optional-string', flag: 'jwt-audience', env: 'ARQON_JWT_AUDIENCE', default: undefined,
    doc: 'Required `aud` claim.',
  },
  jwtRequireExp: {
    kind: 'bool', flag: 'jwt-require-exp', env: 'ARQON_JWT_REQUIRE_EXP', default: true,
    doc: 'Refuse tokens without `exp` (--no-jwt-require-exp to allow them).',
  },
  jwtClockToleranceS: {
    kind: 'int', flag: 'jwt-clock-tolerance-s', env: 'ARQON_JWT_CLOCK_TOLERANCE_S', default: 5, min: 0, max: 300,
    doc: 'Seconds of clock skew tolerated on exp/nbf.',
  },
  maxTokenBytes: {
    kind: 'int', flag: 'max-token-bytes', env: 'ARQON_MAX_TOKEN_BYTES', default: 8192, min: 256, max: 65536,
    doc: 'Largest token accepted; larger ones are refused before parsing (AUTH_TOKEN_TOO_LARGE).',
  },
  tokenExpiryWarningS: {
    kind: 'int', flag: 'token-expiry-warning-s', env: 'ARQON_TOKEN_EXPIRY_WARNING_S', default: 60, min: 0, max: 3600,
    doc: 'Seconds before token expiry at which the connection gets a `token_expiring` system event.',
  },
  tenantMaxConnections: {
    kind: 'int', flag: 'tenant-max-connections', env: 'ARQON_TENANT_MAX_CONNECTIONS', default: 10_000, min: 1, max: 1_000_000,
    doc: 'Default per-tenant connection limit (upgrade refused with 503 TENANT_CONNECTION_LIMIT).',
  },
  rateLimitPerSecond: {
    kind: 'int', flag: 'rate-limit-per-second', env: 'ARQON_RATE_LIMIT_PER_SECOND', default: 1000, min: 1, max: 1_000_000,
    doc: 'Default frames per second per connection (token bucket refill rate); excess frames get RATE_LIMITED.',
  },
  rateLimitBurst: {
    kind: 'int', flag: 'rate-limit-burst', env: 'ARQON_RATE_LIMIT_BURST', default: 2000, min: 1, max: 1_000_000,
    doc: 'Default token bucket size (frames a connection may send at once).',
  },
  tenantMaxChannels: {
    kind: 'int', flag: 'tenant-max-channels', env: 'ARQON_TENANT_MAX_CHANNELS', default: 10_000, min: 1, max: 10_000_000,
    doc: 'Default number of channels a tenant may have (CHANNEL_LIMIT when creating beyond).',
  },
  maxTelemetryObservers: {
    kind: 'int', flag: 'max-telemetry-observers', env: 'ARQON_MAX_TELEMETRY_OBSERVERS', default: 64, min: 1, max: 10_000,
    doc: 'Concurrent telemetry stream observers; further ones are refused with HTTP 503 MAX_CONNECTIONS.',
  },
  jwksCooldownS: {
    kind: 'int', flag: 'jwks-cooldown-s', env: 'ARQON_JWKS_COOLDOWN_S', default: 30, min: 0, max: 3600,
    doc: 'Minimum seconds between two JWKS URL fetches (a token with an unknown kid triggers a refetch).',
  },
  maxChannelsPerConnection: {
    kind: 'int', flag: 'max-channels-per-connection', env: 'ARQON_MAX_CHANNELS_PER_CONNECTION', default: 100, min: 1, max: 100_000,
    doc: 'Default number of channels one connection may join (CHANNEL_LIMIT beyond).',
  },
  semanticModel: {
    kind: 'enum', flag: 'semantic-model', env: 'ARQON_SEMANTIC_MODEL', default: 'glove-sif', values: ['glove-sif', 'use-lite', 'off'],
    doc: 'Embedding model of semantic routing, loaded on first use: glove-sif (fast, in-process), use-lite (more accurate, in a worker process, slower start) or off.',
  },
  semanticRequestTimeoutMs: {
    kind: 'int', flag: 'semantic-request-timeout-ms', env: 'ARQON_SEMANTIC_REQUEST_TIMEOUT_MS', default: 30_000, min: 1, max: 3_600_000,
    doc: 'How long an intent delivered to an agent counts as in flight (for best-mode load balancing) without a reply carrying metadata.in_reply_to.',
  },
  casilMode: {
    kind: 'enum', flag: 'casil-mode', env: 'ARQON_CASIL_MODE', default: 'enforce', values: ['enforce', 'monitor', 'off'],
    doc: 'Server default CASIL mode (docs/casil.md): enforce applies decisions, monitor only records them, off skips inspection. Tenants and scopes may override it in the config file `casil` section.',
  },
  casilDefaultDecision: {
    kind: 'enum', flag: 'casil-default-decision', env: 'ARQON_CASIL_DEFAULT_DECISION', default: 'block', values: ['block', 'allow'],
    doc: 'What CASIL does when an inspection fails internally or exceeds its time budget: block (fail closed, CASIL_INTERNAL_ERROR) or allow.',
  },
  casilTimeBudgetMs: {
    kind: 'int', flag: 'casil-time-budget-ms', env: 'ARQON_CASIL_TIME_BUDGET_MS', default: 100, min: 1, max: 10_000,
    doc: 'Time budget of one inspection in ms; an inspection over it gets the default decision.',
  },
  casilMetadata: {
    kind: 'bool', flag: 'casil-metadata', env: 'ARQON_CASIL_METADATA', default: false,
    doc: 'Attach metadata.casil (kind, risk_level, flags, decision, reason_code) to delivered envelopes of inspected messages.',
  },
  redisUrl: {
    kind: 'optional-string', flag: 'redis-url', env: 'ARQON_REDIS_URL', default: undefined,
    doc: 'Redis URL (redis://[user:pass@]host:port[/db]); enables durable history in Redis Streams and the multi-node spine. Unset: memory only.',
  },
  redisOptional: {
    kind: 'bool', flag: 'redis-optional', env: 'ARQON_REDIS_OPTIONAL', default: false,
    doc: 'When Redis is unreachable at start, run on memory instead of refusing to start.',
  },
  redisKeyPrefix: {
    kind: 'string', flag: 'redis-key-prefix', env: 'ARQON_REDIS_KEY_PREFIX', default: 'arqon',
    doc: 'Prefix of every Redis key and pub/sub channel this deployment uses (docs/operations.md lists them).',
  },
  nodeId: {
    kind: 'optional-string', flag: 'node-id', env: 'ARQON_NODE_ID', default: undefined,
    doc: 'This node\'s id in a multi-node deployment (1-64 characters of A-Z a-z 0-9 _ . @ + -); unset: generated at start (hostname + random suffix).',
  },
  nodeTtlMs: {
    kind: 'int', flag: 'node-ttl-ms', env: 'ARQON_NODE_TTL_MS', default: 10_000, min: 1_000, max: 600_000,
    doc: 'A node that has not refreshed its heartbeat key for this long is considered dead: its presence and capabilities are removed by the other nodes. It refreshes every third of it.',
  },
  logLevel: {
    kind: 'enum', flag: 'log-level', env: 'ARQON_LOG_LEVEL', default: 'info',
    values: ['debug', 'info', 'warn', 'error', 'silent'],
    doc: 'Minimum level written to stderr.',
  },
} as const satisfies Record<string, Option>;

type Widen<T> = T extends number ? number : T extends boolean ? boolean : T extends string ? string : T;
type ValueOf<O> = O extends { kind: 'enum'; values: readonly (infer V)[] }
  ? V
  : O extends { kind: 'optional-string' }
    ? string | undefined
    : O extends { kind: 'optional-int' }
      ? number | undefined
      : O extends { default: infer D }
    ? Widen<D>
    : never;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;
export type Config = { readonly [K in ConfigKey]: ValueOf<(typeof CONFIG_SCHEMA)[K]> } & {
  /** Per-tenant limit overrides (config file or programmatic only), see tenants.ts. */
  readonly tenants: TenantOverrides;
  /** The config file's `casil` policy section, as given (undefined: built-in defaults); see src/casil. */
  readonly casil: unknown;
  /** The config file's `semantic` section (validated; undefined: defaults), see src/router/semantic/options.ts. */
  readonly semantic: SemanticOptionsInput | undefined;
};

/** Option keys with their descriptors, in schema order. */
export function configOptions(): Array<[ConfigKey, Option]> {
  return Object.entries(CONFIG_SCHEMA) as Array<[ConfigKey, Option]>;
}
