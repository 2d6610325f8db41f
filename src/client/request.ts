/**
 * Request/reply over semantic routing: `request()` publishes an intent event
 * (no room or channel) and settles with the first `private` message whose
 * `metadata.in_reply_to` is the intent's id, or with the server's error for
 * that id (ROUTE_NO_MATCH, with the candidates in `details`), or TIMEOUT.
 * Agents answer with `reply()`.
 */
import type { Envelope, JsonObject } from '../protocol/envelope.js';
import { ArqonClientError } from './errors.js';
import type { ServerMessage } from './inbound.js';
import { PendingRequests } from './pending.js';

/** Text, or a pre-computed vector of the named embedding model. */
export type RequestIntent = { text: string } | { vector: number[]; model: string };

export interface RequestOptions {
  /** How long to wait for the reply (default: the client's commandTimeoutMs). */
  timeoutMs?: number;
  /** Routing mode (default `best`: one agent); with `all` or `k` the first reply wins. */
  mode?: 'best' | 'all' | 'k';
  /** Number of agents for mode `k`. */
  k?: number;
  metadata?: JsonObject;
}

/** Requests awaiting a reply at once; further ones are refused (RATE_LIMITED), so memory stays bounded. */
export const MAX_PENDING_REQUESTS = 10_000;

/** Sends a frame built around a fresh id; throws NOT_CONNECTED (ArqonClient's #sendFrame). */
export type FrameSender = (build: (id: string) => JsonObject) => string;

/** Validates a timeout the way commands do. */
export function timeoutError(timeoutMs: number): ArqonClientError | null {
  if (timeoutMs > 0 && timeoutMs < 2 ** 31) return null;
  return new ArqonClientError('INVALID_OPTION', { message: 'timeoutMs: must be a positive number', details: { option: 'timeoutMs' } });
}

export class IntentRequests {
  readonly #pending = new PendingRequests();

  get size(): number {
    return this.#pending.size;
  }

  request(send: FrameSender, intent: RequestIntent, payload: JsonObject, options: RequestOptions, defaultTimeoutMs: number): Promise<Envelope> {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    const invalid = timeoutError(timeoutMs);
    if (invalid !== null) return Promise.reject(invalid);
    if (this.#pending.size >= MAX_PENDING_REQUESTS) {
      return Promise.reject(
        new ArqonClientError('RATE_LIMITED', {
          message: `${MAX_PENDING_REQUESTS} requests are already awaiting a reply`,
          retryable: true,
          details: { max_pending_requests: MAX_PENDING_REQUESTS },
        }),
      );
    }
    const wire: JsonObject = { ...intent };
    if (options.mode !== undefined) wire['mode'] = options.mode;
    if (options.k !== undefined) wire['k'] = options.k;
    let id: string;
    try {
      id = send((id) => ({ type: 'event', id, payload: { ...payload, intent: wire }, metadata: { ...options.metadata } }));
    } catch (err) {
      return Promise.reject(err);
    }
    // Nothing can arrive before this runs: the reply is read on a later turn of the event loop.
    return this.#pending.add(id, 'request', timeoutMs, `request ${id}`) as Promise<Envelope>;
  }

  /** Settles a request with a reply or an error addressed to it; false when the message answers none. */
  settle(message: ServerMessage): boolean {
    if (message.kind === 'private') {
      const inReplyTo = message.envelope.metadata?.['in_reply_to'];
      return typeof inReplyTo === 'string' && this.#pending.resolve(inReplyTo, message.envelope);
    }
    if (message.kind === 'error') return message.requestId !== null && this.#pending.reject(message.requestId, message.error);
    return false;
  }

  /** The connection closed: no reply can come on it. */
  rejectAll(code: number, reason: string): void {
    this.#pending.rejectAll(
      (id) => new ArqonClientError('CONNECTION_CLOSED', { requestId: id, details: { request: id, close_code: code, close_reason: reason } }),
    );
  }
}

/** The private frame answering `to`: addressed to its sender, `metadata.in_reply_to` = its id. */
export function replyFrame(to: Envelope, payload: JsonObject): (id: string) => JsonObject {
  if (typeof to.from !== 'string' || to.from.length === 0 || typeof to.id !== 'string') {
    throw new ArqonClientError('INVALID_OPTION', { message: 'reply needs a received envelope with `from` and `id`', details: { option: 'to' } });
  }
  const target = to.from;
  const inReplyTo = to.id;
  return (id) => ({ type: 'private', id, payload: { ...payload, target }, metadata: { in_reply_to: inReplyTo } });
}
