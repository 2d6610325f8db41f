/** The public surface of the server package. The SDK lives at `arqonbus/client`. */
export { ArqonServer, type ServerOptions } from './edge/server.js';
export type { BusContext } from './edge/context.js';
export { parseConfig, helpText, ConfigError, type ConfigSources } from './config/parse.js';
export { CONFIG_SCHEMA, type Config, type ConfigKey } from './config/schema.js';
export { ERROR_CODES, CLOSE_CODES, isErrorCode, isRetryable, shouldReconnect, type ErrorCode } from './protocol/codes.js';
export { ArqonError, ProtocolError, ParameterError } from './protocol/errors.js';
export {
  PROTOCOL_VERSION,
  MESSAGE_TYPES,
  parseClientFrame,
  type Envelope,
  type MessageType,
  type ClientFrame,
  type JsonObject,
} from './protocol/envelope.js';
export type { StreamStore, StreamKey, StreamPosition, HistoryQuery, HistoryPage, StoredMessage, RetentionOptions } from './storage/stream-store.js';
export { MemoryStreamStore } from './storage/stream-store-memory.js';
export type { Router, RouteResult } from './router/router.js';
export { VERSION } from './version.js';
