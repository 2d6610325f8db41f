/** Builders for the envelopes only the server emits. */
import { ERROR_CODES } from './codes.js';
import type { ArqonError } from './errors.js';
import { newMessageId, PROTOCOL_VERSION, type Envelope, type JsonObject } from './envelope.js';

export interface Address {
  room: string | null;
  channel: string | null;
}

const NO_ADDRESS: Address = { room: null, channel: null };

export function systemEnvelope(payload: JsonObject, address: Address = NO_ADDRESS): Envelope {
  return {
    version: PROTOCOL_VERSION,
    id: newMessageId(),
    type: 'system',
    room: address.room,
    channel: address.channel,
    from: null,
    timestamp: new Date().toISOString(),
    payload,
  };
}

export function telemetryEnvelope(payload: JsonObject): Envelope {
  return { ...systemEnvelope(payload), type: 'telemetry' };
}

/**
 * The error envelope. Top-level `request_id`, `error`, `error_code` and
 * `retryable` (the v1 shape); `payload.reason` repeats the code and
 * `payload` carries the error's structured details.
 */
export function errorEnvelope(err: ArqonError, requestId: string | null, address: Address = NO_ADDRESS): Envelope {
  return {
    version: PROTOCOL_VERSION,
    id: newMessageId(),
    type: 'error',
    room: address.room,
    channel: address.channel,
    from: null,
    timestamp: new Date().toISOString(),
    request_id: requestId,
    error: err.message,
    error_code: err.code,
    retryable: ERROR_CODES[err.code].retryable,
    payload: { reason: err.code, ...err.details },
  };
}

export function commandResponse(
  requestId: string,
  command: string,
  outcome: { ok: true; result: unknown } | { ok: false; error: ArqonError },
): Envelope {
  const payload: JsonObject = outcome.ok
    ? { request_id: requestId, command, status: 'success', result: outcome.result }
    : {
        request_id: requestId,
        command,
        status: 'error',
        error: outcome.error.message,
        error_code: outcome.error.code,
        retryable: outcome.error.retryable,
        ...(outcome.error.details ? { details: outcome.error.details } : {}),
      };
  return {
    version: PROTOCOL_VERSION,
    id: newMessageId(),
    type: 'command_response',
    room: null,
    channel: null,
    from: null,
    timestamp: new Date().toISOString(),
    payload,
  };
}
