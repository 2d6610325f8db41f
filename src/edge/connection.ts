/**
 * One client connection: who it is, what it joined, and a send path that
 * enforces the slow-consumer policy. Frames are passed in already encoded, so
 * a fan-out shares one buffer among all its recipients.
 */
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../protocol/codes.js';
import type { TenantLimits } from '../config/tenants.js';
import type { Identity } from '../identity/identity.js';
import type { JsonObject } from '../protocol/envelope.js';
import { TokenBucket } from './rate-limit.js';

export const CLIENT_TYPES = ['human', 'ai-agent', 'dashboard', 'service'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

export interface ClientProfile {
  clientType: ClientType;
  screenName: string | null;
  avatar: string | null;
  personality: string | null;
  /** Free-form metadata the client set with `set_metadata`. */
  metadata: JsonObject;
}

/** What a connection reports to the server that owns it. */
export interface ConnectionHooks {
  onSlowConsumer(conn: Connection): void;
  onDeliveryError(conn: Connection): void;
}

/** Something a connection has joined; the router owns the type. */
export interface Membership {
  readonly key: string;
}

export class Connection {
  readonly connectedAt = new Date();
  lastActivity = Date.now();
  /** Last time anything (frame or pong) arrived; the heartbeat reads it. */
  lastSeen = Date.now();
  readonly memberships = new Set<Membership>();
  private closing = false;
  private invalidFrames = 0;
  private invalidWindowStart = Date.now();

  /** Unique per connection on this node. */
  readonly connectionId: string;
  /** The address other clients use for private messages: the identity's `sub`. */
  readonly clientId: string;
  readonly tenant: string;
  /** Replaced (same sub and tenant) by `refresh_token`. */
  identity: Identity;
  profile: ClientProfile;
  readonly limits: TenantLimits;
  readonly rate: TokenBucket;
  /** The token-lifetime timer, when the identity expires. */
  expiryTimer: NodeJS.Timeout | undefined;
  private readonly maxBufferedBytes: number;
  private readonly hooks: ConnectionHooks;

  constructor(
    readonly socket: WebSocket,
    init: {
      connectionId: string;
      identity: Identity;
      profile: ClientProfile;
      limits: TenantLimits;
      maxBufferedBytes: number;
      hooks: ConnectionHooks;
    },
  ) {
    this.connectionId = init.connectionId;
    this.identity = init.identity;
    this.clientId = init.identity.sub;
    this.tenant = init.identity.tenant;
    this.profile = init.profile;
    this.limits = init.limits;
    this.rate = new TokenBucket(init.limits.rateLimitPerSecond, init.limits.rateLimitBurst, Date.now());
    this.maxBufferedBytes = init.maxBufferedBytes;
    this.hooks = init.hooks;
  }

  get isOpen(): boolean {
    return !this.closing && this.socket.readyState === 1;
  }

  /**
   * Sends pre-encoded bytes. A socket whose backlog is above the limit is a
   * slow consumer: it is disconnected and the frame is dropped for it alone.
   * Only the unsent backlog counts, not the frame being sent: one frame larger
   * than the limit (a big history page) to a socket that keeps up is not
   * slowness. The backlog stays bounded by the limit plus one frame.
   */
  send(bytes: Buffer): boolean {
    if (!this.isOpen) {
      this.hooks.onDeliveryError(this);
      return false;
    }
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.hooks.onSlowConsumer(this);
      this.close(CLOSE_CODES.SLOW_CONSUMER.code, CLOSE_CODES.SLOW_CONSUMER.message, true);
      return false;
    }
    this.socket.send(bytes, { binary: false });
    return true;
  }

  /**
   * Closes with a code. `hard` also terminates the socket shortly after, for
   * peers that will not read the close frame (slow or dead ones).
   */
  close(code: number, reason: string, hard = false): void {
    if (this.closing) return;
    this.closing = true;
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
      return;
    }
    if (hard) setTimeout(() => this.socket.terminate(), 1000).unref();
  }

  terminate(): void {
    this.closing = true;
    this.socket.terminate();
  }

  /** Counts an invalid frame; true when the connection crossed the abuse limit (per 10 s window). */
  countInvalidFrame(limit: number, now = Date.now()): boolean {
    if (now - this.invalidWindowStart > 10_000) {
      this.invalidWindowStart = now;
      this.invalidFrames = 0;
    }
    return ++this.invalidFrames > limit;
  }

  /** The public description other clients see (channel_info, presence, whoami). */
  describe(): JsonObject {
    return {
      client_id: this.clientId,
      connection_id: this.connectionId,
      client_type: this.profile.clientType,
      screen_name: this.profile.screenName,
      avatar: this.profile.avatar,
      personality: this.profile.personality,
      metadata: this.profile.metadata,
      connected_at: this.connectedAt.toISOString(),
      last_activity: new Date(this.lastActivity).toISOString(),
    };
  }
}
