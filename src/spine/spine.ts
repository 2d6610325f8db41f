/**
 * The spine: what makes several ArqonBus nodes sharing one Redis behave as
 * one bus. This facade is all the router and the server see; each concern
 * lives in its own file (channel-bus, private, presence, tenant-counts,
 * node-registry, capabilities, restate). Without --redis-url no spine exists and the single-node
 * paths pay one `undefined` check.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Connection } from '../edge/connection.js';
import type { JsonObject } from '../protocol/envelope.js';
import type { Channel } from '../router/channels.js';
import type { ClientRegistry } from '../router/clients.js';
import { connectRedis } from '../storage/redis-connection.js';
import type { AppendBroadcast, StreamPosition, StreamStore } from '../storage/stream-store.js';
import type { Logger } from '../telemetry/logger.js';
import { CapabilityShare, type AgentSink } from './capabilities.js';
import { ChannelCatchUp } from './catch-up.js';
import { ChannelBus, type ChannelAddress } from './channel-bus.js';
import { ChannelDirectory, type ChannelRecord } from './channel-directory.js';
import { SpineKeys } from './keys.js';
import { NodeRegistry } from './node-registry.js';
import { Presence } from './presence.js';
import { PrivateBus } from './private.js';
import { memberRef, reapNode, restateNode } from './restate.js';
import { Subscriber } from './subscriber.js';
import { TenantCounts } from './tenant-counts.js';
import type { SpineMessage } from './wire.js';

/** What the spine hands to the local router: bytes other nodes published. */
export interface SpineSink {
  /**
   * Fans out a channel message to local members but the connection `skip`
   * (if any); `deleted`: the channel was deleted remotely.
   */
  deliverChannel(address: ChannelAddress, bytes: Buffer, deleted: boolean, skip?: Connection | null): void;
  /** Delivers a remote private message to every local connection of the client. */
  deliverPrivate(tenant: string, clientId: string, bytes: Buffer): void;
}

export interface SpineOptions {
  readonly url: string;
  readonly prefix: string;
  readonly nodeId?: string | undefined;
  readonly nodeTtlMs: number;
  readonly clients: ClientRegistry;
  readonly logger: Logger;
  /** The shared history, read to catch members up after a subscriber outage. */
  readonly store?: StreamStore | undefined;
}

export const SPINE_DISCONNECTED = 'redis spine disconnected';

interface Parts {
  readonly pub: Redis;
  readonly sub: Redis;
  readonly channels: ChannelBus;
  readonly privates: PrivateBus;
  readonly presence: Presence;
  readonly directory: ChannelDirectory;
  readonly counts: TenantCounts;
  readonly registry: NodeRegistry;
  readonly agents: CapabilityShare | undefined;
}

