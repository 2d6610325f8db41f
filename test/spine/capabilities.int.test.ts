/**
 * Agents' capabilities across nodes (real glove-sif model on every node): an
 * agent declared on one node is found and routed to from another, and
 * vanishes everywhere when it unregisters or disconnects.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import { barrier, Cluster, until } from './cluster.js';

const BILLING = {
  name: 'billing.payments',
  description: 'Card payments, billing, invoices and refunds',
  examples: ['my card payment was declined', 'I was charged twice on my invoice', 'please refund my payment'],
};
const WEATHER = {
  name: 'weather.forecast',
  description: 'Weather forecast: rain, temperature and wind',
  examples: ['will it rain tomorrow', 'what is the temperature this weekend'],
};

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
const routed = (id: string) => (e: Envelope): boolean => e.type === 'system' && e.payload['event'] === 'routed' && e.payload['request_id'] === id;

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

  it('a node that starts later learns the agents already declared', async () => {
    const billing = await agent(0, 'billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    await cluster.addNode();
    const late = await cluster.connect(2, 'late');
    await until(async () => (await found(late, 'refund my payment')).some((a) => a.client_id === 'billing-bot'), 10_000, 'the new node to load billing-bot');
  });
});
