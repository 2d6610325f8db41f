/**
 * Agents' capabilities across nodes. Each node writes its agents'
 * declarations to one hash and announces every change on one channel all
 * nodes subscribe to (registrations are rare next to messages); every node
 * registers the other nodes' agents in its own semantic router, so an intent
 * is matched against every agent of the tenant wherever it arrives. A match
 * on another node's agent is forwarded on that node's agent channel, to that
 * node only. A dead node's agents are removed by its reaper.
 */
import type { Redis } from 'ioredis';
import type { SpineKeys } from './keys.js';
import type { Subscriber } from './subscriber.js';
import { decodeSpineMessage, encodeSpineMessage } from './wire.js';

/** One agent's declaration as stored and announced; `capabilities` empty: the agent is gone. */
export interface AgentRecord {
  readonly agent: string;
  readonly node: string;
  readonly tenant: string;
  readonly client_id: string;
  readonly capabilities: readonly unknown[];
}

/** What the spine needs from the node's semantic routing. */
export interface AgentSink {
  /** Registers (or, with no capabilities, removes) another node's agent in this node's router. */
  remoteAgentChanged(record: AgentRecord): void;
  /** Delivers an intent another node routed to a local agent; false when the agent is gone. */
  deliverToAgent(agentId: string, bytes: Buffer): boolean;
  /** An intent routed to a local agent of `tenant` could not be delivered: tell its sender (it was acknowledged elsewhere). */
  agentUnavailable(tenant: string, agentId: string, bytes: Buffer): void;
}

export class CapabilityShare {
  /** Other nodes' agents: where to forward a match. */
  private readonly remote = new Map<string, AgentRecord>();
  /** This node's agents, restated after a reconnect. */
  private readonly local = new Map<string, AgentRecord>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Subscriber,
    private readonly keys: SpineKeys,
    private readonly nodeId: string,
    private readonly sink: AgentSink,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Subscribes to changes and to this node's agent channel, then loads the agents already declared. */
  async start(): Promise<void> {
    this.sub.add(this.keys.capabilityChanges(), (raw) => {
      const message = decodeSpineMessage(raw);
      if (message === null || message.origin === this.nodeId) return;
      const record = parseRecord(message.bytes.toString());
      if (record !== null && record.node !== this.nodeId) this.apply(record);
    });
    this.sub.add(this.keys.nodeAgents(this.nodeId), (raw) => {
      const message = decodeSpineMessage(raw);
      if (message === null) return;
      const eol = message.bytes.indexOf(0x0a);
      if (eol < 1) return;
      // The header line: the agent id, a space, the URI-encoded tenant.
      const [agentId = '', tenant = ''] = message.bytes.toString('utf8', 0, eol).split(' ');
      const bytes = message.bytes.subarray(eol + 1);
      if (this.sink.deliverToAgent(agentId, bytes)) return;
      this.sink.agentUnavailable(decodeURIComponent(tenant), agentId, bytes);
      // Gone from here yet routable elsewhere (a stale record): withdraw it on every node.
      if (!this.local.has(agentId)) this.write({ agent: agentId, node: this.nodeId, tenant: decodeURIComponent(tenant), client_id: '', capabilities: [] });
    });
    await Promise.all([this.sub.ready(this.keys.capabilityChanges()), this.sub.ready(this.keys.nodeAgents(this.nodeId))]);
    await this.reload();
  }

  /**
   * Brings the other nodes' agents up to date from the hash: at start, and
   * after the subscriber reconnects (changes announced meanwhile were missed).
   * Unchanged agents are left alone, so their texts are not embedded again.
   */
  async reload(): Promise<void> {
    const stored = new Map<string, AgentRecord>();
    for (const raw of Object.values(await this.pub.hgetall(this.keys.capabilities()))) {
      const record = parseRecord(raw);
      if (record !== null && record.node !== this.nodeId) stored.set(record.agent, record);
    }
    for (const [agent, known] of this.remote) {
      if (!stored.has(agent)) this.apply({ ...known, capabilities: [] });
    }
    for (const record of stored.values()) {
      const known = this.remote.get(record.agent);
      if (known === undefined || JSON.stringify(known) !== JSON.stringify(record)) this.apply(record);
    }
  }

  private apply(record: AgentRecord): void {
    if (record.capabilities.length === 0) this.remote.delete(record.agent);
    else this.remote.set(record.agent, record);
    this.sink.remoteAgentChanged(record);
  }

  /** A local agent declared, changed or lost its capabilities (empty: gone). */
  changed(record: AgentRecord): void {
    if (record.capabilities.length === 0) this.local.delete(record.agent);
    else this.local.set(record.agent, record);
    this.write(record);
  }

  private write(record: AgentRecord, origin = this.nodeId): void {
    const p = this.pub.pipeline();
    if (record.capabilities.length === 0) p.hdel(this.keys.capabilities(), record.agent);
    else p.hset(this.keys.capabilities(), record.agent, JSON.stringify(record));
    p.publish(this.keys.capabilityChanges(), encodeSpineMessage('E', origin, Buffer.from(JSON.stringify(record))));
    p.exec().catch(this.onError);
  }

  clientIdOf(agentId: string): string | null {
    return this.remote.get(agentId)?.client_id ?? null;
  }

  /** Other nodes' agents connected as `clientId` (a scan of the remote agents, run only for replies to forwarded intents). */
  agentIdsOf(tenant: string, clientId: string): string[] {
    const ids: string[] = [];
    for (const r of this.remote.values()) if (r.tenant === tenant && r.client_id === clientId) ids.push(r.agent);
    return ids;
  }

  /**
   * Forwards an intent's bytes to the node of a remote agent; false when the
   * agent is not known. When that node cannot deliver it, it tells the sender
   * (ROUTE_NO_MATCH, see AgentSink.agentUnavailable) and withdraws the agent.
   */
  forward(agentId: string, bytes: Buffer): boolean {
    const record = this.remote.get(agentId);
    if (record === undefined) return false;
    const header = `${agentId} ${encodeURIComponent(record.tenant)}\n`;
    const message = encodeSpineMessage('E', this.nodeId, Buffer.concat([Buffer.from(header), bytes]));
    this.pub.publish(this.keys.nodeAgents(record.node), message).catch(this.onError);
    return true;
  }

  /** Removes a dead node's agents everywhere (announced on its behalf, so this node applies it too). */
  async reap(deadNode: string): Promise<number> {
    const all = await this.pub.hgetall(this.keys.capabilities());
    let removed = 0;
    for (const raw of Object.values(all)) {
      const record = parseRecord(raw);
      if (record === null || record.node !== deadNode) continue;
      const gone = { ...record, capabilities: [] };
      this.write(gone, deadNode);
      this.apply(gone);
      removed++;
    }
    return removed;
  }

  /**
   * Restates this node's agents (after a reconnect or after being reaped), and
   * withdraws the ones that left while Redis could not be told: their entries
   * would otherwise stay routable on every node for as long as this node lives.
   */
  async reassert(): Promise<void> {
    for (const raw of Object.values(await this.pub.hgetall(this.keys.capabilities()))) {
      const record = parseRecord(raw);
      if (record !== null && record.node === this.nodeId && !this.local.has(record.agent)) this.write({ ...record, capabilities: [] });
    }
    for (const record of this.local.values()) this.write(record);
  }
}

function parseRecord(raw: string): AgentRecord | null {
  try {
    const r = JSON.parse(raw) as AgentRecord;
    return typeof r.agent === 'string' && typeof r.node === 'string' && typeof r.tenant === 'string' && Array.isArray(r.capabilities) ? r : null;
  } catch {
    return null;
  }
}
