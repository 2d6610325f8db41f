/**
 * Deterministic topic routing over `room:channel`: membership, presence
 * events, publish with history, and private messages. Each fan-out is
 * encoded once and the same bytes go to every recipient.
 */
import { encodeEnvelope } from '../edge/codec-json.js';
import { assertCan } from '../identity/authorize.js';
import type { Connection } from '../edge/connection.js';
import { PROTOCOL_VERSION, type Envelope, type EventFrame, type PrivateFrame } from '../protocol/envelope.js';
import { ArqonError } from '../protocol/errors.js';
import { errorEnvelope, systemEnvelope } from '../protocol/outbound.js';
import { withPosition, type AppendResult, type StreamKey, type StreamStore } from '../storage/stream-store.js';
import type { BusMetrics } from '../telemetry/metrics.js';
import type { ChannelAddress } from '../spine/channel-bus.js';
import type { RedisSpine, SpineSink } from '../spine/spine.js';
import { Channel, type ChannelRegistry } from './channels.js';
import type { ClientRegistry } from './clients.js';
import { fanout, type RouteResult, type Router } from './router.js';

export interface TopicRouterDeps {
  readonly channels: ChannelRegistry;
  readonly clients: ClientRegistry;
  readonly store: StreamStore;
  readonly metrics: BusMetrics;
  readonly clock?: () => number;
  /** Other nodes sharing Redis (--redis-url); undefined on a single node. */
  readonly spine?: RedisSpine | undefined;
  /** Counts deliveries made outside a routed frame (what the spine brings), for the telemetry stats. */
  readonly onSpineDelivered?: (delivered: number) => void;
}

export function streamKey(channel: Channel): StreamKey {
  return { tenant: channel.tenant, room: channel.room, channel: channel.name };
}

export class TopicRouter implements Router, SpineSink {
  readonly name = 'topic';
  private readonly clock: () => number;

