/**
 * One client connection: who it is, what it joined, and a send path that
 * enforces the slow-consumer policy and coalesces a busy connection's writes.
 * Frames are passed in already encoded, so a fan-out shares one buffer among
 * all its recipients.
 */
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../protocol/codes.js';
import type { TenantLimits } from '../config/tenants.js';
import type { Identity } from '../identity/identity.js';
import type { JsonObject } from '../protocol/envelope.js';
import { TokenBucket } from './rate-limit.js';
import { JSON_CODEC, type EdgeCodec } from './codec.js';
import { transcodeToProto } from './codec-proto.js';

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

/** The part of the transport's TCP/TLS socket (a node stream) the coalescer uses. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Write coalescing per event-loop turn. Each ws send is one write syscall
 * (header + payload in one writev), and at high message rates that syscall is
 * most of the fan-out cost. A connection's first frame of a turn is written at
 * once, so an idle connection (or a one-message fan-out) gets no added latency
 * and no added work. Its second frame in the same turn corks the socket: that
 * frame and every later one of the turn are buffered by the stream and leave in
 * one writev when the turn ends. Like centrifuge's writer, batching happens only
 * when messages are already piling up; like uWebSockets, the flush is at the end
 * of the loop iteration, here one shared setImmediate for all corked sockets.
 *
 * The end of the turn is setImmediate rather than process.nextTick so that
 * frames produced by every socket read of one poll phase (several publishers
 * under load) share the write. Buffering stays bounded: corked bytes are counted
 * in the stream's writable length, hence in ws's `bufferedAmount`, which the
 * slow-consumer check reads; and a turn only holds what that turn produced.
 * ws corks the same socket inside each send (header + payload); stream corks
 * nest by count, so its uncork leaves ours in place.
 */
class TurnCoalescer {
  /** Advances when a turn that sent anything ends; connections compare it with their last send. */
  private turn = 1;
  private flushScheduled = false;
  private corked: Corkable[] = [];
  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.turn++;
    const corked = this.corked;
    this.corked = [];
    for (const socket of corked) {
      try {
        socket.uncork();
      } catch {
        // A socket torn down mid-turn discards its buffer; the others must still be flushed.
      }
    }
  };

  /** The current turn, making sure it will end (one scheduled flush per turn, not per connection). */
  current(): number {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    return this.turn;
  }

  /** Corks `socket` until the end of the current turn. */
  hold(socket: Corkable): void {
    socket.cork();
    this.corked.push(socket);
  }
}

const coalescer = new TurnCoalescer();

/** ws keeps its socket private; without a corkable one, sends simply are not coalesced. */
function corkableOf(socket: WebSocket): Corkable | null {
  const raw = (socket as unknown as { _socket?: Partial<Corkable> | null })._socket;
  return raw != null && typeof raw.cork === 'function' && typeof raw.uncork === 'function' ? (raw as Corkable) : null;
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
  /** The wire protocol chosen at the upgrade (JSON text or binary Protobuf). */
  readonly codec: EdgeCodec;
  /** codec.binary, read once per send. */
  private readonly binary: boolean;
  private readonly maxBufferedBytes: number;
  private readonly hooks: ConnectionHooks;
  /** The socket under ws, corked while frames of one turn pile up (null: no coalescing). */
  private readonly corkable: Corkable | null;
  /** The coalescer turn of the last send, and the turn the socket was corked in (0: never). */
  private lastSendTurn = 0;
  private corkedTurn = 0;

  constructor(
    readonly socket: WebSocket,
    init: {
      connectionId: string;
      identity: Identity;
      profile: ClientProfile;
      limits: TenantLimits;
      maxBufferedBytes: number;
      hooks: ConnectionHooks;
      /** Default: the v1 JSON codec. */
      codec?: EdgeCodec;
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
    this.corkable = corkableOf(socket);
    this.codec = init.codec ?? JSON_CODEC;
    this.binary = this.codec.binary;
  }

  get isOpen(): boolean {
    return !this.closing && this.socket.readyState === 1;
  }

  /**
   * Sends pre-encoded bytes. A socket whose backlog is above the limit is a
   * slow consumer: it is disconnected and the frame is dropped for it alone.
   * Only the unsent backlog counts, not the frame being sent: one frame larger
   * than the limit (a big history page) to a socket that keeps up is not
   * slowness. The backlog stays bounded by the limit plus one frame; frames
   * held back by write coalescing count in it (see TurnCoalescer).
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
    if (this.corkable !== null) {
      const turn = coalescer.current();
      if (this.lastSendTurn !== turn) this.lastSendTurn = turn;
      else if (this.corkedTurn !== turn) {
        this.corkedTurn = turn;
        coalescer.hold(this.corkable);
      }
    }
    if (!this.binary) {
      this.socket.send(bytes, { binary: false });
      return true;
    }
    // Proto: `bytes` is JSON from a router; all proto recipients of one fan-out share one transcoding.
    // The slow-consumer check above reads bufferedAmount, i.e. the protobuf bytes actually queued.
    let frame: Buffer;
    try {
      frame = transcodeToProto(bytes);
    } catch {
      this.hooks.onDeliveryError(this);
      return false;
    }
    this.socket.send(frame, { binary: true });
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
