/**
 * Semantic routing through the real server: real clients, the real bundled
 * glove-sif model. Absence is proven with barriers (a command round trip on
 * every would-be receiver after the send), never with sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import type { TokenClaims } from '../../src/identity/mint.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING as BILLING_UNTAGGED, connectAs, errorFor, eventId, routed, SECRET, WEATHER, type Json } from './semantic-fixtures.js';

/** Tags are carried with a capability, not scored: declared here to exercise their validation path. */
const BILLING = { ...BILLING_UNTAGGED, tags: ['finance'] };

let srv: TestServer;
const open: RawClient[] = [];

const connect = (sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> => connectAs(srv.url, open, sub, extra);

const agent = (sub: string, caps: string[] = ['*'], tenant = 'acme'): Promise<RawClient> => connect(sub, { client_type: 'ai-agent', caps, tenant });

async function barrier(...clients: RawClient[]): Promise<void> {
  for (const c of clients) await c.barrier();
}

describe('semantic routing', () => {
  beforeEach(async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  describe('register_capabilities', () => {
    it('refuses a client that is not an ai-agent', async () => {
      const human = await connect('hugo', { caps: ['*'] });
      const res = await human.command('register_capabilities', { capabilities: [BILLING] });
      expect(res).toMatchObject({ status: 'error', error_code: 'PERMISSION_DENIED', details: { action: 'client_type' } });
    });

    it('refuses a name that matches no caps pattern, and accepts one that does (glob)', async () => {
      const a = await agent('billy', ['billing.*']);
      const denied = await a.command('register_capabilities', { capabilities: [WEATHER] });
      expect(denied).toMatchObject({ status: 'error', error_code: 'PERMISSION_DENIED', details: { action: 'caps', capability: 'weather.forecast' } });
      expect(await a.ok('register_capabilities', { capabilities: [BILLING] })).toMatchObject({ registered: ['billing.payments'] });
    });

    it('answers INVALID_PARAMETERS for bad shapes, naming the field', async () => {
      const a = await agent('shape');
      for (const [params, parameter] of [
        [{}, 'capabilities'],
        [{ capabilities: [] }, 'capabilities'],
        [{ capabilities: ['x'] }, 'capabilities[0]'],
        [{ capabilities: [{ name: 'ok', description: '' }] }, 'capabilities[0].description'],
        [{ capabilities: [{ name: 'bad name', description: 'x' }] }, 'capabilities[0].name'],
        [{ capabilities: [{ name: 'a', description: 'x', examples: 'no' }] }, 'capabilities[0].examples'],
      ] as const) {
        const res = await a.command('register_capabilities', params);
        expect(res, JSON.stringify(params)).toMatchObject({ status: 'error', error_code: 'INVALID_PARAMETERS', details: { parameter } });
      }
    });
  });

  it('best mode delivers to the matching agent with metadata.route, and acknowledges the sender', async () => {
    const billing = await agent('billing-bot');
    const weather = await agent('weather-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    await weather.ok('register_capabilities', { capabilities: [WEATHER] });
    const user = await connect('user');

    user.send({ type: 'event', id: 'i1', payload: { intent: { text: 'my card payment was declined' }, text: 'help' }, metadata: { trace: 't1' } });
    const ack = await user.next(routed('i1'));
    const got = await billing.next(eventId('i1'));
    expect(got).toMatchObject({ from: 'user', room: null, channel: null, payload: { text: 'help' }, metadata: { trace: 't1', route: { capability: 'billing.payments', mode: 'best' } } });
    const route = got.metadata!['route'] as Json;
    expect(route['agent']).toMatch(/^cx_/);
    expect(route['score']).toBeGreaterThan(0.45);
    expect(ack.payload['recipients']).toEqual([{ agent: route['agent'], client_id: 'billing-bot', capability: 'billing.payments', score: route['score'] }]);
    await barrier(weather);
    expect(weather.received.filter((e) => e.type === 'event')).toEqual([]);
  });

  it('answers ROUTE_NO_MATCH with candidates for an unrelated intent, and for one with no known word', async () => {
    const billing = await agent('billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await connect('user');

    user.send({ type: 'event', id: 'n1', payload: { intent: { text: 'the cathedral organ played a fugue' } } });
    const err = await user.next(errorFor('n1'));
    expect(err).toMatchObject({ error_code: 'ROUTE_NO_MATCH', retryable: false, payload: { reason: 'ROUTE_NO_MATCH', no_match_reason: 'below_threshold' } });
    const candidates = err.payload['candidates'] as Json[];
    expect(candidates[0]).toMatchObject({ client_id: 'billing-bot', capability: 'billing.payments' });
    expect(typeof candidates[0]!['score']).toBe('number');

    user.send({ type: 'event', id: 'n2', payload: { intent: { text: 'zzqxv qqzzx' } } });
    expect(await user.next(errorFor('n2'))).toMatchObject({ error_code: 'ROUTE_NO_MATCH', payload: { no_match_reason: 'zero_vector', candidates: [] } });
    await barrier(billing);
    expect(billing.received.filter((e) => e.type === 'event')).toEqual([]);
  });

  it("min_score overrides the model's threshold for one intent, both ways, and must lie in [-1, 1]", async () => {
    const billing = await agent('billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await connect('user');
    user.send({ type: 'event', id: 'strict', payload: { intent: { text: 'my card payment was declined', min_score: 0.999 } } });
    const strict = await user.next(errorFor('strict'));
    expect(strict).toMatchObject({ error_code: 'ROUTE_NO_MATCH', payload: { no_match_reason: 'below_threshold', threshold: 0.999 } });
    expect((strict.payload['candidates'] as Json[])[0]).toMatchObject({ client_id: 'billing-bot' });
    user.send({ type: 'event', id: 'lax', payload: { intent: { text: 'the cathedral organ played a fugue', min_score: -1 } } });
    expect((await user.next(routed('lax'))).payload['recipients']).toMatchObject([{ client_id: 'billing-bot' }]);
    user.send({ type: 'event', id: 'bad', payload: { intent: { text: 'x', min_score: 2 } } });
    expect(await user.next(errorFor('bad'))).toMatchObject({ error_code: 'INVALID_FIELD', payload: { field: 'payload.intent.min_score' } });
    expect((await billing.next(eventId('lax'))).metadata!['route']).toMatchObject({ capability: 'billing.payments' });
    await barrier(billing);
    expect(billing.received.filter((e) => e.type === 'event')).toEqual([]);
  });

  it('all mode delivers to every agent above the threshold', async () => {
    const a1 = await agent('billing-1');
    const a2 = await agent('billing-2');
    const w = await agent('weather-bot');
    await a1.ok('register_capabilities', { capabilities: [BILLING] });
    await a2.ok('register_capabilities', { capabilities: [BILLING] });
    await w.ok('register_capabilities', { capabilities: [WEATHER] });
    const user = await connect('user');

    user.send({ type: 'event', id: 'all1', payload: { intent: { text: 'my card payment was declined', mode: 'all' } } });
    const ack = await user.next(routed('all1'));
    const ids = (ack.payload['recipients'] as Json[]).map((r) => r['client_id']).sort();
    expect(ids).toEqual(['billing-1', 'billing-2']);
    for (const c of [a1, a2]) expect((await c.next(eventId('all1'))).metadata!['route']).toMatchObject({ mode: 'all' });
    await barrier(w);
    expect(w.received.filter((e) => e.type === 'event')).toEqual([]);
  });

  it('k mode delivers to the k best agents above the threshold, best first; k is required and bounded', async () => {
    const agents = [await agent('billing-1'), await agent('billing-2'), await agent('billing-3')];
    for (const a of agents) await a.ok('register_capabilities', { capabilities: [BILLING] });
    const w = await agent('weather-bot');
    await w.ok('register_capabilities', { capabilities: [WEATHER] });
    const user = await connect('user');

    user.send({ type: 'event', id: 'k2', payload: { intent: { text: 'my card payment was declined', mode: 'k', k: 2 } } });
    const recipients = (await user.next(routed('k2'))).payload['recipients'] as Json[];
    expect(recipients).toHaveLength(2);
    expect(recipients[0]!['score'] as number).toBeGreaterThanOrEqual(recipients[1]!['score'] as number);
    for (const r of recipients) expect(['billing-1', 'billing-2', 'billing-3']).toContain(r['client_id']);
    const delivered = await Promise.all(recipients.map((r) => agents[Number(String(r['client_id']).slice(-1)) - 1]!.next(eventId('k2'))));
    for (const [i, got] of delivered.entries()) expect(got.metadata!['route']).toEqual({ agent: recipients[i]!['agent'], capability: 'billing.payments', score: recipients[i]!['score'], mode: 'k' });
    // k larger than the agents above the threshold: only those (the weather agent is below it).
    user.send({ type: 'event', id: 'k9', payload: { intent: { text: 'my card payment was declined', mode: 'k', k: 9 } } });
    expect(((await user.next(routed('k9'))).payload['recipients'] as Json[]).map((r) => r['client_id']).sort()).toEqual(['billing-1', 'billing-2', 'billing-3']);
    for (const [id, intent] of [['k-none', { mode: 'k' }], ['k-zero', { mode: 'k', k: 0 }], ['k-best', { k: 2 }]] as const) {
      user.send({ type: 'event', id, payload: { intent: { text: 'my card payment was declined', ...intent } } });
      expect(await user.next(errorFor(id)), id).toMatchObject({ error_code: 'INVALID_FIELD', payload: { field: 'payload.intent.k' } });
    }
    await barrier(w);
    expect(w.received.filter((e) => e.type === 'event')).toEqual([]);
  });

  it('re-declaring a capability by name replaces it (its texts), without duplicating it', async () => {
    const a = await agent('shape-shifter');
    await a.ok('register_capabilities', { capabilities: [{ ...BILLING, name: 'desk' }] });
    const user = await connect('user');
    const before = await user.ok<{ agents: Json[] }>('find_agents', { text: 'will it rain tomorrow', k: 5 });
    expect(before.agents.map((m) => m['capability'])).toEqual(['desk']);
    await a.ok('register_capabilities', { capabilities: [{ ...WEATHER, name: 'desk' }] });
    const after = await user.ok<{ agents: Json[] }>('find_agents', { text: 'will it rain tomorrow', k: 5 });
    expect(after.agents.map((m) => m['capability'])).toEqual(['desk']);
    expect(after.agents[0]!['score'] as number).toBeGreaterThan(before.agents[0]!['score'] as number);
    user.send({ type: 'event', id: 'rain', payload: { intent: { text: 'will it rain tomorrow' } } });
    expect((await user.next(routed('rain'))).payload['recipients']).toMatchObject([{ client_id: 'shape-shifter', capability: 'desk' }]);
  });

  it('runs topic routing and semantic routing when an intent event also names a channel', async () => {
    const billing = await agent('billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await connect('user');
    const peer = await connect('peer');
    await user.ok('join_channel', { room: 'support', channel: 'desk' });
    await peer.ok('join_channel', { room: 'support', channel: 'desk' });

    user.send({ type: 'event', id: 'both', room: 'support', channel: 'desk', payload: { intent: { text: 'please refund my payment' } } });
    await user.next(routed('both'));
    expect(await peer.next(eventId('both'))).toMatchObject({ room: 'support', channel: 'desk' });
    expect((await billing.next(eventId('both'))).metadata!['route']).toMatchObject({ capability: 'billing.payments' });
  });

  it('find_agents ranks capabilities with scores and has no side effects', async () => {
    const billing = await agent('billing-bot');
    const weather = await agent('weather-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    await weather.ok('register_capabilities', { capabilities: [WEATHER] });
    const user = await connect('user');
    const res = await user.ok<{ agents: Json[]; count: number }>('find_agents', { text: 'will it rain tomorrow', k: 2 });
    expect(res.count).toBe(2);
    expect(res.agents[0]).toMatchObject({ client_id: 'weather-bot', capability: 'weather.forecast' });
    expect(res.agents[0]!['score'] as number).toBeGreaterThan(res.agents[1]!['score'] as number);
    for (const k of [0, 65, 1024]) {
      expect(await user.command('find_agents', { k, text: 'x' }), String(k)).toMatchObject({ error_code: 'INVALID_PARAMETERS', details: { parameter: 'k' } });
    }
    expect((await user.ok<{ count: number }>('find_agents', { text: 'card payment', k: 64 })).count).toBe(2);
    await barrier(billing, weather);
    expect([...billing.received, ...weather.received].filter((e) => e.type === 'event')).toEqual([]);
  });

  it('route_explain returns the full scoring and the outcome', async () => {
    const billing = await agent('billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await connect('user');
    const res = await user.ok<Json>('route_explain', { intent: { text: 'my card payment was declined' } });
    expect(res).toMatchObject({ model: 'glove-sif-100', dimension: 100, mode: 'best', outcome: { matched: true, matches: [{ client_id: 'billing-bot' }] } });
    expect(res).toHaveProperty('weights');
    expect(res).toHaveProperty('threshold');
    const [c] = res['candidates'] as Json[];
    expect(c).toMatchObject({ rank: 1, capability: 'billing.payments', above_threshold: true, agent_best: true, in_flight: 0 });
    expect(c!['components']).toHaveProperty('centroid');
  });

  it('capabilities vanish when the agent disconnects; unregister removes them too', async () => {
    const billing = await agent('billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING, { ...WEATHER }] });
    expect(await billing.ok('unregister_capabilities', { names: ['weather.forecast', 'nope'] })).toMatchObject({ removed: ['weather.forecast'] });
    const user = await connect('user');
    expect((await user.ok<{ count: number }>('find_agents', { text: 'will it rain tomorrow', k: 5 })).count).toBe(1);
    await billing.close();
    open.splice(open.indexOf(billing), 1);
    // The server handles the close before the next frame of any connection it reads after it: poll via round trips.
    let count = 1;
    for (let i = 0; i < 50 && count > 0; i++) count = (await user.ok<{ count: number }>('find_agents', { text: 'card payment', k: 5 })).count;
    expect(count).toBe(0);
    user.send({ type: 'event', id: 'gone', payload: { intent: { text: 'my card payment was declined' } } });
    expect(await user.next(errorFor('gone'))).toMatchObject({ error_code: 'ROUTE_NO_MATCH', payload: { no_match_reason: 'no_candidates' } });
  });

  it("keeps tenants apart: tenant B's intent never reaches tenant A's agent", async () => {
    const acmeBilling = await agent('billing-bot', ['*'], 'acme');
    await acmeBilling.ok('register_capabilities', { capabilities: [BILLING] });
    const globexUser = await connect('user', { tenant: 'globex' });
    globexUser.send({ type: 'event', id: 't1', payload: { intent: { text: 'my card payment was declined' } } });
    expect(await globexUser.next(errorFor('t1'))).toMatchObject({ error_code: 'ROUTE_NO_MATCH', payload: { candidates: [] } });
    expect((await globexUser.ok<{ count: number }>('find_agents', { text: 'card payment' })).count).toBe(0);
    await barrier(acmeBilling);
    expect(acmeBilling.received.filter((e) => e.type === 'event')).toEqual([]);
  });

  it('vector intents: the right model routes; another model, no model, an unknown model or a wrong dimension are refused', async () => {
    const billing = await agent('billing-bot');
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await connect('user');
    const provider = await GloveSifProvider.load();
    const [vector] = await provider.embed(['my card payment was declined']);
    await provider.close();

    user.send({ type: 'event', id: 'v1', payload: { intent: { vector: [...vector!], model: 'glove-sif-100' } } });
    expect((await user.next(routed('v1'))).payload['recipients']).toMatchObject([{ client_id: 'billing-bot' }]);
    user.send({ type: 'event', id: 'v2', payload: { intent: { vector: [...vector!], model: 'use-lite-512' } } });
    expect(await user.next(errorFor('v2'))).toMatchObject({ error_code: 'INVALID_FIELD', payload: { field: 'payload.intent.model' } });
    user.send({ type: 'event', id: 'v3', payload: { intent: { vector: [1, 2, 3], model: 'glove-sif-100' } } });
    expect(await user.next(errorFor('v3'))).toMatchObject({ error_code: 'INVALID_FIELD', payload: { field: 'payload.intent.vector' } });
    user.send({ type: 'event', id: 'v4', payload: { intent: { vector: [...vector!] } } });
    expect(await user.next(errorFor('v4'))).toMatchObject({ error_code: 'INVALID_FIELD', payload: { field: 'payload.intent.model' } });
    user.send({ type: 'event', id: 'v5', payload: { intent: { vector: [...vector!], model: 'no-such-model' } } });
    expect(await user.next(errorFor('v5'))).toMatchObject({ error_code: 'INVALID_FIELD', payload: { field: 'payload.intent.model' } });
    // Discovery and explanation apply the same rules, naming their own parameters.
    expect(await user.ok<{ agents: Json[] }>('find_agents', { vector: [...vector!], model: 'glove-sif-100' })).toMatchObject({ agents: [{ client_id: 'billing-bot' }] });
    for (const [params, parameter] of [
      [{ vector: [...vector!], model: 'use-lite-512' }, 'model'],
      [{ vector: [...vector!] }, 'model'],
      [{ vector: [...vector!.slice(1)], model: 'glove-sif-100' }, 'vector'],
    ] as const) {
      expect(await user.command('find_agents', params), JSON.stringify(parameter)).toMatchObject({ error_code: 'INVALID_PARAMETERS', details: { parameter } });
      expect(await user.command('route_explain', { intent: params })).toMatchObject({ error_code: 'INVALID_PARAMETERS', details: { parameter: `intent.${parameter}` } });
    }
    // Nothing reached the agent but the one routed intent.
    await barrier(billing);
    expect(billing.received.filter((e) => e.type === 'event').map((e) => e.id)).toEqual(['v1']);
  });

  it('intents need a publish permission; an event with neither channel nor intent is still INVALID_CHANNEL', async () => {
    const user = await connect('mute', { permissions: { subscribe: ['*'] } });
    user.send({ type: 'event', id: 'p1', payload: { intent: { text: 'card payment' } } });
    expect(await user.next(errorFor('p1'))).toMatchObject({ error_code: 'PERMISSION_DENIED', payload: { action: 'publish' } });
    user.send({ type: 'event', id: 'p2', payload: { text: 'nowhere' } });
    expect(await user.next(errorFor('p2'))).toMatchObject({ error_code: 'INVALID_CHANNEL' });
  });
});

describe('semantic routing unavailable', () => {
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  it('answers SEMANTIC_UNAVAILABLE when the model files are missing', async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET }, { semanticProvider: () => GloveSifProvider.load({ modelsDir: '/nonexistent-models' }) });
    const a = await agent('billing-bot');
    expect(await a.command('register_capabilities', { capabilities: [BILLING] })).toMatchObject({
      status: 'error', error_code: 'SEMANTIC_UNAVAILABLE', retryable: false, details: { reason: 'MODEL_NOT_BUILT' },
    });
    a.send({ type: 'event', id: 'u1', payload: { intent: { text: 'card payment' } } });
    expect(await a.next(errorFor('u1'))).toMatchObject({ error_code: 'SEMANTIC_UNAVAILABLE', retryable: false });
    await a.barrier();
  });

  it('answers SEMANTIC_UNAVAILABLE when semantic routing is off', async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET, semanticModel: 'off' });
    const user = await connect('user');
    expect(await user.command('find_agents', { text: 'card payment' })).toMatchObject({ error_code: 'SEMANTIC_UNAVAILABLE' });
  });
});
