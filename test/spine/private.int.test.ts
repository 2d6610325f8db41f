/**
 * Private messages and connection limits across nodes: a target connected to
 * another node gets the message (on every node it is connected to), and
 * UNKNOWN_TARGET means connected nowhere. The tenant connection limit counts
 * every node's connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey } from '../../src/identity/mint.js';
import { refusedUpgrade } from '../helpers/raw-client.js';
import { barrier, Cluster, SECRET, until } from './cluster.js';

let cluster: Cluster;

afterEach(async () => {
  await cluster.close();
});

const privates = (c: { received: Array<{ type: string }> }): unknown[] => c.received.filter((e) => e.type === 'private');

describe('private messages across nodes', () => {
  it('reach every connection of the target on every node, once each', async () => {
    cluster = await Cluster.start(3);
    const alice = await cluster.connect(0, 'alice');
    const bobOnB = await cluster.connect(1, 'bob');
    const bobOnC = await cluster.connect(2, 'bob');
    const bobOnA = await cluster.connect(0, 'bob');
    alice.send({ type: 'private', id: 'p-1', payload: { target: 'bob', text: 'hi bob' } });
    for (const b of [bobOnA, bobOnB, bobOnC]) {
      const got = await b.next((e) => e.type === 'private' && e.id === 'p-1');
      expect(got).toMatchObject({ from: 'alice', payload: { target: 'bob', text: 'hi bob' } });
    }
    await barrier(alice, bobOnA, bobOnB, bobOnC);
    for (const b of [bobOnA, bobOnB, bobOnC]) expect(privates(b)).toEqual([]);
    expect(alice.received.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('answers UNKNOWN_TARGET only for targets connected nowhere', async () => {
    cluster = await Cluster.start(2);
    const alice = await cluster.connect(0, 'alice');
    const carol = await cluster.connect(1, 'carol');
    alice.send({ type: 'private', id: 'p-none', payload: { target: 'nobody' } });
    const none = await alice.next((e) => e.type === 'error' && e.request_id === 'p-none');
    expect(none).toMatchObject({ error_code: 'UNKNOWN_TARGET', retryable: true, payload: { unknown_targets: ['nobody'] } });

    alice.send({ type: 'private', id: 'p-some', payload: { target: ['carol', 'ghost'] } });
    await carol.next((e) => e.type === 'private' && e.id === 'p-some');
    const some = await alice.next((e) => e.type === 'error' && e.request_id === 'p-some');
    expect(some).toMatchObject({ error_code: 'UNKNOWN_TARGET', payload: { unknown_targets: ['ghost'] } });

    // Once carol is gone from node 1 she is unknown again.
    await carol.close();
    const topic = cluster.nodes[1]!.server.bus.spine!.keys.clientTopic('acme', 'carol');
    await until(async () => (await cluster.subscribers(topic)) === 0, 5000, 'carol to be unsubscribed');
    alice.send({ type: 'private', id: 'p-gone', payload: { target: 'carol' } });
    const gone = await alice.next((e) => e.type === 'error' && e.request_id === 'p-gone');
    expect(gone).toMatchObject({ error_code: 'UNKNOWN_TARGET', payload: { unknown_targets: ['carol'] } });
  });

  it('a client is reachable from every node as soon as it is welcomed', async () => {
    cluster = await Cluster.start(2);
    const alice = await cluster.connect(0, 'alice');
    // Node 1's subscriber is reconnecting: its SUBSCRIBE for a new client waits in ioredis' queue.
    await cluster.killSpineConnection(1, 'sub');
    const fresh = await cluster.connect(1, 'fresh'); // resolves on the welcome
    alice.send({ type: 'private', id: 'hello', payload: { target: 'fresh' } });
    expect((await fresh.next((e) => e.type === 'private' && e.id === 'hello')).from).toBe('alice');
    await barrier(alice);
    expect(alice.received.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('never crosses tenants, though the sub is the same', async () => {
    cluster = await Cluster.start(2);
    const acmeAlice = await cluster.connect(0, 'alice', 'acme');
    const globexBob = await cluster.connect(1, 'bob', 'globex');
    acmeAlice.send({ type: 'private', id: 'p-x', payload: { target: 'bob' } });
    const err = await acmeAlice.next((e) => e.type === 'error' && e.request_id === 'p-x');
    expect(err.error_code).toBe('UNKNOWN_TARGET');
    await barrier(globexBob);
    expect(privates(globexBob)).toEqual([]);
  });
});

describe('tenant connection limit across nodes', () => {
  it('counts the connections of every node at the upgrade, and frees a slot on disconnect', async () => {
    cluster = await Cluster.start(2, { overrides: { tenantMaxConnections: 2 } });
    const countsKey = cluster.nodes[0]!.server.bus.spine!.keys.tenantConnections('acme');
    await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    await until(async () => Object.keys(await cluster.admin.hgetall(countsKey)).length === 2, 5000, 'both nodes to count');
    const token = await mintToken(secretSigningKey(SECRET), { sub: 'carol', tenant: 'acme', permissions: {} }, { ttlS: 600 });
    for (const node of cluster.nodes) {
      const refused = await refusedUpgrade(`${node.url}/?token=${token}`);
      expect(refused).toMatchObject({ status: 503, body: { error_code: 'TENANT_CONNECTION_LIMIT' } });
    }
    // Another tenant is not affected.
    await cluster.connect(0, 'dave', 'globex');
    await bob.close();
    await until(async () => Object.keys(await cluster.admin.hgetall(countsKey)).length === 1, 5000, 'node 1 to drop its count');
    await cluster.connect(0, 'carol');
  });
});
