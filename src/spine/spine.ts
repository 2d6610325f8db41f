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
import { connectRedis, redactRedisUrl, RedisStartError } from '../storage/redis-connection.js';
import type { AppendBroadcast, StreamPosition, StreamStore } from '../storage/stream-store.js';
import type { Logger } from '../telemetry/logger.js';
import { within } from './bounded.js';
import type { AgentSink } from './capabilities.js';
import type { CasilPolicySink } from './casil-policy.js';
import type { ChannelAddress } from './channel-bus.js';
import type { ChannelRecord } from './channel-directory.js';
import { SpineKeys } from './keys.js';
import { buildParts, type Parts } from './parts.js';
import { memberRef, reapNode, restateNode } from './restate.js';
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
  /** How long a spine command (or a wait on a SUBSCRIBE) may take before it fails; default SPINE_COMMAND_TIMEOUT_MS. */
  readonly commandTimeoutMs?: number;
}

export const SPINE_DISCONNECTED = 'redis spine disconnected';
/** The health reason's start while Redis is connected but does not answer (e.g. stopped with SIGSTOP). */
export const SPINE_STALLED = 'redis spine not answering';
/** As the history store's: a hung Redis fails a command after this long instead of never. */
export const SPINE_COMMAND_TIMEOUT_MS = 5_000;

