/**
 * Which channels exist in a tenant, across nodes: one hash per tenant
 * (`room:channel` → JSON {created_at, created_by}). A node's ChannelRegistry
 * then only holds channels with local members (plus ones created here), and
 * a channel created on one node can be joined, read, listed and deleted from
 * any other.
 */
import type { Redis } from 'ioredis';
import type { SpineKeys } from './keys.js';

export interface ChannelRecord {
  readonly room: string;
  readonly channel: string;
  readonly createdAt: Date;
  readonly createdBy: string | null;
  /** Members on all nodes (from the presence hash); filled by list(). */
  readonly members?: number;
}

export class ChannelDirectory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SpineKeys,
  ) {}

  /** Records a channel unless another node did first (HSETNX): the first creation wins. */
  async created(tenant: string, room: string, channel: string, createdAt: Date, createdBy: string | null): Promise<void> {
    await this.redis.hsetnx(this.keys.channels(tenant), `${room}:${channel}`, JSON.stringify({ created_at: createdAt.toISOString(), created_by: createdBy }));
  }

  async find(tenant: string, room: string, channel: string): Promise<ChannelRecord | null> {
    const raw = await this.redis.hget(this.keys.channels(tenant), `${room}:${channel}`);
    return raw === null ? null : parseRecord(`${room}:${channel}`, raw);
  }

  async count(tenant: string): Promise<number> {
    return this.redis.hlen(this.keys.channels(tenant));
  }

  /** Every channel of the tenant with its member count on all nodes (one pipeline of HLEN). */
  async list(tenant: string): Promise<ChannelRecord[]> {
    const all = await this.redis.hgetall(this.keys.channels(tenant));
    const records = Object.entries(all).map(([key, raw]) => parseRecord(key, raw)).filter((r): r is ChannelRecord => r !== null);
    if (records.length === 0) return [];
    const p = this.redis.pipeline();
    for (const r of records) p.hlen(this.keys.presence(tenant, r.room, r.channel));
    const counts = (await p.exec()) ?? [];
    return records.map((r, i) => ({ ...r, members: Number(counts[i]?.[1] ?? 0) }));
  }

  async remove(tenant: string, room: string, channel: string): Promise<void> {
    await this.redis.hdel(this.keys.channels(tenant), `${room}:${channel}`);
  }
}

function parseRecord(key: string, raw: string): ChannelRecord | null {
  const colon = key.indexOf(':');
  if (colon < 1) return null;
  try {
    const v = JSON.parse(raw) as { created_at?: string; created_by?: string | null };
    const createdAt = new Date(v.created_at ?? 0);
    return { room: key.slice(0, colon), channel: key.slice(colon + 1), createdAt, createdBy: v.created_by ?? null };
  } catch {
    return null;
  }
}