export class RedisSpine {
  readonly nodeId: string;
  readonly keys: SpineKeys;
  private parts: Parts | undefined;
  private sink: SpineSink | undefined;
  private agentSink: AgentSink | undefined;
  private reasserting: Promise<void> | undefined;
  /** This node's open connections by id: a stored event names the one to skip (its sender) by id. */
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly options: SpineOptions) {
    this.nodeId = options.nodeId ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
    if (/[\s]/.test(this.nodeId)) throw new Error(`node id "${this.nodeId}" must not contain whitespace`);
    this.keys = new SpineKeys(options.prefix);
  }

  /** The router that receives remote traffic; set once at composition. */
  bind(sink: SpineSink): void {
    this.sink = sink;
  }

  /** The semantic routing that shares agents' capabilities with other nodes; set before start(). */
  bindAgents(sink: AgentSink): void {
    this.agentSink = sink;
  }

  /** True once connected; until then (or with --redis-optional after a failed start) every hook is a no-op. */
  get active(): boolean {
    return this.parts !== undefined;
  }

  /** Connects (rejects with RedisUnavailableError when Redis is not there) and registers the node. */
  async start(): Promise<void> {
    const name = `${this.options.prefix}:spine:${this.nodeId}`;
    const onError = (err: unknown): void => this.options.logger.debug('spine redis command failed', { error: String(err) });
    const pub = await connectRedis(this.options.url, `${name}:pub`);
    let sub: Redis;
    try {
      sub = await connectRedis(this.options.url, `${name}:sub`);
    } catch (err) {
      pub.disconnect();
      throw err;
    }
    const subscriber = new Subscriber(sub, onError);
    const catchUp = this.options.store && new ChannelCatchUp(this.options.store, (a, m) => this.onChannelMessage(a, m), onError);
    const channels = new ChannelBus(pub, subscriber, this.keys, this.nodeId, (a, m) => this.onChannelMessage(a, m), onError, catchUp);
    const privates = new PrivateBus(pub, subscriber, this.keys, this.nodeId, (t, c, b) => {
      this.sink?.deliverPrivate(t, c, b);
      this.onRemotePrivate?.(t, c, b);
    });
    const presence = new Presence(pub, this.keys, this.nodeId);
    const counts = new TenantCounts(pub, this.keys, this.nodeId);
    const directory = new ChannelDirectory(pub, this.keys);
    const registry = new NodeRegistry(pub, this.keys, this.nodeId, this.options.nodeTtlMs, {
      reap: (dead) => this.reap(dead),
      resurrected: () => this.reassert(),
      onError,
    });
    const agents = this.agentSink && new CapabilityShare(pub, subscriber, this.keys, this.nodeId, this.agentSink, onError);
    this.parts = { pub, sub, channels, privates, presence, directory, counts, registry, agents };
    // A previous run with this node id that died before being reaped (a restart within the TTL,
    // or a fixed --node-id) left members, counts and agents no one else will ever reap.
    await this.reap(this.nodeId, 'previous run of this node');
    await registry.start();
    await agents?.start();
    // After a reconnect the commands issued while Redis was away are lost: restate this node's state.
    pub.on('ready', () => this.reassert());
    // And what other nodes announced while the subscriber was away was missed: read it again.
    sub.on('ready', () => void agents?.reload().catch(onError));
    this.options.logger.info('redis spine connected', { node_id: this.nodeId, prefix: this.options.prefix });
  }

  /** The health reason while either Redis connection is down, else null. */
  healthReason(): string | null {
    const p = this.parts;
    if (p === undefined) return null;
    return p.pub.status === 'ready' && p.sub.status === 'ready' ? null : SPINE_DISCONNECTED;
  }

  // ---- channel membership and traffic (called by the TopicRouter) ----

  memberJoined(channel: Channel, conn: Connection): void {
    const p = this.parts;
    if (p === undefined) return;
    p.presence.put([memberRef(channel, conn)]).catch(this.logError);
    if (channel.members.size === 1) p.channels.interest(channel);
  }

  memberLeft(channel: Channel, conn: Connection): void {
    const p = this.parts;
    if (p === undefined) return;
    const last = channel.members.size === 0;
    p.presence.remove(channel.tenant, channel.room, channel.name, conn.connectionId, last).catch(this.logError);
    if (last) p.channels.noInterest(channel);
  }

  memberUpdated(channel: Channel, conn: Connection): void {
    this.parts?.presence.put([memberRef(channel, conn)]).catch(this.logError);
  }

  /**
   * The broadcast the history store publishes with an event's append (every
   * node, this one included, then delivers it in offset order), or null when
   * the spine is off or this node does not receive the channel right now
   * (then the caller delivers locally and `publish`es).
   */
  eventBroadcast(channel: Channel, json: string, skip: Connection | null): AppendBroadcast | null {
    return this.parts?.channels.broadcast(channel, json, skip?.connectionId ?? null) ?? null;
  }

  /** An event was stored without a broadcast and delivered to local members here (see eventBroadcast). */
  deliveredLocally(channel: Channel, offset: number): void {
    this.parts?.channels.deliveredLocally(channel, offset);
  }

  /** Sends an encoded channel envelope (event or presence) to the other nodes with members. */
  publish(channel: Channel, bytes: Buffer): void {
    this.parts?.channels.publish(channel, 'E', bytes);
  }

  channelDeleted(channel: Channel, bytes: Buffer): void {
    const p = this.parts;
    if (p === undefined) return;
    p.channels.publish(channel, 'D', bytes);
    p.channels.noInterest(channel);
    p.presence.drop(channel.tenant, channel.room, channel.name).catch(this.logError);
    p.presence.forget(channel.tenant, channel.room, channel.name).catch(this.logError);
    p.directory.remove(channel.tenant, channel.room, channel.name).catch(this.logError);
  }

  // ---- the channel directory ----

  channelCreated(channel: Channel): void {
    this.parts?.directory.created(channel.tenant, channel.room, channel.name, channel.createdAt, channel.createdBy).catch(this.logError);
  }

  /** The channel as another node created it; null when unknown (or Redis cannot answer: the node acts alone). */
  async findChannel(tenant: string, room: string, name: string): Promise<ChannelRecord | null> {
    const p = this.parts;
    if (p === undefined) return null;
    try {
      return await p.directory.find(tenant, room, name);
    } catch (err) {
      this.logError(err);
      return null;
    }
  }

  /** Channels of the tenant on all nodes; null when Redis cannot answer. */
  async channelCount(tenant: string): Promise<number | null> {
    try {
      return (await this.parts?.directory.count(tenant)) ?? null;
    } catch (err) {
      this.logError(err);
      return null;
    }
  }

  /** The tenant's channels on all nodes with member counts; null when Redis cannot answer. */
  async listChannels(tenant: string): Promise<ChannelRecord[] | null> {
    try {
      return (await this.parts?.directory.list(tenant)) ?? null;
    } catch (err) {
      this.logError(err);
      return null;
    }
  }

  /** Resolves once this node receives the channel's remote traffic (join answers wait for it). */
  whenReceiving(channel: Channel): Promise<void> {
    return this.parts?.channels.ready(channel) ?? Promise.resolve();
  }

  /** The position `join_channel` read after whenReceiving: what this node has delivered up to, for a catch-up. */
  joinedAt(channel: Channel, position: StreamPosition): void {
    this.parts?.channels.joinedAt(channel, position);
  }

  /** Members of the channel on other nodes (empty when Redis cannot answer: local members still show). */
  async remoteMembers(channel: Channel): Promise<JsonObject[]> {
    const p = this.parts;
    if (p === undefined) return [];
    try {
      return await p.presence.remoteMembers(channel.tenant, channel.room, channel.name);
    } catch (err) {
      this.logError(err);
      return [];
    }
  }

  // ---- connections (called by the server) ----

  connectionOpened(conn: Connection): void {
    const p = this.parts;
    if (p === undefined) return;
    this.connections.set(conn.connectionId, conn);
    const { clients } = this.options;
    p.counts.set([[conn.tenant, clients.tenantConnections(conn.tenant)]]).catch(this.logError);
    if (clients.connectionsOf(conn.tenant, conn.clientId)?.size === 1) p.privates.online(conn.tenant, conn.clientId);
  }

  connectionClosed(conn: Connection): void {
    this.connections.delete(conn.connectionId);
    const p = this.parts;
    if (p === undefined) return;
    const { clients } = this.options;
    p.counts.set([[conn.tenant, clients.tenantConnections(conn.tenant)]]).catch(this.logError);
    if (clients.connectionsOf(conn.tenant, conn.clientId) === undefined) p.privates.offline(conn.tenant, conn.clientId);
  }

  /** Resolves once private messages to this client reach this node. */
  whenAddressable(conn: Connection): Promise<void> {
    return this.parts?.privates.ready(conn.tenant, conn.clientId) ?? Promise.resolve();
  }

  /** Connections of the tenant on the other nodes; 0 when Redis cannot answer (the local limit still holds). */
  async remoteTenantConnections(tenant: string): Promise<number> {
    const p = this.parts;
    if (p === undefined) return 0;
    try {
      return await p.counts.remote(tenant);
    } catch (err) {
      this.logError(err);
      return 0;
    }
  }

  /**
   * Publishes a private message to each target's client channel; resolves
   * with the targets no node received it for (null when the spine is off).
   */
  async sendPrivate(tenant: string, targets: readonly string[], bytes: Buffer): Promise<Map<string, number> | null> {
    const p = this.parts;
    if (p === undefined) return null;
    return p.privates.send(tenant, targets, bytes);
  }

  async close(): Promise<void> {
    const p = this.parts;
    if (p === undefined) return;
    this.parts = undefined;
    try {
      await p.registry.stop();
      const cleanup = p.pub.pipeline();
      cleanup.del(this.keys.nodePresence(this.nodeId));
      cleanup.del(this.keys.nodeTenants(this.nodeId));
      await cleanup.exec();
    } catch (err) {
      this.logError(err);
    }
    await Promise.allSettled([p.pub.quit(), p.sub.quit()]);
    p.pub.disconnect();
    p.sub.disconnect();
  }

  // ---- agents' capabilities (called by the semantic service) ----

  /** A local agent declared or changed its capabilities; an empty list: it has none left (or is gone). */
  agentChanged(conn: Connection, capabilities: readonly unknown[]): void {
    this.parts?.agents?.changed({ agent: conn.connectionId, node: this.nodeId, tenant: conn.tenant, client_id: conn.clientId, capabilities });
  }

  /** Other nodes' agents connected as `clientId` in `tenant`. */
  remoteAgentIdsOf(tenant: string, clientId: string): string[] {
    return this.parts?.agents?.agentIdsOf(tenant, clientId) ?? [];
  }

  /** Called with every private message another node sent to a client here (replies end forwarded requests). */
  onRemotePrivate: ((tenant: string, clientId: string, bytes: Buffer) => void) | undefined;

  /** The client id of another node's agent (for route metadata), or null. */
  remoteClientIdOf(agentId: string): string | null {
    return this.parts?.agents?.clientIdOf(agentId) ?? null;
  }

  /** Sends an intent routed here to another node's agent; false when the agent is unknown. */
  forwardToAgent(agentId: string, bytes: Buffer): boolean {
    return this.parts?.agents?.forward(agentId, bytes) ?? false;
  }

  // ---- internals ----

  private readonly logError = (err: unknown): void => {
    this.options.logger.debug('spine redis command failed', { error: String(err) });
  };

  private onChannelMessage(address: ChannelAddress, message: SpineMessage): void {
    if (message.kind === 'P') return;
    // Only the origin knows the connection to skip (the sender, unless it asked for an echo).
    const skip = message.kind === 'S' && message.origin === this.nodeId && message.skip !== null ? this.connections.get(message.skip) : undefined;
    this.sink?.deliverChannel(address, message.bytes, message.kind === 'D', skip ?? null);
    // Deleted elsewhere: this node's members were dropped with the channel, so are its interest and index entry.
    if (message.kind === 'D' && this.parts !== undefined) {
      this.parts.channels.noInterest(address);
      this.parts.presence.forget(address.tenant, address.room, address.name).catch(this.logError);
    }
  }

  /** Cleans up after a dead node (see restate.ts); `what` names it in the log. */
  private async reap(dead: string, what = 'dead node'): Promise<void> {
    const p = this.parts;
    if (p === undefined) return;
    const { members, agents } = await reapNode(p, dead);
    if (what === 'dead node' || members + agents > 0) this.options.logger.warn(`reaped ${what}`, { node_id: dead, members, agents });
  }

  /** Restates this node in Redis from its local state (after a reconnect, or after being reaped while cut off); one at a time. */
  private reassert(): void {
    const p = this.parts;
    if (p === undefined) return;
    this.reasserting ??= restateNode(p, this.nodeId, this.options.clients.all())
      .catch(this.logError)
      .finally(() => {
        this.reasserting = undefined;
      });
  }
}
