/**
 * The SDK's one error class. Server-reported failures carry a code from the
 * shared registry (src/protocol/codes.ts); failures the client detects on its
 * own carry one of the client-only codes declared here.
 */
import { ERROR_CODES, isErrorCode, type ErrorCode } from '../protocol/codes.js';
import type { ErrorCodeInfo } from '../protocol/codes.js';

/** Codes only the SDK produces; they never travel on the wire. */
export const CLIENT_ERROR_CODES = {
  TIMEOUT: { message: 'no response before the timeout', retryable: true },
  NOT_CONNECTED: { message: 'the client is not connected', retryable: true },
  CONNECTION_CLOSED: { message: 'the connection closed before a response arrived', retryable: true },
  CONNECTION_FAILED: { message: 'could not open the connection', retryable: true },
  TOKEN_UNAVAILABLE: { message: 'the token provider failed or returned no token', retryable: true },
  CLIENT_CLOSED: { message: 'the client was closed', retryable: false },
  INVALID_OPTION: { message: 'a client option is invalid', retryable: false },
  PROTOCOL_ERROR: { message: 'the server sent a frame the client does not understand', retryable: false },
  UNKNOWN_SERVER_ERROR: { message: 'the server reported an error code this client does not know', retryable: false },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

/** Every code an ArqonClientError can carry. */
export type ArqonClientErrorCode = ErrorCode | ClientErrorCode;

export function isClientErrorCode(value: unknown): value is ClientErrorCode {
  return typeof value === 'string' && Object.hasOwn(CLIENT_ERROR_CODES, value);
}

export interface ArqonClientErrorInit {
  message?: string;
  /** Overrides the registry's retryable flag (the server states it per response). */
  retryable?: boolean;
  /** The id of the command or frame this error answers, when known. */
  requestId?: string | null;
  /** Structured details (the server's `details`/`payload`, or client context such as the close code). */
  details?: Readonly<Record<string, unknown>>;
}

export class ArqonClientError extends Error {
  readonly code: ArqonClientErrorCode;
  readonly retryable: boolean;
  readonly requestId: string | null;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ArqonClientErrorCode, init: ArqonClientErrorInit = {}) {
    const info: ErrorCodeInfo = isErrorCode(code) ? ERROR_CODES[code] : CLIENT_ERROR_CODES[code];
    super(init.message ?? info.message);
    this.name = 'ArqonClientError';
    this.code = code;
    this.retryable = init.retryable ?? info.retryable;
    this.requestId = init.requestId ?? null;
    this.details = init.details;
  }

  /**
   * Builds the error for a server-reported failure. A code missing from this
   * client's registry (a newer server) becomes UNKNOWN_SERVER_ERROR and keeps
   * the server's code in `details.server_code`.
   */
  static fromServer(
    errorCode: unknown,
    init: { message?: unknown; retryable?: unknown; requestId?: string | null; details?: unknown },
  ): ArqonClientError {
    const details: Record<string, unknown> = isRecord(init.details) ? { ...init.details } : {};
    let code: ArqonClientErrorCode;
    if (isErrorCode(errorCode)) {
      code = errorCode;
    } else {
      code = 'UNKNOWN_SERVER_ERROR';
      details['server_code'] = errorCode;
    }
    return new ArqonClientError(code, {
      message: typeof init.message === 'string' ? init.message : undefined,
      retryable: typeof init.retryable === 'boolean' ? init.retryable : undefined,
      requestId: init.requestId ?? null,
      details: Object.keys(details).length > 0 ? details : undefined,
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Wraps a failure of the automatic rejoin/replay of one channel, naming the channel. */
export function resumeError(err: unknown, room: string, channel: string): ArqonClientError {
  const prefix = `resume of ${room}/${channel} failed`;
  if (err instanceof ArqonClientError) {
    return new ArqonClientError(err.code, {
      message: `${prefix}: ${err.message}`,
      retryable: err.retryable,
      requestId: err.requestId,
      details: { ...err.details, room, channel },
    });
  }
  return new ArqonClientError('PROTOCOL_ERROR', { message: `${prefix}: ${String(err)}`, details: { room, channel } });
}

/** Why a pending connect() fails: the user closed the client, or the connection closed before a welcome. */
export function connectFailed(userClosed: boolean, code: number, reason: string): ArqonClientError {
  if (userClosed) return new ArqonClientError('CLIENT_CLOSED');
  return new ArqonClientError('CONNECTION_FAILED', {
    message: `connection closed (${code}${reason ? `: ${reason}` : ''})`,
    details: { close_code: code, close_reason: reason },
  });
}
