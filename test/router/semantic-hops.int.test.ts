/**
 * "CASIL and permissions apply to routed messages like to any other hop",
 * through the real server (CASIL on by default, in enforce mode) and the real
 * glove-sif model: an intent carrying a probable secret is blocked before the
 * semantic router runs and never reaches the matching agent; an agent's reply
 * carrying one never reaches the requester and does not end the request; an
 * intent addressed to a channel the sender may not publish to is refused by
 * topic routing, and semantic routing then does not run either. Absence is
 * proven with barriers and with the routing metrics, which count every intent
 * that reached the semantic router.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING, connectAs, errorFor, eventId, metric, routed, SECRET, type Json } from './semantic-fixtures.js';

/** A well-formed AWS access key id (split so that scanners of this repository do not flag it). */
const AWS_KEY = 'AKIA' + 'Q3EGRIVXNXT7HZWA';
const TEXT = 'my card payment was declined';

let srv: TestServer;
const open: RawClient[] = [];

beforeEach(async () => {
  srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

async function billingAgent(): Promise<RawClient> {
  const a = await connectAs(srv.url, open, 'billing-bot', { client_type: 'ai-agent', caps: ['*'] });
  await a.ok('register_capabilities', { capabilities: [BILLING] });
  return a;
}

/** Intents that reached the semantic router, whatever their outcome. */
async function intentsRouted(): Promise<number> {
  const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  let n = 0;
  for (const outcome of ['matched', 'no_match', 'error']) for (const mode of ['best', 'all', 'k']) n += metric(text, `arqon_intents_routed_total{outcome="${outcome}",mode="${mode}"}`);
  return n;
}

const inFlight = async (user: RawClient): Promise<number> =>
  ((await user.ok<{ candidates: Json[] }>('route_explain', { intent: { text: TEXT } })).candidates[0]!['in_flight'] as number);
const replyTo = (id: string) => (e: Envelope): boolean => e.type === 'private' && e.metadata?.['in_reply_to'] === id;

describe('CASIL on routed messages', () => {
  it('blocks an intent carrying a probable secret before routing: the matching agent never sees it', async () => {
    const agent = await billingAgent();
    const user = await connectAs(srv.url, open, 'user');

    // The intent text matches the agent; the secret rides elsewhere in the payload, then in the text itself.
    const leaks: Array<[string, Json]> = [
      ['in-payload', { intent: { text: TEXT }, note: `my key is ${AWS_KEY}` }],
      ['in-text', { intent: { text: `${TEXT}, key ${AWS_KEY}` } }],
      ['in-metadata', { intent: { text: TEXT } }],
    ];
    for (const [id, payload] of leaks) {
      user.send({ type: 'event', id, payload, ...(id === 'in-metadata' ? { metadata: { auth: AWS_KEY } } : {}) });
      const err = await user.next(errorFor(id));
      expect(err, id).toMatchObject({ error_code: 'CASIL_POLICY_BLOCKED_SECRET', payload: { reason: 'CASIL_POLICY_BLOCKED_SECRET' }, room: null, channel: null });
    }
    await user.barrier();
    await agent.barrier();
    expect(agent.received.filter((e) => e.type === 'event')).toEqual([]);
    expect(user.received.filter((e) => e.type === 'system' && e.payload['event'] === 'routed')).toEqual([]);
    expect(await intentsRouted()).toBe(0);
    expect(await inFlight(user)).toBe(0);

    // The same intent without the secret is routed as usual.
    user.send({ type: 'event', id: 'clean', payload: { intent: { text: TEXT }, note: 'no key here' } });
    await user.next(routed('clean'));
    expect((await agent.next(eventId('clean'))).payload).toEqual({ intent: { text: TEXT }, note: 'no key here' });
    expect(await intentsRouted()).toBe(1);
    expect(JSON.stringify(agent.received)).not.toContain(AWS_KEY);
  });

  it("blocks an agent's reply carrying a probable secret: the requester never gets it and the request stays in flight", async () => {
    const agent = await billingAgent();
    const user = await connectAs(srv.url, open, 'user');
    user.send({ type: 'event', id: 'q1', payload: { intent: { text: TEXT } } });
    await user.next(routed('q1'));
    await agent.next(eventId('q1'));
    expect(await inFlight(user)).toBe(1);

    agent.send({ type: 'private', id: 'leaky-reply', payload: { target: 'user', text: `use ${AWS_KEY}` }, metadata: { in_reply_to: 'q1' } });
    expect(await agent.next(errorFor('leaky-reply'))).toMatchObject({ error_code: 'CASIL_POLICY_BLOCKED_SECRET' });
    await user.barrier();
    expect(user.received.filter(replyTo('q1'))).toEqual([]);
    expect(await inFlight(user)).toBe(1);

    agent.send({ type: 'private', id: 'good-reply', payload: { target: 'user', text: 'refund opened' }, metadata: { in_reply_to: 'q1' } });
    expect(await user.next(replyTo('q1'))).toMatchObject({ from: 'billing-bot', payload: { text: 'refund opened' } });
    expect(await inFlight(user)).toBe(0);
  });
});

describe('permissions on routed messages', () => {
  it('an intent addressed to a channel the sender may not publish to (or has not joined) is refused, and not routed by meaning either', async () => {
    const agent = await billingAgent();
    // May publish in lobby only: enough for intents without a channel, not for support:desk.
    const user = await connectAs(srv.url, open, 'user', { permissions: { publish: ['lobby:*'], subscribe: ['*'] } });
    user.send({ type: 'event', id: 'elsewhere', room: 'support', channel: 'desk', payload: { intent: { text: TEXT } } });
    expect(await user.next(errorFor('elsewhere'))).toMatchObject({ error_code: 'PERMISSION_DENIED', payload: { action: 'publish' } });
    // Allowed there but not a member: topic routing refuses too, and that ends the hop.
    user.send({ type: 'event', id: 'not-joined', room: 'lobby', channel: 'general', payload: { intent: { text: TEXT } } });
    expect(await user.next(errorFor('not-joined'))).toMatchObject({ error_code: 'NOT_A_MEMBER' });
    await user.barrier();
    await agent.barrier();
    expect(agent.received.filter((e) => e.type === 'event')).toEqual([]);
    expect(await intentsRouted()).toBe(0);

    // Without a channel the same sender's intent is routed: a publish pattern is what intents need.
    user.send({ type: 'event', id: 'unaddressed', payload: { intent: { text: TEXT } } });
    await user.next(routed('unaddressed'));
    expect((await agent.next(eventId('unaddressed'))).from).toBe('user');
  });

  it('an agent receives intents without any channel permission of its own', async () => {
    const agent = await connectAs(srv.url, open, 'bare-agent', { client_type: 'ai-agent', caps: ['billing.*'], permissions: {} });
    await agent.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await connectAs(srv.url, open, 'user');
    user.send({ type: 'event', id: 'to-bare', payload: { intent: { text: TEXT } } });
    await user.next(routed('to-bare'));
    const got = await agent.next(eventId('to-bare'));
    // And it can answer privately (private messages need no channel permission).
    agent.send({ type: 'private', id: 're', payload: { target: got.from, text: 'on it' }, metadata: { in_reply_to: 'to-bare' } });
    expect(await user.next(replyTo('to-bare'))).toMatchObject({ from: 'bare-agent' });
  });
});
