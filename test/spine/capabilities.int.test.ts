/**
 * Agents' capabilities across nodes (real glove-sif model on every node): an
 * agent declared on one node is found and routed to from another, and
 * vanishes everywhere when it unregisters or disconnects.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { encodeSpineMessage } from '../../src/spine/wire.js';
import type { RawClient } from '../helpers/raw-client.js';
import { BILLING, routed, WEATHER } from '../router/semantic-fixtures.js';
import { barrier, Cluster, until } from './cluster.js';

let cluster: Cluster;

beforeEach(async () => {
  cluster = await Cluster.start(2);
});
afterEach(async () => {
  await cluster.close();
});

const agent = (node: number, sub: string): Promise<RawClient> => cluster.connect(node, sub, 'acme', { client_type: 'ai-agent', caps: ['*'] });
const found = async (c: RawClient, text: string): Promise<Array<{ client_id: string; capability: string }>> =>
  (await c.ok<{ agents: Array<{ client_id: string; capability: string }> }>('find_agents', { text, k: 5 })).agents;

describe('capabilities across nodes', () => {
  it('an agent declared on one node is matched and reached from another, with its route metadata', async () => {
    const billing = await agent(0, 'billing-bot');
    const weather = await agent(1, 'weather-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    await weather.ok('register_capabilities', { capabilities: [WEATHER] });
    const user = await cluster.connect(1, 'user');
    await until(async () => (await found(user, 'card payment declined')).some((a) => a.client_id === 'billing-bot'), 10_000, 'node 1 to know billing-bot');

    user.send({ type: 'event', id: 'i1', payload: { intent: { text: 'my card payment was declined' }, text: 'help' } });
    const ack = await user.next(routed('i1'));
    const got = await billing.next((e) => e.type === 'event' && e.id === 'i1');
    expect(got).toMatchObject({ from: 'user', payload: { text: 'help' }, metadata: { route: { capability: 'billing.payments', mode: 'best' } } });
    const route = got.metadata!['route'] as Record<string, unknown>;
    expect(ack.payload['recipients']).toEqual([{ agent: route['agent'], client_id: 'billing-bot', capability: 'billing.payments', score: route['score'] }]);
    await barrier(weather);
    expect(weather.received.filter((e) => e.type === 'event')).toEqual([]);

    // And the other way round: the weather agent on node 1, asked from node 0.
    const other = await cluster.connect(0, 'other');
    await until(async () => (await found(other, 'will it rain')).some((a) => a.client_id === 'weather-bot'), 10_000, 'node 0 to know weather-bot');
    other.send({ type: 'event', id: 'i2', payload: { intent: { text: 'will it rain tomorrow' } } });
    await other.next(routed('i2'));
    expect((await weather.next((e) => e.type === 'event' && e.id === 'i2')).from).toBe('other');
  });

  it('vanishes from every node when unregistered or when the agent disconnects', async () => {
    const billing = await agent(0, 'billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING, WEATHER] });
    const user = await cluster.connect(1, 'user');
    await until(async () => (await found(user, 'will it rain')).some((a) => a.capability === 'weather.forecast'), 10_000, 'node 1 to know both');

    await billing.ok('unregister_capabilities', { names: ['weather.forecast'] });
    await until(async () => !(await found(user, 'will it rain')).some((a) => a.capability === 'weather.forecast'), 10_000, 'weather to vanish');
    expect((await found(user, 'card payment declined')).map((a) => a.capability)).toEqual(['billing.payments']);

    await billing.close();
    await until(async () => (await found(user, 'card payment declined')).length === 0, 10_000, 'billing to vanish');
    user.send({ type: 'event', id: 'gone', payload: { intent: { text: 'my card payment was declined' } } });
    expect((await user.next((e) => e.type === 'error' && e.request_id === 'gone')).error_code).toBe('ROUTE_NO_MATCH');
  });

  it('an intent forwarded to a node that cannot deliver it: the sender gets ROUTE_NO_MATCH (agents_unavailable), the stale agent is withdrawn', async () => {
    const spine1 = cluster.nodes[1]!.server.bus.spine!;
    const keys = spine1.keys;
    // A record node 1 left behind for an agent it no longer has (what a lost withdrawal leaves).
    const record = { agent: 'cx_ghost', node: spine1.nodeId, tenant: 'acme', client_id: 'ghost-bot', capabilities: [BILLING] };
    await cluster.admin.hset(keys.capabilities(), record.agent, JSON.stringify(record));
    await cluster.admin.publish(keys.capabilityChanges(), encodeSpineMessage('E', spine1.nodeId, Buffer.from(JSON.stringify(record))));
    const user = await cluster.connect(0, 'user');
    await until(async () => (await found(user, 'card payment declined')).some((a) => a.client_id === 'ghost-bot'), 10_000, 'node 0 to know ghost-bot');

    user.send({ type: 'event', id: 'ghost-1', payload: { intent: { text: 'my card payment was declined' } } });
    await user.next(routed('ghost-1')); // node 0 forwarded it: it cannot know yet
    const err = await user.next((e) => e.type === 'error' && e.request_id === 'ghost-1');
    expect(err).toMatchObject({ error_code: 'ROUTE_NO_MATCH', payload: { no_match_reason: 'agents_unavailable' } });
    await until(async () => (await cluster.admin.hexists(keys.capabilities(), 'cx_ghost')) === 0, 5000, 'the record to be withdrawn');
    await until(async () => (await found(user, 'card payment declined')).length === 0, 5000, 'node 0 to forget ghost-bot');
  });

  it('keeps tenants apart: another tenant\'s agent on another node is never found nor routed to', async () => {
    const globexBot = await cluster.connect(0, 'billing-bot', 'globex', { client_type: 'ai-agent', caps: ['*'] });
    await globexBot.ok('register_capabilities', { capabilities: [BILLING] });
    const globexUser = await cluster.connect(1, 'user', 'globex');
    await until(async () => (await found(globexUser, 'card payment declined')).length === 1, 10_000, 'node 1 to know the globex agent');
    const acmeUser = await cluster.connect(1, 'user', 'acme');
    expect(await found(acmeUser, 'card payment declined')).toEqual([]);
    acmeUser.send({ type: 'event', id: 'x-tenant', payload: { intent: { text: 'my card payment was declined' } } });
    expect((await acmeUser.next((e) => e.type === 'error' && e.request_id === 'x-tenant')).error_code).toBe('ROUTE_NO_MATCH');
    await barrier(globexBot);
    expect(globexBot.received.filter((e) => e.type === 'event')).toEqual([]);
  });

  it('a node that starts later learns the agents already declared', async () => {
    const billing = await agent(0, 'billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    await cluster.addNode();
    const late = await cluster.connect(2, 'late');
    await until(async () => (await found(late, 'refund my payment')).some((a) => a.client_id === 'billing-bot'), 10_000, 'the new node to load billing-bot');
  });
});

describe('capabilities after a Redis blip', () => {
  it('a node withdraws its agents that left while Redis could not be told', async () => {
    const spine1 = cluster.nodes[1]!.server.bus.spine!;
    const user = await cluster.connect(0, 'user');
    // What an agent of node 1 leaves behind when it disconnects while node 1 cannot reach Redis:
    // its entry and the announcement went out, the withdrawal never did.
    const ghost = { agent: 'cx_ghost', node: spine1.nodeId, tenant: 'acme', client_id: 'ghost-bot', capabilities: [BILLING] };
    await cluster.admin.hset(spine1.keys.capabilities(), ghost.agent, JSON.stringify(ghost));
    await cluster.admin.publish(spine1.keys.capabilityChanges(), `E${spine1.nodeId}\n${JSON.stringify(ghost)}`);
    await until(async () => (await found(user, 'card payment declined')).some((a) => a.client_id === 'ghost-bot'), 10_000, 'node 0 to know ghost-bot');

    await cluster.killSpineConnection(1, 'pub'); // node 1 reconnects and restates what it has
    await until(async () => !(await found(user, 'card payment declined')).some((a) => a.client_id === 'ghost-bot'), 10_000, 'ghost-bot to be withdrawn');
    expect(await cluster.admin.hexists(spine1.keys.capabilities(), ghost.agent)).toBe(0);
  });

  it('a node whose subscriber was away reloads the agents it missed', async () => {
    const billing = await agent(1, 'billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await cluster.connect(0, 'user');
    await until(async () => (await found(user, 'card payment declined')).some((a) => a.client_id === 'billing-bot'), 10_000, 'node 0 to know billing-bot');
    // The withdrawal reached the hash but node 0 missed its announcement (its subscriber was down).
    const keys = cluster.nodes[1]!.server.bus.spine!.keys;
    const [agentId] = await cluster.admin.hkeys(keys.capabilities());
    await cluster.admin.hdel(keys.capabilities(), agentId!);
    await cluster.killSpineConnection(0, 'sub');
    await until(async () => (await found(user, 'card payment declined')).length === 0, 10_000, 'node 0 to drop billing-bot');
  });
});

describe('load balancing across nodes', () => {
  it('best mode counts requests in flight at another node\'s agent until its reply comes back', async () => {
    const near = await agent(0, 'near-bot');
    const far = await agent(1, 'far-bot');
    await near.ok('register_capabilities', { capabilities: [BILLING] });
    await far.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await cluster.connect(0, 'user');
    await until(async () => (await found(user, 'card payment declined')).length === 2, 10_000, 'node 0 to know both agents');

    const ask = async (id: string): Promise<string> => {
      user.send({ type: 'event', id, payload: { intent: { text: 'my card payment was declined' } } });
      const ack = await user.next(routed(id));
      return (ack.payload['recipients'] as Array<{ client_id: string }>)[0]!.client_id;
    };
    // Nobody answers: equally good agents take turns as their in-flight counts grow alike.
    const picks = [await ask('r1'), await ask('r2'), await ask('r3'), await ask('r4')];
    expect(picks.filter((p) => p === 'far-bot')).toHaveLength(2);
    expect(picks.filter((p) => p === 'near-bot')).toHaveLength(2);

    // The far agent answers both of its requests (through its own node): it is the least loaded now.
    for (const id of ['r1', 'r2', 'r3', 'r4'].filter((_, i) => picks[i] === 'far-bot')) {
      const intent = await far.next((e) => e.type === 'event' && e.id === id);
      far.send({ type: 'private', id: `re-${id}`, payload: { target: 'user', ok: true }, metadata: { in_reply_to: intent.id } });
      await user.next((e) => e.type === 'private' && e.id === `re-${id}`);
    }
    expect([await ask('r5'), await ask('r6')]).toEqual(['far-bot', 'far-bot']);
  });
});
