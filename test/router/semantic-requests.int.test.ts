/**
 * Request/reply over semantic routing, through the real server with the real
 * glove-sif model: replies carry `metadata.in_reply_to`, and `best` mode
 * balances near-tied agents by fewest in-flight requests, then round robin.
 * Ordering is proven with barriers: the sender's `routed` ack is sent after
 * the request is recorded, and a reply's delivery after it is finished.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING, connectAs, eventId, routed, SECRET, type Json } from './semantic-fixtures.js';

const TEXT = 'my card payment was declined';

let srv: TestServer;
const open: RawClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

const connect = (sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> => connectAs(srv.url, open, sub, extra);

async function billingAgent(sub: string): Promise<RawClient> {
  const a = await connect(sub, { client_type: 'ai-agent', caps: ['*'] });
  await a.ok('register_capabilities', { capabilities: [BILLING] });
  return a;
}

const replyTo = (id: string) => (e: Envelope): boolean => e.type === 'private' && e.metadata?.['in_reply_to'] === id;

/** Sends an intent and returns the client id of the one agent it was routed to. */
async function ask(user: RawClient, id: string): Promise<string> {
  user.send({ type: 'event', id, payload: { intent: { text: TEXT } } });
  const ack = await user.next(routed(id));
  const recipients = ack.payload['recipients'] as Json[];
  expect(recipients).toHaveLength(1);
  return recipients[0]!['client_id'] as string;
}

/** The agent answers intent `id` of `user`; resolves once the reply reached the user (the request is finished by then). */
async function answer(agent: RawClient, user: RawClient, id: string): Promise<Envelope> {
  await agent.next(eventId(id));
  agent.send({ type: 'private', id: `re-${id}`, payload: { target: 'user', text: `answer to ${id}` }, metadata: { in_reply_to: id } });
  return user.next(replyTo(id));
}

async function inFlight(user: RawClient): Promise<Record<string, number>> {
  const res = await user.ok<{ candidates: Json[] }>('route_explain', { intent: { text: TEXT } });
  return Object.fromEntries(res.candidates.map((c) => [c['client_id'] as string, c['in_flight'] as number]));
}

describe('semantic request/reply and in-flight balancing', () => {
  it('sends the next intent to the agent with fewer requests in flight, then alternates once answered', async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
    const agents = new Map([['bill-a', await billingAgent('bill-a')], ['bill-b', await billingAgent('bill-b')]]);
    const user = await connect('user');

    const first = await ask(user, 'r1'); // left unanswered for a while
    const other = first === 'bill-a' ? 'bill-b' : 'bill-a';
    expect(await inFlight(user)).toEqual({ [first]: 1, [other]: 0 });

    // Round robin alone would now alternate back to `first` after r2; fewest in-flight keeps choosing `other`.
    for (const id of ['r2', 'r3', 'r4']) {
      expect(await ask(user, id)).toBe(other);
      const reply = await answer(agents.get(other)!, user, id);
      expect(reply).toMatchObject({ type: 'private', from: other, payload: { text: `answer to ${id}` }, metadata: { in_reply_to: id } });
    }
    expect(await inFlight(user)).toEqual({ [first]: 1, [other]: 0 });

    await answer(agents.get(first)!, user, 'r1');
    expect(await inFlight(user)).toEqual({ [first]: 0, [other]: 0 });

    // Equal load: round robin, starting with the one picked least recently.
    const picks: string[] = [];
    for (const id of ['r5', 'r6', 'r7', 'r8']) {
      const to = await ask(user, id);
      picks.push(to);
      await answer(agents.get(to)!, user, id);
    }
    expect(picks).toEqual([first, other, first, other]);
    expect(srv.server.bus.semantic.requestsInFlight).toBe(0);
  });

  it('a reply finishes only the request the replying agent holds; other private messages are plain', async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
    const a = await billingAgent('bill-a');
    const user = await connect('user');
    const bystander = await connect('bystander');

    await ask(user, 'q1');
    // Someone else "replying" to q1 does not end it; it is still delivered as a normal private message.
    bystander.send({ type: 'private', id: 'fake', payload: { target: 'user' }, metadata: { in_reply_to: 'q1' } });
    expect(await user.next(replyTo('q1'))).toMatchObject({ from: 'bystander' });
    expect(await inFlight(user)).toEqual({ 'bill-a': 1 });
    // A private message without in_reply_to changes nothing either.
    a.send({ type: 'private', id: 'chat', payload: { target: 'user', text: 'one moment' } });
    expect(await user.next((e) => e.type === 'private' && e.id === 'chat')).toMatchObject({ from: 'bill-a' });
    expect(await inFlight(user)).toEqual({ 'bill-a': 1 });
    await answer(a, user, 'q1');
    expect(await inFlight(user)).toEqual({ 'bill-a': 0 });
  });

  it("drops a request when its sender disconnects, and when it times out", async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET, semanticRequestTimeoutMs: 300 });
    await billingAgent('bill-a');
    const watcher = await connect('watcher');
    const leaver = await connect('leaver');

    await ask(leaver, 'gone');
    expect(await inFlight(watcher)).toEqual({ 'bill-a': 1 });
    await leaver.close();
    open.splice(open.indexOf(leaver), 1);
    // The server handles the close at some point after it: poll with round trips.
    const drained = async (): Promise<void> => expect((await inFlight(watcher))['bill-a']).toBe(0);
    await vi.waitFor(drained, { timeout: 5000, interval: 20 });

    await ask(watcher, 'slow');
    expect(await inFlight(watcher)).toEqual({ 'bill-a': 1 });
    await vi.waitFor(drained, { timeout: 5000, interval: 50 });
    expect(srv.server.bus.semantic.requestsInFlight).toBe(0);
  });
});