export class RedisSpine {
  readonly nodeId: string;
  readonly keys: SpineKeys;
  private parts: Parts | undefined;
  private sink: SpineSink | undefined;
  private agentSink: AgentSink | undefined;
  private casilSink: CasilPolicySink | undefined;
  private reasserting: Promise<void> | undefined;
  /** This node's open connections by id: a stored event names the one to skip (its sender) by id. */
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly options: SpineOptions) {
    // A configured id was validated by the config parser (--node-id); a generated one keeps to the same characters.
    this.nodeId = options.nodeId ?? `${hostname().replace(/[^A-Za-z0-9_.@+-]/g, '-').slice(0, 50)}-${randomBytes(4).toString('hex')}`;
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

  /** The node's CASIL, which applies the policy other nodes reload; set before start(). */
  bindCasil(sink: CasilPolicySink): void {
    this.casilSink = sink;
  }

  /** True once connected; until then (or with --redis-optional after a failed start) every hook is a no-op. */
  get active(): boolean {
    return this.parts !== undefined;
  }

  /**
   * Connects and registers the node. Rejects with RedisUnavailableError when
   * Redis is not there, RedisStartError when a start-up step fails; either way
   * the spine stays inactive with no connection left open.
   */
  async start(): Promise<void> {
    const name = `${this.options.prefix}:spine:${this.nodeId}`;
    const onError = (err: unknown): void => this.options.logger.debug('spine redis command failed', { error: String(err) });
    // Bounds a hung Redis like the history store's: every caller falls back on the rejection.
    const pub = await connectRedis(this.options.url, `${name}:pub`, { commandTimeout: this.timeoutMs });
    let sub: Redis;
    try {
      sub = await connectRedis(this.options.url, `${name}:sub`);
    } catch (err) {
      pub.disconnect();
      throw err;
    }
    const parts = buildParts(pub, sub, {
      keys: this.keys, nodeId: this.nodeId, nodeTtlMs: this.options.nodeTtlMs, store: this.options.store, logger: this.options.logger, onError,
      deliverChannel: (a, m) => this.onChannelMessage(a, m),
      deliverPrivate: (t, c, b) => {
        this.sink?.deliverPrivate(t, c, b);
        this.onRemotePrivate?.(t, c, b);
      },
      reap: (dead, p) => this.reap(dead, 'dead node', p),
      resurrected: () => this.reassert(),
      agentSink: this.agentSink, casilSink: this.casilSink,
    });
    const { registry, agents, casil } = parts;
    let registered = false;
    try {
      // A previous run with this node id that died before being reaped (a restart within the TTL,
      // or a fixed --node-id) left members, counts and agents no one else will ever reap.
      await this.reap(this.nodeId, 'previous run of this node', parts);
      registered = true;
      await registry.start();
      await agents?.start();
      await casil?.start(); // before the port opens: a runtime policy another node reloaded wins over the config file's
    } catch (err) {
      // Active only once every step succeeded: a half-started spine would look connected.
      if (registered) await registry.stop().catch(onError);
      pub.disconnect();
      sub.disconnect();
      throw new RedisStartError(redactRedisUrl(this.options.url), 'the spine could not start', err);
    }
    this.parts = parts;
    // After a reconnect the commands issued while Redis was away are lost: restate this node's state.
    pub.on('ready', () => this.reassert());
    // And what other nodes announced while the subscriber was away was missed: read it again.
    sub.on('ready', () => void Promise.all([agents?.reload().catch(onError), casil?.reload()]));
    this.options.logger.info('redis spine connected', { node_id: this.nodeId, prefix: this.options.prefix });
  }

  /** The health reason while either Redis connection is down or Redis failed the last heartbeat (a stall), else null. */
  healthReason(): string | null {
    const p = this.parts;
    if (p === undefined) return null;
    if (p.pub.status !== 'ready' || p.sub.status !== 'ready') return SPINE_DISCONNECTED;
    const stalled = p.registry.stalled;
    return stalled === null ? null : `${SPINE_STALLED} (${stalled})`;
  }

  private get timeoutMs(): number {
    return this.options.commandTimeoutMs ?? SPINE_COMMAND_TIMEOUT_MS;
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
  eventBroadcast(channel: Channel, json: () => string, skip: Connection | null): AppendBroadcast | null {
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
  findChannel(tenant: string, room: string, name: string): Promise<ChannelRecord | null> {
    return this.orElse((p) => p.directory.find(tenant, room, name), null);
  }

  /** Channels of the tenant on all nodes; null when Redis cannot answer. */
  channelCount(tenant: string): Promise<number | null> {
    return this.orElse((p) => p.directory.count(tenant), null);
  }

  /** The tenant's channels on all nodes with member counts; null when Redis cannot answer. */
  listChannels(tenant: string): Promise<ChannelRecord[] | null> {
    return this.orElse((p) => p.directory.list(tenant), null);
  }

  /** Resolves once this node receives the channel's remote traffic (join answers wait for it), or after the command timeout. */
  whenReceiving(channel: Channel): Promise<void> {
    const p = this.parts;
    return p === undefined ? Promise.resolve() : within(p.channels.ready(channel), this.timeoutMs);
  }

  /** The position `join_channel` read after whenReceiving: what this node has delivered up to, for a catch-up. */
  joinedAt(channel: Channel, position: StreamPosition): void {
    this.parts?.channels.joinedAt(channel, position);
  }

  /** Members of the channel on other nodes (empty when Redis cannot answer: local members still show). */
  remoteMembers(channel: Channel): Promise<JsonObject[]> {
    return this.orElse((p) => p.presence.remoteMembers(channel.tenant, channel.room, channel.name), []);
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

  /** Resolves once private messages to this client reach this node, or after the command timeout. */
  whenAddressable(conn: Connection): Promise<void> {
    const p = this.parts;
    return p === undefined ? Promise.resolve() : within(p.privates.ready(conn.tenant, conn.clientId), this.timeoutMs);
  }

  /** Connections of the tenant on the other nodes; 0 when Redis cannot answer (the local limit still holds). */
  remoteTenantConnections(tenant: string): Promise<number> {
    return this.orElse((p) => p.counts.remote(tenant), 0);
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

  /** Shares a policy `casil_reload` applied here with every node (null: reset all to their configured one); false when the spine is off. */
  casilPolicyChanged(policy: unknown): Promise<boolean> {
    const share = this.parts?.casil;
    return share === undefined ? Promise.resolve(false) : share.publish(policy).then(() => true);
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

  /** What Redis answers, or `fallback` when the spine is off or Redis cannot answer (in time): the node then acts on local state. */
  private async orElse<T>(ask: (p: Parts) => Promise<T>, fallback: T): Promise<T> {
    const p = this.parts;
    if (p === undefined) return fallback;
    try {
      return await ask(p);
    } catch (err) {
      this.logError(err);
      return fallback;
    }
  }

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
  private async reap(dead: string, what: string, p: Parts): Promise<void> {
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
