/**
 * Channel membership, partitioned by tenant: nothing here is shared between
 * tenants, so same-named rooms in two tenants are different rooms.
 */
import type { Connection, Membership } from '../edge/connection.js';

export class Channel implements Membership {
  readonly key: string;
  readonly members = new Set<Connection>();
  /** Set by delete_channel (on this node or another): an event whose append was in flight is not delivered. */
  deleted = false;

  constructor(
    readonly tenant: string,
    readonly room: string,
    readonly name: string,
    readonly createdBy: string | null,
    /** Given when the channel was created on another node (the spine's channel directory). */
    readonly createdAt = new Date(),
  ) {
    this.key = `${room}:${name}`;
  }
}

class TenantChannels {
  readonly byKey = new Map<string, Channel>();
  readonly rooms = new Map<string, Set<Channel>>();
}

export class ChannelRegistry {
  private readonly tenants = new Map<string, TenantChannels>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(tenant: string, room: string, channel: string): Channel | undefined {
    return this.tenants.get(tenant)?.byKey.get(`${room}:${channel}`);
  }

  /** Creates the channel (and its room, on first use). Returns the existing one when present. */
  ensure(tenant: string, room: string, channel: string, createdBy: string | null, createdAt?: Date): { channel: Channel; created: boolean } {
    let t = this.tenants.get(tenant);
    if (t === undefined) {
      t = new TenantChannels();
      this.tenants.set(tenant, t);
    }
    const existing = t.byKey.get(`${room}:${channel}`);
    if (existing !== undefined) return { channel: existing, created: false };
    const created = new Channel(tenant, room, channel, createdBy, createdAt);
    t.byKey.set(created.key, created);
    let roomSet = t.rooms.get(room);
    if (roomSet === undefined) {
      roomSet = new Set();
      t.rooms.set(room, roomSet);
    }
    roomSet.add(created);
    this.count++;
    return { channel: created, created: true };
  }

  delete(channel: Channel): void {
    const t = this.tenants.get(channel.tenant);
    if (t === undefined || t.byKey.get(channel.key) !== channel) return;
    t.byKey.delete(channel.key);
    const roomSet = t.rooms.get(channel.room);
    roomSet?.delete(channel);
    if (roomSet?.size === 0) t.rooms.delete(channel.room);
    if (t.byKey.size === 0) this.tenants.delete(channel.tenant);
    this.count--;
  }

  list(tenant: string, room?: string): Channel[] {
    const t = this.tenants.get(tenant);
    if (t === undefined) return [];
    if (room !== undefined) return [...(t.rooms.get(room) ?? [])];
    return [...t.byKey.values()];
  }

  /** Channels in one tenant. O(1). */
  tenantSize(tenant: string): number {
    return this.tenants.get(tenant)?.byKey.size ?? 0;
  }

  roomCount(tenant: string): number {
    return this.tenants.get(tenant)?.rooms.size ?? 0;
  }
}
