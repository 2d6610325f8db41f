/** The ArqonBus client SDK: the public surface, named export by export. */
export { ArqonClient } from './client.js';
export {
  ArqonClientError,
  CLIENT_ERROR_CODES,
  isClientErrorCode,
  type ArqonClientErrorCode,
  type ArqonClientErrorInit,
  type ClientErrorCode,
} from './errors.js';
export {
  CLIENT_TYPES,
  connectUrl,
  defaultOptions,
  parseOptions,
  type ClientOptions,
  type ClientType,
  type ReconnectOptions,
  type ResolvedOptions,
} from './options.js';
export { MAX_PENDING_REQUESTS, type RequestIntent, type RequestOptions } from './request.js';
export { backoffCeiling, backoffDelay, type BackoffPolicy } from './backoff.js';
export type { TokenExpiring, TokenOption, TokenProvider, TokenRefreshed } from './token.js';
export type { WebSocketConstructor, WebSocketLike } from './transport.js';
export type { Listener } from './emitter.js';
export type {
  ChannelEvent,
  ClientEvents,
  CommandOptions,
  ConnectionState,
  ConnectionStatus,
  HistoryOptions,
  HistoryResult,
  JoinResult,
  PublishOptions,
  ResumedEvent,
  Welcome,
  WelcomeIdentity,
} from './types.js';
// Re-exported from the shared wire registry so SDK users need one import.
export { ERROR_CODES, CLOSE_CODES, isErrorCode, shouldReconnect, type ErrorCode } from '../protocol/codes.js';
export type { Envelope, JsonObject } from '../protocol/envelope.js';
