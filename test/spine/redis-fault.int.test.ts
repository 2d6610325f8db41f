/**
 * Redis connections lost while running: a node's spine connections are
 * killed with CLIENT KILL (found by their connection name) in the middle of
 * a stream. Local delivery never stops, /health reports the outage, and on
 * reconnect the node resubscribes and restates its presence without restart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { SPINE_DISCONNECTED } from '../../src/spine/spine.js';
import { barrier, Cluster, isEvent, LOBBY, presence, until } from './cluster.js';

let cluster: Cluster;

beforeEach(async () => {
  cluster = await Cluster.start(2);
});
afterEach(async () => {
  await cluster.close();
});

/** Resolves once health() reported the spine down at least once (polled on every turn of the event loop). */
function sawUnhealthy(node: number): Promise<void> {
  const server = cluster.nodes[node]!.server;
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const poll = (): void => {
      if (server.health().reasons.includes(SPINE_DISCONNECTED)) resolve();
      else if (Date.now() > deadline) reject(new Error('health never reported the spine down'));
      else setImmediate(poll);
    };
    poll();
  });
}

const seqs = (envs: Envelope[]): number[] => envs.filter(isEvent).map((e) => e.payload['seq'] as number);
const healthy = (node: number) => (): boolean => cluster.nodes[node]!.server.health().state === 'serving';

describe('redis connection lost and restored', () => {
  it('subscriber killed mid-stream: local delivery goes on, the node resubscribes and catches its members up from history, in order, once', async () => {
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const local = await cluster.connect(1, 'local'); // publishes on node 1 during the outage
    for (const c of [alice, bob, local]) await c.ok('join_channel', LOBBY);
    const topic = cluster.nodes[1]!.server.bus.spine!.keys.channelTopic('acme', LOBBY.room, LOBBY.channel);

    let seq = 0;
    const publishSome = (n: number): void => {
      for (let i = 0; i < n; i++) alice.send({ type: 'event', id: `s-${++seq}`, ...LOBBY, payload: { seq } });
    };
    publishSome(20);
    await until(() => bob.received.some((e) => isEvent(e) && e.payload['seq'] === 20), 5000, 'the first 20 at node 1');
    const down = sawUnhealthy(1);
    await cluster.killSpineConnection(1, 'sub');
    publishSome(20);
    await down;
    // While node 1 is cut off from the channel, its own members still hear each other.
    local.send({ type: 'event', id: 'local-1', ...LOBBY, payload: { text: 'still here' } });
    expect((await bob.next((e) => e.id === 'local-1')).payload).toEqual({ text: 'still here' });

    await until(healthy(1), 8000, 'node 1 to reconnect');
    await until(async () => (await cluster.subscribers(topic)) === 2, 8000, 'node 1 to resubscribe (autoResubscribe)');
    publishSome(20);
    await bob.next((e) => isEvent(e) && e.payload['seq'] === seq);
    await barrier(alice, bob);
    // What was published while the subscriber was away is caught up from history once it is back:
    // every event once, in publish order; the local one (delivered during the outage) not again.
    const got = [...seqs(bob.received), seq];
    expect(got).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(bob.received.filter((e) => e.id === 'local-1')).toEqual([]);
    await barrier(local);
    expect(local.received.filter((e) => e.id === 'local-1')).toEqual([]); // no echo asked, none recovered either
  });

  it('a quiet channel is caught up too: events stored while the subscriber was away arrive once it is back', async () => {
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    await alice.ok('join_channel', LOBBY);
    await bob.ok('join_channel', LOBBY); // nothing published yet: node 1 has seen no event of the channel
    const down = sawUnhealthy(1);
    await cluster.killSpineConnection(1, 'sub');
    for (let seq = 1; seq <= 10; seq++) alice.send({ type: 'event', id: `q-${seq}`, ...LOBBY, payload: { seq } });
    await down;
    await until(healthy(1), 8000, 'node 1 to reconnect');
    alice.send({ type: 'event', id: 'q-11', ...LOBBY, payload: { seq: 11 } });
    await bob.next((e) => e.id === 'q-11');
    await barrier(bob);
    expect([...seqs(bob.received), 11]).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('publisher killed: /health says why, delivery resumes, presence is restated without restart', async () => {
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    await alice.ok('join_channel', LOBBY);
    await bob.ok('join_channel', LOBBY);
    const down = sawUnhealthy(1);
    await cluster.killSpineConnection(1, 'pub');
    await down;
    const res = await fetch(`${cluster.nodes[1]!.httpUrl}/health`).catch(() => null);
    // The outage may already be over by the time the request is served; when it is not, the reason shows.
    if (res !== null && res.status === 503) expect(JSON.stringify(await res.json())).toContain(SPINE_DISCONNECTED);
    await until(healthy(1), 8000, 'node 1 to reconnect');

    bob.send({ type: 'event', id: 'after', ...LOBBY, payload: { text: 'back' } });
    expect((await alice.next((e) => e.id === 'after')).payload).toEqual({ text: 'back' });
    const info = await alice.ok<{ members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(info.members.map((m) => m.client_id).sort()).toEqual(['alice', 'bob']);
  });

  it('a node reaped while cut off restates itself: presence back and member_joined re-sent', async () => {
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    await alice.ok('join_channel', LOBBY);
    await bob.ok('join_channel', LOBBY);
    await alice.next(presence('member_joined', 'bob'));
    const keys = cluster.nodes[1]!.server.bus.spine!.keys;
    const nodeId = cluster.nodes[1]!.server.bus.spine!.nodeId;
    // What a reaper does to a node it believes dead (without the events): registry and presence gone.
    await cluster.admin.srem(keys.nodes(), nodeId);
    await cluster.admin.del(keys.presence('acme', LOBBY.room, LOBBY.channel), keys.nodePresence(nodeId), keys.nodeTenants(nodeId));
    await cluster.admin.hdel(keys.tenantConnections('acme'), nodeId);
    const emptied = await alice.ok<{ members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(emptied.members.map((m) => m.client_id)).toEqual(['alice']);

    // Its next heartbeat finds it missing from the node set and restates everything.
    await alice.next(presence('member_joined', 'bob'), 5000);
    await until(async () => (await cluster.admin.sismember(keys.nodes(), nodeId)) === 1);
    const info = await alice.ok<{ members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(info.members.map((m) => m.client_id).sort()).toEqual(['alice', 'bob']);
    // Its connection count is back too, so the tenant limit counts bob again on every node.
    await until(async () => (await cluster.admin.hget(keys.tenantConnections('acme'), nodeId)) === '1', 5000, 'the count restated');
    expect(await cluster.admin.smembers(keys.nodeTenants(nodeId))).toEqual(['acme']);
  });
});
