/** Channel commands: create, delete, join, leave, list, info. */
import { assertAdmin, assertCan, can } from '../../identity/authorize.js';
import { ArqonError } from '../../protocol/errors.js';
import { streamKey } from '../../router/topic-router.js';
import type { CommandHandler } from './command.js';
import { optionalString, requiredAddress } from './params.js';

export const createChannel: CommandHandler = {
  name: 'create_channel',
  summary: 'Create room:channel (the room is created on first use). CHANNEL_EXISTS if present.',
  async handle(bus, conn, params) {
    const { room, channel } = requiredAddress(params);
    assertCan(conn.identity, 'subscribe', room, channel);
    await bus.topic.adopt(conn, room, channel);
    const { channel: ch, created } = bus.topic.ensureChannel(conn, room, channel);
    if (!created) throw new ArqonError('CHANNEL_EXISTS', `channel ${room}:${channel} already exists`, { room, channel });
    return { room, channel, created_at: ch.createdAt.toISOString() };
  },
};

export const deleteChannel: CommandHandler = {
  name: 'delete_channel',
  summary: 'Delete room:channel: members get a channel_deleted system event; its history is dropped.',
  async handle(bus, conn, params) {
    const { room, channel } = requiredAddress(params);
    assertAdmin(conn.identity, 'delete_channel');
    const ch = await bus.topic.find(conn, room, channel);
    const removed = await bus.topic.deleteChannel(ch, conn);
    return { room, channel, deleted: true, members_removed: removed };
  },
};

export const joinChannel: CommandHandler = {
  name: 'join_channel',
  summary: 'Join room:channel (created if missing). Returns members and the history position to resume from.',
  async handle(bus, conn, params) {
    const { room, channel } = requiredAddress(params);
    assertCan(conn.identity, 'subscribe', room, channel);
    if (bus.spine?.active) await bus.topic.adopt(conn, room, channel);
    const existing = bus.channels.get(conn.tenant, room, channel);
    if (!existing?.members.has(conn) && conn.memberships.size >= conn.limits.maxChannelsPerConnection) {
      throw new ArqonError('CHANNEL_LIMIT', `a connection may join at most ${conn.limits.maxChannelsPerConnection} channels`, {
        max_channels: conn.limits.maxChannelsPerConnection,
        scope: 'connection',
      });
    }
    const { channel: ch, joined, created } = bus.topic.join(conn, room, channel);
    // With the spine, the position is read only once the channel's traffic reaches this node, so
    // every event after the answered offset is delivered live (read first, one could slip between).
    if (bus.spine?.active) await bus.spine.whenReceiving(ch);
    const [position, remote] = await Promise.all([bus.store.position(streamKey(ch)), bus.spine?.remoteMembers(ch) ?? []]);
    bus.spine?.joinedAt(ch, position);
    if (joined && bus.telemetry.active) {
      bus.telemetry.emit({ event: 'join', tenant: conn.tenant, client_id: conn.clientId, room, channel });
    }
    return {
      room,
      channel,
      joined,
      created,
      members: [...[...ch.members].map((m) => m.describe()), ...remote],
      offset: position.offset,
      epoch: position.epoch,
    };
  },
};

export const leaveChannel: CommandHandler = {
  name: 'leave_channel',
  summary: 'Leave room:channel. NOT_A_MEMBER if not joined.',
  handle(bus, conn, params) {
    const { room, channel } = requiredAddress(params);
    const ch = bus.channels.get(conn.tenant, room, channel);
    if (ch === undefined || !bus.topic.leave(conn, ch)) {
      throw new ArqonError('NOT_A_MEMBER', `not a member of ${room}:${channel}`, { room, channel });
    }
    if (bus.telemetry.active) {
      bus.telemetry.emit({ event: 'leave', tenant: conn.tenant, client_id: conn.clientId, room, channel });
    }
    return { room, channel, left: true };
  },
};

export const listChannels: CommandHandler = {
  name: 'list_channels',
  summary: "List the tenant's channels (optionally of one room) with member counts.",
  async handle(bus, conn, params) {
    const room = optionalString(params, 'room', 128);
    let channels = bus.channels.list(conn.tenant, room).filter((ch) => can(conn.identity, 'subscribe', ch.room, ch.name)).map((ch) => ({
      room: ch.room,
      channel: ch.name,
      members: ch.members.size,
      joined: ch.members.has(conn),
      created_at: ch.createdAt.toISOString(),
    }));
    // With the spine the tenant's channels on every node, member counts from the presence hashes.
    const everywhere = bus.spine?.active ? await bus.spine.listChannels(conn.tenant) : null;
    if (everywhere !== null) {
      const local = new Map(channels.map((c) => [`${c.room}:${c.channel}`, c]));
      const remote = everywhere.filter((r) => (room === undefined || r.room === room) && can(conn.identity, 'subscribe', r.room, r.channel))
        .filter((r) => !local.has(`${r.room}:${r.channel}`))
        .map((r) => ({ room: r.room, channel: r.channel, members: r.members ?? 0, joined: false, created_at: r.createdAt.toISOString() }));
      const counted = new Map(everywhere.map((r) => [`${r.room}:${r.channel}`, r.members ?? 0]));
      channels = [...channels.map((c) => ({ ...c, members: Math.max(c.members, counted.get(`${c.room}:${c.channel}`) ?? 0) })), ...remote];
    }
    // Only what the caller may see is counted: rooms of the listed channels.
    return { channels, count: channels.length, rooms: new Set(channels.map((c) => c.room)).size };
  },
};

export const channelInfo: CommandHandler = {
  name: 'channel_info',
  summary: 'Members of room:channel with their metadata, and its history position.',
  async handle(bus, conn, params) {
    const { room, channel } = requiredAddress(params);
    assertCan(conn.identity, 'subscribe', room, channel);
    const ch = await bus.topic.find(conn, room, channel);
    // Members on other nodes (spine) come from the channel's presence hash in Redis.
    const [position, remote] = await Promise.all([bus.store.position(streamKey(ch)), bus.spine?.remoteMembers(ch) ?? []]);
    return {
      room,
      channel,
      created_at: ch.createdAt.toISOString(),
      created_by: ch.createdBy,
      member_count: ch.members.size + remote.length,
      members: [...[...ch.members].map((m) => m.describe()), ...remote],
      offset: position.offset,
      epoch: position.epoch,
    };
  },
};
