/**
 * The spine: what makes several ArqonBus nodes sharing one Redis behave as
 * one bus. This facade is all the router and the server see; each concern
 * lives in its own file (channel-bus, private, presence, tenant-counts,
 * node-registry). Without --redis-url no spine exists and the single-node
 * paths pay one `undefined` check.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { encodeEnvelope } from '../edge/codec-json.js';
import type { Connection } from '../edge/connection.js';
import type { JsonObject } from '../protocol/envelope.js';
import { systemEnvelope } from '../protocol/outbound.js';
import { Channel } from '../router/channels.js';
import type { ClientRegistry } from '../router/clients.js';
import { connectRedis } from '../storage/redis-connection.js';
import type { Logger } from '../telemetry/logger.js';
import { CapabilityShare, type AgentSink } from './capabilities.js';
import { ChannelBus, type ChannelAddress } from './channel-bus.js';
import { ChannelDirectory, type ChannelRecord } from './channel-directory.js';
import { SpineKeys } from './keys.js';
import { NodeRegistry } from './node-registry.js';
import { Presence, type MemberRef } from './presence.js';
import { PrivateBus } from './private.js';
import { Subscriber } from './subscriber.js';
import { TenantCounts } from './tenant-counts.js';
import type { SpineMessage } from './wire.js';

/** What the spine hands to the local router: bytes other nodes published. */
export interface SpineSink {
  /** Fans out a remote channel message to local members; `deleted`: the channel was deleted remotely. */
  deliverChannel(address: ChannelAddress, bytes: Buffer, deleted: boolean): void;
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
    const channels = new ChannelBus(pub, subscriber, this.keys, this.nodeId, (a, m) => this.onChannelMessage(a, m), onError);
    const privates = new PrivateBus(pub, subscriber, this.keys, this.nodeId, (t, c, b) => this.sink?.deliverPrivate(t, c, b));
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
    await registry.start();
    await agents?.start();
    // After a reconnect the commands issued while Redis was away are lost: restate this node's state.
    pub.on('ready', () => this.reassert());
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
    p.presence.remove(channel.tenant, channel.room, channel.name, conn.connectionId).catch(this.logError);
    if (channel.members.size === 0) p.channels.noInterest(channel);
  }

  memberUpdated(channel: Channel, conn: Connection): void {
    this.parts?.presence.put([memberRef(channel, conn)]).catch(this.logError);
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
    const { clients } = this.options;
    p.counts.set([[conn.tenant, clients.tenantConnections(conn.tenant)]]).catch(this.logError);
    if (clients.connectionsOf(conn.tenant, conn.clientId)?.size === 1) p.privates.online(conn.tenant, conn.clientId);
  }

  connectionClosed(conn: Connection): void {
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
    this.sink?.deliverChannel(address, message.bytes, message.kind === 'D');
    // Deleted elsewhere: this node's members were dropped with the channel, so is its interest.
    if (message.kind === 'D') this.parts?.channels.noInterest(address);
  }

  /** Cleans up after a dead node: its members leave (events sent on its behalf) and its counts go. */
  private async reap(dead: string): Promise<void> {
    const p = this.parts;
    if (p === undefined) return;
    const gone = await p.presence.reap(dead);
    await p.counts.reap(dead);
    await p.agents?.reap(dead);
    for (const m of gone) {
      p.channels.publish({ tenant: m.tenant, room: m.room, name: m.channel }, 'E', presenceBytes('member_left', m), dead);
    }
    this.options.logger.warn('reaped dead node', { node_id: dead, members: gone.length });
  }

  /**
   * Restates this node's presence and counts from local state (after a
   * reconnect, or after other nodes reaped it while it was cut off) and tells
   * the other nodes what changed meanwhile: members that left during the
   * outage leave, members that joined (or were reaped) join.
   */
  private reassert(): void {
    this.reasserting ??= this.doReassert()
      .catch(this.logError)
      .finally(() => {
        this.reasserting = undefined;
      });
  }

  private async doReassert(): Promise<void> {
    const p = this.parts;
    if (p === undefined) return;
    // Read what Redis holds for this node first; entries are overwritten, never removed and re-added,
    // so other nodes never see a member vanish for a moment.
    const before = await p.presence.entriesOf(this.nodeId);
    const countedBefore = await p.counts.tenantsOf(this.nodeId);
    await p.registry.beat();
    const local: MemberRef[] = [];
    const counts = new Map<string, number>(countedBefore.map((t) => [t, 0]));
    for (const conn of this.options.clients.all()) {
      counts.set(conn.tenant, (counts.get(conn.tenant) ?? 0) + 1);
      for (const m of conn.memberships) if (m instanceof Channel) local.push(memberRef(m, conn));
    }
    const id = (m: MemberRef): string => `${m.connectionId} ${m.tenant} ${m.room}:${m.channel}`;
    const was = new Set(before.map(id));
    const now = new Set(local.map(id));
    const stale = before.filter((m) => !now.has(id(m)));
    await p.presence.put(local);
    await p.presence.removeAll(stale);
    await p.counts.set(counts);
    p.agents?.reassert();
    for (const m of stale) p.channels.publish(address(m), 'E', presenceBytes('member_left', m));
    for (const m of local) if (!was.has(id(m))) p.channels.publish(address(m), 'E', presenceBytes('member_joined', m));
  }
}

function memberRef(channel: Channel, conn: Connection): MemberRef {
  return { tenant: channel.tenant, room: channel.room, channel: channel.name, connectionId: conn.connectionId, client: conn.describe() };
}

function address(m: MemberRef): ChannelAddress {
  return { tenant: m.tenant, room: m.room, name: m.channel };
}

/** The same presence envelope the TopicRouter sends for a local join or leave. */
function presenceBytes(event: 'member_joined' | 'member_left', m: MemberRef): Buffer {
  return encodeEnvelope(systemEnvelope({ event, room: m.room, channel: m.channel, client: m.client }, { room: m.room, channel: m.channel }));
}
