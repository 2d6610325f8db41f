/**
 * Wire codes shared by the server, the SDK and the docs: the single registry.
 *
 * Every `error_code` a client can receive, and every WebSocket close code the
 * server uses, is declared here and documented in docs/protocol.md (a test
 * checks that the two agree).
 */

export interface ErrorCodeInfo {
  /** One-line human description, also used as the default `error` text. */
  readonly message: string;
  /** Whether retrying the same request later can succeed. */
  readonly retryable: boolean;
}

export const ERROR_CODES = {
  INVALID_JSON: { message: 'frame is not valid JSON', retryable: false },
  INVALID_FRAME: { message: 'frame must be a JSON object sent as a text frame', retryable: false },
  INVALID_FIELD: { message: 'a field has the wrong type or an invalid value', retryable: false },
  UNKNOWN_TYPE: { message: 'unknown message type', retryable: false },
  FORBIDDEN_TYPE: { message: 'this message type may only be sent by the server', retryable: false },
  FRAME_TOO_LARGE: { message: 'frame exceeds the maximum payload size', retryable: false },
  INVALID_CHANNEL: { message: 'room or channel name is missing or invalid', retryable: false },
  CHANNEL_NOT_FOUND: { message: 'channel does not exist', retryable: false },
  CHANNEL_EXISTS: { message: 'channel already exists', retryable: false },
  NOT_A_MEMBER: { message: 'sender has not joined this channel', retryable: false },
  MISSING_TARGET: { message: 'private message has no payload.target', retryable: false },
  UNKNOWN_TARGET: { message: 'no connected client has this id', retryable: true },
  UNKNOWN_COMMAND: { message: 'unknown command', retryable: false },
  INVALID_PARAMETERS: { message: 'command parameters are invalid', retryable: false },
  RATE_LIMITED: { message: 'message rate limit exceeded; retry after payload.retry_after_ms', retryable: true },
  CHANNEL_LIMIT: { message: 'this connection has joined the maximum number of channels', retryable: false },
  PERMISSION_DENIED: { message: 'the identity is not allowed to do this', retryable: false },
  AUTH_TOKEN_MISSING: { message: 'no token: send Authorization: Bearer <jwt> or ?token=<jwt>', retryable: false },
  AUTH_TOKEN_TOO_LARGE: { message: 'token is larger than the server accepts', retryable: false },
  AUTH_TOKEN_MALFORMED: { message: 'token is not a well-formed signed JWT', retryable: false },
  AUTH_ALGORITHM_NOT_ALLOWED: { message: 'token algorithm is not allowed', retryable: false },
  AUTH_UNKNOWN_KEY: { message: 'no key matches the token (kid); a rotated JWKS URL is refetched after the cooldown', retryable: true },
  AUTH_BAD_SIGNATURE: { message: 'token signature is invalid', retryable: false },
  AUTH_TOKEN_EXPIRED: { message: 'token has expired', retryable: false },
  AUTH_TOKEN_NOT_YET_VALID: { message: 'token is not valid yet (nbf)', retryable: true },
  AUTH_WRONG_ISSUER: { message: 'token issuer is not accepted', retryable: false },
  AUTH_WRONG_AUDIENCE: { message: 'token audience is not accepted', retryable: false },
  AUTH_INVALID_CLAIMS: { message: 'token claims are missing or invalid', retryable: false },
  AUTH_TOKEN_MISMATCH: { message: 'refreshed token must have the same sub, tenant and client_type', retryable: false },
  AUTH_UNAVAILABLE: { message: 'keys could not be loaded to verify the token', retryable: true },
  TENANT_CONNECTION_LIMIT: { message: 'the tenant is at its connection limit', retryable: true },
  TELEMETRY_FORBIDDEN: { message: 'the telemetry stream is for admin and dashboard identities', retryable: false },
  HISTORY_UNAVAILABLE: { message: 'history could not be read or written', retryable: true },
  SHUTTING_DOWN: { message: 'server is shutting down', retryable: true },
  MAX_CONNECTIONS: { message: 'server is at its connection limit', retryable: true },
  NOT_FOUND: { message: 'no such HTTP endpoint or WebSocket path', retryable: false },
  METHOD_NOT_ALLOWED: { message: 'HTTP method not allowed on this endpoint', retryable: false },
  SEMANTIC_UNAVAILABLE: { message: 'semantic routing is off or its embedding model could not be loaded', retryable: false },
  SEMANTIC_OVERLOADED: { message: 'the embedding model is overloaded', retryable: true },
  ROUTE_NO_MATCH: { message: 'no agent capability matches the intent; payload.candidates lists the best ones', retryable: false },
  CASIL_POLICY_BLOCKED_SECRET: { message: 'CASIL blocked the message: it contains a probable secret', retryable: false },
  CASIL_POLICY_OVERSIZE: { message: 'CASIL blocked the message: it exceeds the size limit of its scope', retryable: false },
  CASIL_INTERNAL_ERROR: { message: 'CASIL could not inspect the message in time and blocked it (fail closed)', retryable: true },
  CASIL_POLICY_INVALID: { message: 'the CASIL policy is invalid; the one in force stays', retryable: false },
  INTERNAL_ERROR: { message: 'internal server error', retryable: true },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}

/**
 * WebSocket close codes. 1000–1015 are the RFC 6455 codes the server uses;
 * 4000–4499 mean "reconnect is expected to work", 4500–4999 mean "do not
 * reconnect without changing something" (the SDK stops retrying).
 */
export const CLOSE_CODES = {
  NORMAL: { code: 1000, reconnect: false, message: 'normal closure' },
  GOING_AWAY: { code: 1001, reconnect: true, message: 'server shutting down' },
  MESSAGE_TOO_BIG: { code: 1009, reconnect: false, message: 'frame above the hard size cap (closed by the transport)' },
  INTERNAL_ERROR: { code: 1011, reconnect: true, message: 'unexpected server condition' },
  HEARTBEAT_TIMEOUT: { code: 4001, reconnect: true, message: 'no pong or traffic for two heartbeat intervals' },
  SLOW_CONSUMER: { code: 4002, reconnect: true, message: 'outbound buffer above the slow-consumer limit' },
  TOKEN_EXPIRED: { code: 4003, reconnect: true, message: 'token expired without a refresh_token; reconnect with a fresh token' },
  FRAME_TOO_LARGE: { code: 4500, reconnect: false, message: 'frame exceeds the maximum payload size' },
  ABUSIVE_CLIENT: { code: 4501, reconnect: false, message: 'too many invalid frames' },
} as const satisfies Record<string, { code: number; reconnect: boolean; message: string }>;

export type CloseCodeName = keyof typeof CLOSE_CODES;

/** True when a client should try to reconnect after this close code. */
export function shouldReconnect(code: number): boolean {
  if (code >= 4000 && code <= 4499) return true;
  if (code >= 4500 && code <= 4999) return false;
  return code !== 1000 && code !== 1008 && code !== 1009;
}
