/**
 * Parses frames from the server (untrusted `unknown`) into a discriminated
 * union the client dispatches on. Frames it cannot read yield null.
 */
// Types only: src/protocol/envelope.ts imports node:crypto, which must stay out of browser bundles.
import type { Envelope, JsonObject } from '../protocol/envelope.js';
import { ArqonClientError } from './errors.js';
import type { TokenExpiring } from './token.js';
import type { ChannelEvent, Welcome, WelcomeIdentity } from './types.js';

export type ServerMessage =
  | { kind: 'welcome'; welcome: Welcome; envelope: Envelope }
  | { kind: 'system'; envelope: Envelope }
  | { kind: 'token_expiring'; expiring: TokenExpiring; envelope: Envelope }
  | { kind: 'event'; envelope: ChannelEvent }
  | { kind: 'private'; envelope: Envelope }
  | { kind: 'intent'; envelope: Envelope }
  | { kind: 'telemetry'; envelope: Envelope }
  | { kind: 'response'; requestId: string; ok: true; result: unknown }
  | { kind: 'response'; requestId: string; ok: false; error: ArqonClientError }
  | { kind: 'error'; requestId: string | null; error: ArqonClientError; envelope: Envelope };

/** A plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes and classifies one text frame. */
export function parseServerFrame(text: string): ServerMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  return parseServerMessage(raw);
}

export function parseServerMessage(raw: unknown): ServerMessage | null {
  if (!isJsonObject(raw)) return null;
  const type = raw['type'];
  const payload = isJsonObject(raw['payload']) ? raw['payload'] : {};
  const envelope = { ...raw, payload } as unknown as Envelope;

  switch (type) {
    case 'event': {
      if (typeof raw['room'] === 'string' && typeof raw['channel'] === 'string') return { kind: 'event', envelope: envelope as ChannelEvent };
      // Routed by meaning alone (no channel): an intent delivered to this agent.
      return isJsonObject(payload['intent']) ? { kind: 'intent', envelope } : null;
    }
    case 'private':
      return { kind: 'private', envelope };
    case 'telemetry':
      return { kind: 'telemetry', envelope };
    case 'system': {
      if (payload['event'] === 'welcome') {
        const welcome = parseWelcome(payload);
        return welcome === null ? null : { kind: 'welcome', welcome, envelope };
      }
      if (payload['event'] === 'token_expiring') {
        const expiresAt = payload['expires_at'];
        const expiresInMs = payload['expires_in_ms'];
        const expiring: TokenExpiring = {
          expires_at: typeof expiresAt === 'string' ? expiresAt : null,
          expires_in_ms: typeof expiresInMs === 'number' && Number.isFinite(expiresInMs) ? expiresInMs : null,
        };
        return { kind: 'token_expiring', expiring, envelope };
      }
      return { kind: 'system', envelope };
    }
    case 'command_response':
      return parseResponse(payload);
    case 'error': {
      const rid = raw['request_id'];
      const requestId = typeof rid === 'string' && rid.length > 0 ? rid : null;
      const { reason: _reason, ...details } = payload;
      const error = ArqonClientError.fromServer(raw['error_code'] ?? payload['reason'], {
        message: raw['error'],
        retryable: raw['retryable'],
        requestId,
        details: withAddress(details, raw),
      });
      return { kind: 'error', requestId, error, envelope };
    }
    default:
      return null;
  }
}

function withAddress(details: JsonObject, raw: JsonObject): JsonObject {
  const out: JsonObject = { ...details };
  if (typeof raw['room'] === 'string') out['room'] = raw['room'];
  if (typeof raw['channel'] === 'string') out['channel'] = raw['channel'];
  return out;
}

function parseWelcome(payload: JsonObject): Welcome | null {
  const clientId = payload['client_id'];
  if (typeof clientId !== 'string' || clientId.length === 0) return null;
  const welcome: Welcome = {
    ...payload,
    event: 'welcome',
    client_id: clientId,
    server_version: typeof payload['server_version'] === 'string' ? payload['server_version'] : '',
    limits: isJsonObject(payload['limits']) ? payload['limits'] : {},
    client: isJsonObject(payload['client']) ? payload['client'] : {},
  };
  // Fields of newer servers: dropped when malformed rather than passed on untyped.
  const connectionId = payload['connection_id'];
  if (typeof connectionId === 'string' && connectionId.length > 0) welcome.connection_id = connectionId;
  else delete welcome.connection_id;
  if (typeof payload['tenant'] !== 'string') delete welcome.tenant;
  const identity = parseWelcomeIdentity(payload['identity']);
  if (identity !== null) welcome.identity = identity;
  else delete welcome.identity;
  return welcome;
}

function parseWelcomeIdentity(value: unknown): WelcomeIdentity | null {
  if (!isJsonObject(value)) return null;
  const { admin, anonymous, expires_at: expiresAt } = value;
  if (typeof admin !== 'boolean' || typeof anonymous !== 'boolean') return null;
  if (expiresAt !== null && typeof expiresAt !== 'string') return null;
  return { admin, anonymous, expires_at: expiresAt };
}

function parseResponse(payload: JsonObject): ServerMessage | null {
  const requestId = payload['request_id'];
  if (typeof requestId !== 'string') return null;
  if (payload['status'] === 'success') return { kind: 'response', requestId, ok: true, result: payload['result'] };
  const error = ArqonClientError.fromServer(payload['error_code'], {
    message: payload['error'],
    retryable: payload['retryable'],
    requestId,
    details: payload['details'],
  });
  return { kind: 'response', requestId, ok: false, error };
}

/** Where a channel event sits in its stream, when the server said so. */
export interface StreamPoint {
  offset: number;
  epoch: string | undefined;
}

export function streamPoint(envelope: Envelope): StreamPoint | null {
  const metadata = envelope.metadata;
  if (!isJsonObject(metadata)) return null;
  const offset = metadata['offset'];
  if (typeof offset !== 'number' || !Number.isFinite(offset)) return null;
  const epoch = metadata['epoch'];
  return { offset, epoch: typeof epoch === 'string' ? epoch : undefined };
}
