/**
 * Channel traffic across nodes: three nodes sharing Redis, clients spread
 * over them. Events reach every member once, in publish order, with the
 * offsets of the shared history; presence and channel_info span the nodes;
 * only nodes with members receive a channel's traffic.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { barrier, Cluster, isEvent, LOBBY, presence, until } from './cluster.js';

let cluster: Cluster;

beforeEach(async () => {
  cluster = await Cluster.start(3);
});
afterEach(async () => {
  await cluster.close();
});

const seqs = (envs: Envelope[]): unknown[] => envs.filter(isEvent).map((e) => e.payload['seq']);

describe('events across nodes', () => {
  it('reaches every member on every node once, in publish order, with shared offsets', async () => {
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const bob2 = await cluster.connect(1, 'bob'); // the same sub twice on one node: two members
    const carol = await cluster.connect(2, 'carol');
    const members = [alice, bob, bob2, carol];
    for (const c of members) await c.ok('join_channel', LOBBY);

    const N = 60;
    for (let seq = 1; seq <= N; seq++) alice.send({ type: 'event', id: `a-${seq}`, ...LOBBY, payload: { seq } });
    // The last event arriving everywhere, then a barrier on each receiver, bounds what can still come.
    for (const c of [bob, bob2, carol]) await c.next((e) => isEvent(e) && e.payload['seq'] === N);
    await barrier(...members);

    const expected = Array.from({ length: N }, (_, i) => i + 1);
    for (const c of [bob, bob2, carol]) {
      // next() consumed the last one; everything before it is still in `received`, once each, in order.
      expect([...seqs(c.received), N]).toEqual(expected);
    }
    // No echo to the publisher (echo not requested), on any node.
    expect(seqs(alice.received)).toEqual([]);
  });

  it('delivers the same offsets and epoch everywhere, and history read on another node has them', async () => {
    const alice = await cluster.connect(0, 'alice');
    const carol = await cluster.connect(2, 'carol');
    const joined = await alice.ok<{ epoch: string; offset: number }>('join_channel', LOBBY);
    await carol.ok('join_channel', LOBBY);
    alice.send({ type: 'event', id: 'h-1', ...LOBBY, payload: { seq: 1 }, metadata: { echo: true } });
    alice.send({ type: 'event', id: 'h-2', ...LOBBY, payload: { seq: 2 }, metadata: { echo: true } });
    const mine = [await alice.next((e) => e.id === 'h-1'), await alice.next((e) => e.id === 'h-2')];
    const theirs = [await carol.next((e) => e.id === 'h-1'), await carol.next((e) => e.id === 'h-2')];
    expect(theirs.map((e) => e.metadata)).toEqual(mine.map((e) => e.metadata));
    expect(mine.map((e) => e.metadata?.['offset'])).toEqual([joined.offset + 1, joined.offset + 2]);

    // A client on the third node, never a member, reads what was published on the first.
    const dave = await cluster.connect(1, 'dave');
    const page = await dave.ok<{ messages: Envelope[]; epoch: string }>('history', { ...LOBBY, limit: 10 });
    expect(page.messages.map((m) => m.id)).toEqual(['h-1', 'h-2']);
    expect(page.epoch).toBe(joined.epoch);
  });

  it('sends a channel only to nodes with members (one subscription per interested node)', async () => {
    const topic = cluster.nodes[0]!.server.bus.spine!.keys.channelTopic('acme', LOBBY.room, LOBBY.channel);
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const bob2 = await cluster.connect(1, 'bob2');
    await cluster.connect(2, 'idle'); // on the third node, never joins
    expect(await cluster.subscribers(topic)).toBe(0);
    await alice.ok('join_channel', LOBBY);
    expect(await cluster.subscribers(topic)).toBe(1);
    await bob.ok('join_channel', LOBBY);
    await bob2.ok('join_channel', LOBBY);
    expect(await cluster.subscribers(topic)).toBe(2); // two members on node 1: still one copy for it
    await bob.ok('leave_channel', LOBBY);
    await barrier(bob);
    expect(await cluster.subscribers(topic)).toBe(2);
    await bob2.ok('leave_channel', LOBBY);
    await until(async () => (await cluster.subscribers(topic)) === 1, 5000, 'node 1 to unsubscribe');
  });

  it('one sub publishing from two nodes with the same event id: stored and delivered once', async () => {
    const bobA = await cluster.connect(0, 'bob');
    const bobB = await cluster.connect(1, 'bob');
    const carol = await cluster.connect(2, 'carol');
    for (const c of [bobA, bobB, carol]) await c.ok('join_channel', LOBBY);
    bobA.send({ type: 'event', id: 'same-id', ...LOBBY, payload: { from: 'A' } });
    await carol.next((e) => e.id === 'same-id');
    bobB.send({ type: 'event', id: 'same-id', ...LOBBY, payload: { from: 'B' } });
    carol.send({ type: 'event', id: 'after', ...LOBBY, payload: {}, metadata: { echo: true } });
    await carol.next((e) => e.id === 'after');
    await barrier(bobA, bobB, carol);
    expect(carol.received.filter((e) => e.id === 'same-id')).toEqual([]);
    // bob's other connection got the first one (not its own connection); the second was dropped silently.
    expect(bobB.received.filter((e) => e.id === 'same-id').map((e) => e.payload)).toEqual([{ from: 'A' }]);
    expect([...bobA.received, ...bobB.received].filter((e) => e.type === 'error')).toEqual([]);
    const page = await carol.ok<{ messages: Envelope[] }>('history', LOBBY);
    expect(page.messages.map((m) => [m.id, m.payload])).toEqual([['same-id', { from: 'A' }], ['after', {}]]);
  });

  it('keeps tenants apart across nodes though room, channel and sub names are shared', async () => {
    const acmeAlice = await cluster.connect(0, 'alice', 'acme');
    const acmeBob = await cluster.connect(1, 'bob', 'acme');
    const globexBob = await cluster.connect(1, 'bob', 'globex');
    const globexCarol = await cluster.connect(2, 'carol', 'globex');
    for (const c of [acmeAlice, acmeBob, globexBob, globexCarol]) await c.ok('join_channel', LOBBY);

    acmeAlice.send({ type: 'event', id: 'acme-1', ...LOBBY, payload: { text: 'for acme' } });
    acmeAlice.send({ type: 'private', id: 'acme-p', payload: { target: 'bob', note: 'acme bob only' } });
    expect((await acmeBob.next((e) => e.id === 'acme-1')).payload).toEqual({ text: 'for acme' });
    await acmeBob.next((e) => e.id === 'acme-p');
    await barrier(acmeAlice, acmeBob, globexBob, globexCarol);
    for (const c of [globexBob, globexCarol]) expect(c.received.filter((e) => e.type === 'event' || e.type === 'private')).toEqual([]);
    const info = await globexCarol.ok<{ members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(info.members.map((m) => m.client_id).sort()).toEqual(['bob', 'carol']);
  });
});

describe('channels across nodes', () => {
  it('a channel created on one node is listed, described and joined on the others, with its creator', async () => {
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const created = await alice.ok<{ created_at: string }>('create_channel', { room: 'ops', channel: 'deploys' });
    const dup = await bob.command('create_channel', { room: 'ops', channel: 'deploys' });
    expect(dup['error_code']).toBe('CHANNEL_EXISTS');
    const listed = await bob.ok<{ channels: Array<{ room: string; channel: string; members: number; created_at: string }> }>('list_channels');
    expect(listed.channels).toEqual([{ room: 'ops', channel: 'deploys', members: 0, joined: false, created_at: created.created_at }]);
    await bob.ok('join_channel', { room: 'ops', channel: 'deploys' });
    const info = await alice.ok<{ created_by: string; created_at: string; member_count: number }>('channel_info', { room: 'ops', channel: 'deploys' });
    expect(info).toMatchObject({ created_by: 'alice', created_at: created.created_at, member_count: 1 });
    const fromBob = await bob.ok<{ created_by: string }>('channel_info', { room: 'ops', channel: 'deploys' });
    expect(fromBob.created_by).toBe('alice');
  });

  it('the tenant channel cap counts channels created on every node', async () => {
    await cluster.close();
    cluster = await Cluster.start(2, { overrides: { tenantMaxChannels: 2 } });
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    await alice.ok('join_channel', { room: 'r', channel: 'one' });
    await bob.ok('join_channel', { room: 'r', channel: 'two' });
    await until(async () => (await cluster.admin.hlen(cluster.nodes[0]!.server.bus.spine!.keys.channels('acme'))) === 2);
    const third = await alice.command('join_channel', { room: 'r', channel: 'three' });
    expect(third).toMatchObject({ status: 'error', error_code: 'CHANNEL_LIMIT', details: { scope: 'tenant', max_channels: 2 } });
    // Existing channels stay joinable from anywhere.
    await alice.ok('join_channel', { room: 'r', channel: 'two' });
  });
});

describe('presence across nodes', () => {
  it('member_joined, member_updated and member_left reach members on other nodes; channel_info lists all', async () => {
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const carol = await cluster.connect(2, 'carol');
    await alice.ok('join_channel', LOBBY);
    const bobJoin = await bob.ok<{ members: Array<{ client_id: string }> }>('join_channel', LOBBY);
    expect(bobJoin.members.map((m) => m.client_id).sort()).toEqual(['alice', 'bob']);
    await alice.next(presence('member_joined', 'bob'));
    await carol.ok('join_channel', LOBBY);
    await alice.next(presence('member_joined', 'carol'));
    await bob.next(presence('member_joined', 'carol'));

    const info = await alice.ok<{ member_count: number; members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(info.member_count).toBe(3);
    expect(info.members.map((m) => m.client_id).sort()).toEqual(['alice', 'bob', 'carol']);

    await bob.ok('set_metadata', { metadata: { mood: 'busy' } });
    const updated = await carol.next(presence('member_updated', 'bob'));
    expect((updated.payload['client'] as { metadata: unknown }).metadata).toEqual({ mood: 'busy' });
    const seen = await alice.ok<{ members: Array<{ client_id: string; metadata: unknown }> }>('channel_info', LOBBY);
    expect(seen.members.find((m) => m.client_id === 'bob')?.metadata).toEqual({ mood: 'busy' });

    await carol.close();
    await alice.next(presence('member_left', 'carol'));
    await bob.next(presence('member_left', 'carol'));
    const after = await bob.ok<{ member_count: number }>('channel_info', LOBBY);
    expect(after.member_count).toBe(2);
  });

  it('a channel deleted on one node is gone on the others, members told once', async () => {
    const admin = await cluster.connect(0, 'root', 'acme', { admin: true });
    const bob = await cluster.connect(1, 'bob');
    await admin.ok('join_channel', LOBBY);
    await bob.ok('join_channel', LOBBY);
    await admin.ok('delete_channel', LOBBY);
    const told = await bob.next((e) => e.type === 'system' && e.payload['event'] === 'channel_deleted');
    expect(told.payload).toMatchObject({ ...LOBBY, by: 'root' });
    const res = await bob.command('channel_info', LOBBY);
    expect(res['error_code']).toBe('CHANNEL_NOT_FOUND');
    const topic = cluster.nodes[1]!.server.bus.spine!.keys.channelTopic('acme', LOBBY.room, LOBBY.channel);
    await until(async () => (await cluster.subscribers(topic)) === 0, 5000, 'no node to receive the deleted channel');
    // Re-created from the other node: a new, empty channel.
    const again = await bob.ok<{ created: boolean; members: unknown[] }>('join_channel', LOBBY);
    expect(again).toMatchObject({ created: true, members: [expect.objectContaining({ client_id: 'bob' })] });
    await barrier(bob);
    expect(bob.received.filter((e) => e.type === 'system' && e.payload['event'] === 'channel_deleted')).toEqual([]);
  });
});
