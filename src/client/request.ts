/**
 * Request/reply over semantic routing: `request()` publishes an intent event
 * (no room or channel) and settles with the first `private` message whose
 * `metadata.in_reply_to` is the intent's id and whose sender is one of the
 * agents the server's `routed` acknowledgement named (it always arrives
 * first: ids are guessable, so a reply from anyone else is an ordinary
 * private message, never the answer), or with the server's error for
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
  /** Client ids the server routed each pending request to (from its `routed` acknowledgement). */
  readonly #routedTo = new Map<string, Set<string>>();

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
    const reply = this.#pending.add(id, 'request', timeoutMs, `request ${id}`) as Promise<Envelope>;
    this.#routedTo.set(id, new Set());
    const forget = (): void => void this.#routedTo.delete(id);
    reply.then(forget, forget);
    return reply;
  }

  /**
   * Settles a request with a reply or an error addressed to it; false when the
   * message answers none. A `routed` acknowledgement only records who may
   * answer (false: the client still emits it as a system message).
   */
  settle(message: ServerMessage): boolean {
    if (message.kind === 'system') {
      const { event, request_id: requestId, recipients } = message.envelope.payload;
      const allowed = typeof requestId === 'string' ? this.#routedTo.get(requestId) : undefined;
      if (event === 'routed' && allowed !== undefined && Array.isArray(recipients)) {
        for (const r of recipients) {
          const clientId = (r as JsonObject | null)?.['client_id'];
          if (typeof clientId === 'string') allowed.add(clientId);
        }
      }
      return false;
    }
    if (message.kind === 'private') {
      const inReplyTo = message.envelope.metadata?.['in_reply_to'];
      if (typeof inReplyTo !== 'string') return false;
      const from = message.envelope.from;
      if (typeof from !== 'string' || this.#routedTo.get(inReplyTo)?.has(from) !== true) return false;
      return this.#pending.resolve(inReplyTo, message.envelope);
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
