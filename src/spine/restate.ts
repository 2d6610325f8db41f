/**
 * The two ways a node's state in Redis is rewritten wholesale: reaping a dead
 * node (run by the one node that won its reap lock, or by a node starting with
 * the id of a run that died unreaped) and restating this node from its local
 * state after Redis lost track of it (a reconnect, or being reaped while cut
 * off). Both tell channel members what changed, with the same presence
 * envelopes the TopicRouter sends for a local join or leave.
 */
import { encodeEnvelope } from '../edge/codec-json.js';
import type { Connection } from '../edge/connection.js';
import { systemEnvelope } from '../protocol/outbound.js';
import { Channel } from '../router/channels.js';
import type { CapabilityShare } from './capabilities.js';
import type { ChannelAddress, ChannelBus } from './channel-bus.js';
import type { NodeRegistry } from './node-registry.js';
import type { MemberRef, Presence } from './presence.js';
import type { TenantCounts } from './tenant-counts.js';

export interface RestateParts {
  readonly channels: ChannelBus;
  readonly presence: Presence;
  readonly counts: TenantCounts;
  readonly registry: NodeRegistry;
  readonly agents: CapabilityShare | undefined;
}

/** Removes a dead node's members (member_left sent on its behalf), counts and agents; returns how many. */
export async function reapNode(p: RestateParts, dead: string): Promise<{ members: number; agents: number }> {
  const gone = await p.presence.reap(dead);
  await p.counts.reap(dead);
  const agents = (await p.agents?.reap(dead)) ?? 0;
  for (const m of gone) p.channels.publish(address(m), 'E', presenceBytes('member_left', m), dead);
  return { members: gone.length, agents };
}

/**
 * Restates the presence entries, counts and agents of `nodeId` from its open
 * `connections` and tells the other nodes what changed meanwhile: members
 * that left during the outage leave, members that joined (or were reaped) join.
 */
export async function restateNode(p: RestateParts, nodeId: string, connections: Iterable<Connection>): Promise<void> {
  // Read what Redis holds for this node first; entries are overwritten, never removed and re-added,
  // so other nodes never see a member vanish for a moment.
  const before = await p.presence.entriesOf(nodeId);
  const countedBefore = await p.counts.tenantsOf(nodeId);
  await p.registry.beat();
  const local: MemberRef[] = [];
  const counts = new Map<string, number>(countedBefore.map((t) => [t, 0]));
  for (const conn of connections) {
    counts.set(conn.tenant, (counts.get(conn.tenant) ?? 0) + 1);
    for (const m of conn.memberships) if (m instanceof Channel) local.push(memberRef(m, conn));
  }
  const id = (m: MemberRef): string => `${m.connectionId} ${m.tenant} ${m.room}:${m.channel}`;
  const was = new Set(before.map(id));
  const now = new Set(local.map(id));
  const stale = before.filter((m) => !now.has(id(m)));
  await p.presence.put(local);
  await p.presence.removeAll(stale);
  // The index keeps only channels with a member here now.
  const kept = new Set(local.map((m) => `${m.tenant} ${m.room}:${m.channel}`));
  for (const m of stale) if (!kept.has(`${m.tenant} ${m.room}:${m.channel}`)) await p.presence.forget(m.tenant, m.room, m.channel);
  await p.counts.set(counts);
  await p.agents?.reassert();
  for (const m of stale) p.channels.publish(address(m), 'E', presenceBytes('member_left', m));
  for (const m of local) if (!was.has(id(m))) p.channels.publish(address(m), 'E', presenceBytes('member_joined', m));
}

export function memberRef(channel: Channel, conn: Connection): MemberRef {
  return { tenant: channel.tenant, room: channel.room, channel: channel.name, connectionId: conn.connectionId, client: conn.describe() };
}

function address(m: MemberRef): ChannelAddress {
  return { tenant: m.tenant, room: m.room, name: m.channel };
}

/** The same presence envelope the TopicRouter sends for a local join or leave. */
function presenceBytes(event: 'member_joined' | 'member_left', m: MemberRef): Buffer {
  return encodeEnvelope(systemEnvelope({ event, room: m.room, channel: m.channel, client: m.client }, { room: m.room, channel: m.channel }));
}