  constructor(private readonly deps: TopicRouterDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /**
   * The spine while it is active. An inactive one (--redis-optional after
   * Redis was unreachable at start) counts as none: the node then behaves
   * exactly as without --redis-url.
   */
  private get spine(): RedisSpine | undefined {
    const spine = this.deps.spine;
    return spine?.active === true ? spine : undefined;
  }

  accepts(frame: EventFrame): boolean {
    return frame.room !== null && frame.channel !== null;
  }

  /** Looks up a channel in the sender's tenant or fails with CHANNEL_NOT_FOUND. */
  channelOf(conn: Connection, room: string, channel: string): Channel {
    const found = this.deps.channels.get(conn.tenant, room, channel);
    if (found === undefined) throw new ArqonError('CHANNEL_NOT_FOUND', `channel ${room}:${channel} does not exist`, { room, channel });
    return found;
  }

  async route(sender: Connection, frame: EventFrame): Promise<RouteResult> {
    const { room, channel: name } = frame;
    if (room === null || name === null) throw new ArqonError('INVALID_CHANNEL', 'event has no room and channel', { field: 'channel' });
    assertCan(sender.identity, 'publish', room, name);
    const channel = this.deps.channels.get(sender.tenant, room, name);
    if (channel === undefined || !channel.members.has(sender)) {
      throw new ArqonError('NOT_A_MEMBER', `join ${room}:${name} before publishing to it`, { room, channel: name });
    }
    // offset and epoch are the server's (they end the delivered metadata, see withPosition).
    const { echo, offset: _offset, epoch: _epoch, ...clientMetadata } = frame.metadata ?? {};
    const envelope: Envelope = {
      version: PROTOCOL_VERSION,
      id: frame.id,
      type: 'event',
      room: channel.room,
      channel: channel.name,
      from: sender.clientId,
      timestamp: frame.timestamp,
      payload: frame.payload,
      metadata: clientMetadata,
    };
    // With the spine, the store publishes the event as it appends it (one order on every node).
    const spine = this.spine;
    const broadcast = spine?.eventBroadcast(channel, () => JSON.stringify(withPosition(envelope, 0, '')), echo === true ? null : sender);
    let position: AppendResult;
    try {
      position = await this.deps.store.append(streamKey(channel), envelope, this.clock(), broadcast ?? undefined);
    } catch {
      throw new ArqonError('HISTORY_UNAVAILABLE', 'message could not be written to history; it was not delivered', {
        room: channel.room,
        channel: channel.name,
      });
    }
    // A republished message (same sender and id) was stored once and delivered once already;
    // a published one reaches the members (here too) through the channel's subscription.
    if (position.duplicate || position.published === true) return { router: this.name, delivered: 0 };
    // Deleted while the append was in flight: nothing is delivered (the stream is being dropped).
    if (channel.deleted) {
      throw new ArqonError('CHANNEL_NOT_FOUND', `channel ${channel.room}:${channel.name} was deleted`, { room: channel.room, channel: channel.name });
    }
    // Stored, so delivered: with the spine this node drops a channel when its last local member leaves
    // (the sender, say, while the append ran); its members now (if any) and the other nodes still get it.
    const current = this.deps.channels.get(channel.tenant, channel.room, channel.name) ?? channel;
    const bytes = encodeEnvelope(withPosition(envelope, position.offset, position.epoch));
    const delivered = fanout(bytes, current.members, echo === true ? null : sender);
    this.deps.metrics.messagesOut('event', delivered, bytes.length);
    spine?.deliveredLocally(current, position.offset);
    spine?.publish(current, bytes);
    return { router: this.name, delivered };
  }

  /** Delivers a private message to every connection of each target client in the sender's tenant. */
  sendPrivate(sender: Connection, frame: PrivateFrame): { delivered: number; unknown: string[] } {
    const recipients: Connection[] = [];
    const unknown: string[] = [];
    for (const target of frame.targets) {
      const conns = this.deps.clients.connectionsOf(sender.tenant, target);
      if (conns === undefined) unknown.push(target);
      else recipients.push(...conns);
    }
    // With the spine a target may be connected to another node: only Redis can say it is nowhere.
    const spine = this.spine;
    if (recipients.length === 0 && spine === undefined) {
      throw new ArqonError('UNKNOWN_TARGET', 'no target of this private message is connected', { unknown_targets: unknown });
    }
    const bytes = encodeEnvelope({
      version: PROTOCOL_VERSION,
      id: frame.id,
      type: 'private',
      room: frame.room,
      channel: frame.channel,
      from: sender.clientId,
      timestamp: frame.timestamp,
      payload: frame.payload,
      ...(frame.metadata ? { metadata: frame.metadata } : {}),
    });
    const delivered = fanout(bytes, recipients);
    this.deps.metrics.messagesOut('private', delivered, bytes.length);
    if (spine !== undefined) {
      this.sendRemotePrivate(spine, sender, frame, bytes, unknown, delivered);
      return { delivered, unknown: [] };
    }
    return { delivered, unknown };
  }

  /**
   * Publishes a private message to the other nodes. Targets connected neither
   * here nor on any node (PUBLISH reached no node) are reported to the sender
   * afterwards with the same UNKNOWN_TARGET error a single node answers at once.
   */
  private sendRemotePrivate(spine: RedisSpine, sender: Connection, frame: PrivateFrame, bytes: Buffer, localUnknown: string[], localDelivered: number): void {
    const report = (unknown: string[], reached: number): void => {
      if (unknown.length === 0) return;
      const err = reached === 0
        ? new ArqonError('UNKNOWN_TARGET', 'no target of this private message is connected', { unknown_targets: unknown })
        : new ArqonError('UNKNOWN_TARGET', 'some targets are not connected', { unknown_targets: unknown, delivered: reached });
      this.deps.metrics.protocolErrors.labels(err.code).inc();
      const out = encodeEnvelope(errorEnvelope(err, frame.id, { room: frame.room, channel: frame.channel }));
      if (sender.send(out)) this.deps.metrics.messagesOut('error', 1, out.length);
    };
    spine.sendPrivate(sender.tenant, frame.targets, bytes).then(
      (counts) => {
        if (counts === null) return report(localUnknown, localDelivered);
        // A target not connected here has one node subscribed per node it is connected to.
        const nowhere = localUnknown.filter((t) => (counts.get(t) ?? 0) === 0);
        const remoteNodes = localUnknown.reduce((sum, t) => sum + (counts.get(t) ?? 0), 0);
        report(nowhere, localDelivered + remoteNodes);
      },
      // Redis cannot be asked: what is not local is reported unknown (the message was not delivered there).
      () => report(localUnknown, localDelivered),
    );
  }

  /** SpineSink: a channel message from the spine (stored events, other nodes' presence); fanned out as received. */
  deliverChannel(address: ChannelAddress, bytes: Buffer, deleted: boolean, skip: Connection | null = null): void {
    const channel = this.deps.channels.get(address.tenant, address.room, address.name);
    if (channel === undefined) return;
    const delivered = fanout(bytes, channel.members, skip);
    this.deps.metrics.messagesOut(deleted ? 'system' : 'event', delivered, bytes.length);
    this.deps.onSpineDelivered?.(delivered);
    if (!deleted) return;
    // Deleted on another node (which dropped the shared history and presence): forget it here too.
    channel.deleted = true;
    for (const m of channel.members) m.memberships.delete(channel);
    channel.members.clear();
    this.deps.channels.delete(channel);
    this.deps.metrics.channels.set(this.deps.channels.size);
  }

  /** SpineSink: a private message another node published for a client connected here. */
  deliverPrivate(tenant: string, clientId: string, bytes: Buffer): void {
    const conns = this.deps.clients.connectionsOf(tenant, clientId);
    if (conns === undefined) return;
    const delivered = fanout(bytes, conns);
    this.deps.metrics.messagesOut('private', delivered, bytes.length);
    this.deps.onSpineDelivered?.(delivered);
  }

  /** Gets or creates a channel in the connection's tenant, within the tenant's channel limit. */
  ensureChannel(conn: Connection, room: string, name: string): { channel: Channel; created: boolean } {
    const { channels } = this.deps;
    const existing = channels.get(conn.tenant, room, name);
    if (existing !== undefined) return { channel: existing, created: false };
    if (channels.tenantSize(conn.tenant) >= conn.limits.maxChannels) {
      throw new ArqonError('CHANNEL_LIMIT', `tenant ${conn.tenant} already has ${conn.limits.maxChannels} channels`, {
        max_channels: conn.limits.maxChannels,
        scope: 'tenant',
      });
    }
    const result = channels.ensure(conn.tenant, room, name, conn.clientId);
    this.deps.metrics.channels.set(channels.size);
    if (result.created) this.spine?.channelCreated(result.channel);
    return result;
  }

  /**
   * Spine only: makes a channel another node created known here before a join
   * or create (so it keeps its creation data and create_channel answers
   * CHANNEL_EXISTS), and applies the tenant's channel cap across nodes to a
   * channel about to be created.
   */
  async adopt(conn: Connection, room: string, name: string): Promise<void> {
    const spine = this.spine;
    if (spine === undefined || this.deps.channels.get(conn.tenant, room, name) !== undefined) return;
    const found = await spine.findChannel(conn.tenant, room, name);
    if (found !== null) {
      if (this.deps.channels.get(conn.tenant, room, name) !== undefined) return;
      this.deps.channels.ensure(conn.tenant, room, name, found.createdBy, found.createdAt);
      this.deps.metrics.channels.set(this.deps.channels.size);
      return;
    }
    const count = await spine.channelCount(conn.tenant);
    if (count !== null && count >= conn.limits.maxChannels) {
      throw new ArqonError('CHANNEL_LIMIT', `tenant ${conn.tenant} already has ${conn.limits.maxChannels} channels`, {
        max_channels: conn.limits.maxChannels,
        scope: 'tenant',
      });
    }
  }

  /**
   * Like channelOf, but with the spine a channel that exists only on other
   * nodes is found too (as an unregistered view with no local members).
   */
  async find(conn: Connection, room: string, name: string): Promise<Channel> {
    const local = this.deps.channels.get(conn.tenant, room, name);
    const spine = this.spine;
    if (local !== undefined || spine === undefined) return local ?? this.channelOf(conn, room, name);
    const found = await spine.findChannel(conn.tenant, room, name);
    if (found === null) return this.channelOf(conn, room, name);
    return new Channel(conn.tenant, room, name, found.createdBy, found.createdAt);
  }

  /** Joins (creating the channel on first use). Returns the channel and whether the member is new. */
  join(conn: Connection, room: string, name: string): { channel: Channel; joined: boolean; created: boolean } {
    const { channel, created } = this.ensureChannel(conn, room, name);
    if (channel.members.has(conn)) return { channel, joined: false, created };
    this.presence(channel, 'member_joined', conn);
    channel.members.add(conn);
    conn.memberships.add(channel);
    this.spine?.memberJoined(channel, conn);
    return { channel, joined: true, created };
  }

  leave(conn: Connection, channel: Channel): boolean {
    if (!channel.members.delete(conn)) return false;
    conn.memberships.delete(channel);
    this.presence(channel, 'member_left', conn);
    const spine = this.spine;
    if (spine !== undefined) {
      spine.memberLeft(channel, conn);
      // The channel directory in Redis keeps it; this node holds only channels with local members.
      if (channel.members.size === 0) {
        this.deps.channels.delete(channel);
        this.deps.metrics.channels.set(this.deps.channels.size);
      }
    }
    return true;
  }

  /** Removes a connection from everything it joined, telling the other members. */
  dropConnection(conn: Connection): void {
    for (const m of conn.memberships) {
      if (m instanceof Channel) this.leave(conn, m);
    }
  }

  /** Deletes a channel: members are told, memberships and history go. */
  async deleteChannel(channel: Channel, by: Connection): Promise<number> {
    // Unregister synchronously, then drop history: an event routed meanwhile finds the channel gone
    // (route() re-checks after its append), and a join meanwhile creates a new channel and stream.
    const removed = this.deps.store.remove(streamKey(channel));
    const members = [...channel.members];
    const bytes = encodeEnvelope(
      systemEnvelope({ event: 'channel_deleted', room: channel.room, channel: channel.name, by: by.clientId }, {
        room: channel.room,
        channel: channel.name,
      }),
    );
    const told = fanout(bytes, members);
    channel.deleted = true;
    this.spine?.channelDeleted(channel, bytes);
    this.deps.metrics.messagesOut('system', told, bytes.length);
    for (const m of members) m.memberships.delete(channel);
    channel.members.clear();
    this.deps.channels.delete(channel);
    this.deps.metrics.channels.set(this.deps.channels.size);
    await removed;
    return members.length;
  }

  /** Tells a channel's other members that `conn` joined, left or changed its profile. */
  presence(channel: Channel, event: 'member_joined' | 'member_left' | 'member_updated', conn: Connection): void {
    const spine = this.spine;
    if (event === 'member_updated') spine?.memberUpdated(channel, conn);
    if (channel.members.size === 0 && spine === undefined) return;
    const bytes = encodeEnvelope(
      systemEnvelope({ event, room: channel.room, channel: channel.name, client: conn.describe() }, {
        room: channel.room,
        channel: channel.name,
      }),
    );
    this.deps.metrics.messagesOut('system', fanout(bytes, channel.members, conn), bytes.length);
    spine?.publish(channel, bytes);
  }
}
