/** Public data types of the SDK. Server data keeps its wire (snake_case) field names. */
import type { Envelope, JsonObject } from '../protocol/envelope.js';
import type { ArqonClientError } from './errors.js';
import type { TokenRefreshed } from './token.js';

/** Payload of the server's `system` / `welcome` message, as sent. */
export interface Welcome {
  event: 'welcome';
  /**
   * The address other clients use (private messages, `from`). Under JWT auth
   * it is the token's `sub`: the same across reconnects and shared by every
   * connection of that sub. Under `--auth none` it is new per connection.
   */
  client_id: string;
  /** Unique per connection: a reconnect (or a second connection of the same sub) gets a new one. */
  connection_id?: string;
  tenant?: string;
  /** Who the token says this is; `expires_at` (ISO 8601, server clock) is null for tokens without expiry. */
  identity?: WelcomeIdentity;
  server_version: string;
  limits: JsonObject;
  client: JsonObject;
  [key: string]: unknown;
}

export interface WelcomeIdentity {
  admin: boolean;
  anonymous: boolean;
  expires_at: string | null;
}

/** A channel event as delivered: `metadata.offset` / `metadata.epoch` locate it in the channel's stream. */
export interface ChannelEvent extends Envelope {
  type: 'event';
  room: string;
  channel: string;
}

export type ConnectionStatus =
  | { state: 'connecting' }
  /** `connectionId` (when the server sends one) changes on every reconnect; `clientId` may not (JWT `sub`). */
  | { state: 'connected'; clientId: string; connectionId?: string }
  | { state: 'reconnecting'; attempt: number; delayMs: number; code: number; reason: string }
  /** Terminal until connect() is called again. Code 4003: a static token expired (give a token provider to reconnect). */
  | { state: 'closed'; code: number; reason: string };

export type ConnectionState = ConnectionStatus['state'];

export interface ResumedEvent {
  room: string;
  channel: string;
  /** False when part of the gap could not be replayed (evicted, or the stream restarted). */
  recovered: boolean;
  /** Missed messages emitted as 'event' by this resume. */
  count: number;
}

export interface ClientEvents {
  /** Channel events (live, and replayed after a reconnect), in offset order per channel, each once. */
  event: ChannelEvent;
  private: Envelope;
  /** Intent events routed to this agent by meaning alone (no room/channel; `metadata.route`). Answer with reply(). */
  intent: Envelope;
  /** `system` messages other than the welcome (including `token_expiring`, which a token provider answers by itself). */
  system: Envelope;
  /**
   * Error envelopes that answer no pending command (e.g. a failed publish:
   * `requestId` is its id), and failures of the client's own background work:
   * a resume (`details.room`/`channel`), a token refresh (`details.phase:
   * 'refresh'`), a token provider failing on reconnect (TOKEN_UNAVAILABLE).
   */
  error: ArqonClientError;
  /** The connection's token was replaced by `refresh_token`; the connection lives on. */
  refreshed: TokenRefreshed;
  status: ConnectionStatus;
  welcome: Welcome;
  resumed: ResumedEvent;
}

export interface CommandOptions {
  /** Overrides the client's commandTimeoutMs. */
  timeoutMs?: number;
}

export interface JoinResult {
  room: string;
  channel: string;
  members: unknown[];
  /** Offset of the newest message in the channel's history. */
  offset: number;
  /** The stream's epoch. */
  epoch: string;
  [key: string]: unknown;
}

export interface PublishOptions {
  metadata?: JsonObject;
  /** Also deliver the event back to this client. */
  echo?: boolean;
}

export interface HistoryOptions {
  /** Messages with offset strictly greater than this. */
  sinceOffset?: number;
  /** The epoch `sinceOffset` was seen in. */
  epoch?: string;
  /** Inclusive lower bound on the server receive time (ISO 8601 string or Date). */
  since?: string | Date;
  /** Inclusive upper bound on the server receive time (ISO 8601 string or Date). */
  until?: string | Date;
  limit?: number;
}

export interface HistoryResult {
  /** Oldest first; each with `metadata.offset`. */
  messages: Envelope[];
  epoch: string;
  recovered: boolean;
  earliest_offset: number;
  latest_offset: number;
  has_more: boolean;
  [key: string]: unknown;
}
