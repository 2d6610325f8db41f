/**
 * Channel members on every node: one Redis hash per channel (connection id →
 * JSON entry), written by the node that holds the connection. Local members
 * stay authoritative in the ChannelRegistry; the hash adds the other nodes'.
 */
import type { Redis } from 'ioredis';
import type { JsonObject } from '../protocol/envelope.js';
import type { SpineKeys } from './keys.js';

export interface MemberRef {
  readonly tenant: string;
  readonly room: string;
  readonly channel: string;
  readonly connectionId: string;
  /** The connection's public description (Connection.describe()). */
  readonly client: JsonObject;
}

interface Entry {
  node: string;
  tenant: string;
  room: string;
  channel: string;
  client: JsonObject;
}

export class Presence {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SpineKeys,
    private readonly nodeId: string,
  ) {}

  /** Adds or refreshes members (join, member_updated, re-assertion after a reconnect). */
  async put(members: readonly MemberRef[]): Promise<void> {
    if (members.length === 0) return;
    const p = this.redis.pipeline();
    const hashes = new Set<string>();
    for (const m of members) {
      const key = this.keys.presence(m.tenant, m.room, m.channel);
      const entry: Entry = { node: this.nodeId, tenant: m.tenant, room: m.room, channel: m.channel, client: m.client };
      p.hset(key, m.connectionId, JSON.stringify(entry));
      hashes.add(key);
    }
    p.sadd(this.keys.nodePresence(this.nodeId), ...hashes);
    await p.exec();
  }

  /** Removes a member; `last`: it was this node's last member there, so the node's index forgets the hash. */
  async remove(tenant: string, room: string, channel: string, connectionId: string, last = false): Promise<void> {
    const key = this.keys.presence(tenant, room, channel);
    if (!last) {
      await this.redis.hdel(key, connectionId);
      return;
    }
    // Without this the index would grow by every channel the node ever had a member in.
    await this.redis.pipeline().hdel(key, connectionId).srem(this.keys.nodePresence(this.nodeId), key).exec();
  }

  /** This node has no member left in the channel (it was deleted): its index forgets the hash. */
  async forget(tenant: string, room: string, channel: string): Promise<void> {
    await this.redis.srem(this.keys.nodePresence(this.nodeId), this.keys.presence(tenant, room, channel));
  }

  /** The channel is gone: every node's entries go with it. */
  async drop(tenant: string, room: string, channel: string): Promise<void> {
    await this.redis.del(this.keys.presence(tenant, room, channel));
  }

  /** Members of the channel connected to other nodes (this node's own are known locally). */
  async remoteMembers(tenant: string, room: string, channel: string): Promise<JsonObject[]> {
    const all = await this.redis.hgetall(this.keys.presence(tenant, room, channel));
    const members: JsonObject[] = [];
    for (const raw of Object.values(all)) {
      const entry = parseEntry(raw);
      if (entry !== null && entry.node !== this.nodeId) members.push(entry.client);
    }
    return members;
  }

  /** Every entry a node has in any presence hash (found through its index set). */
  async entriesOf(node: string): Promise<MemberRef[]> {
    const hashes = await this.redis.smembers(this.keys.nodePresence(node));
    const found: MemberRef[] = [];
    for (const key of hashes) {
      for (const [connectionId, raw] of Object.entries(await this.redis.hgetall(key))) {
        const entry = parseEntry(raw);
        if (entry === null || entry.node !== node) continue;
        found.push({ tenant: entry.tenant, room: entry.room, channel: entry.channel, connectionId, client: entry.client });
      }
    }
    return found;
  }

  async removeAll(members: readonly MemberRef[]): Promise<void> {
    if (members.length === 0) return;
    const p = this.redis.pipeline();
    for (const m of members) p.hdel(this.keys.presence(m.tenant, m.room, m.channel), m.connectionId);
    await p.exec();
  }

  /**
   * Removes every entry of a dead node and returns them, so the reaper can
   * tell the channels' members that these clients left.
   */
  async reap(deadNode: string): Promise<MemberRef[]> {
    const gone = await this.entriesOf(deadNode);
    await this.removeAll(gone);
    await this.redis.del(this.keys.nodePresence(deadNode));
    return gone;
  }
}

function parseEntry(raw: string): Entry | null {
  try {
    const e = JSON.parse(raw) as Entry;
    return typeof e.node === 'string' && typeof e.client === 'object' && e.client !== null ? e : null;
  } catch {
    return null;
  }
}
