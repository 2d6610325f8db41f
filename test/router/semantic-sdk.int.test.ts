/**
 * The SDK's side of request/reply, against the real server and the real
 * glove-sif model, where test/client/request.int.test.ts leaves off: what
 * happens after a TIMEOUT (a late reply is an ordinary private message, and
 * still ends the request at the server), a request blocked by CASIL (typed,
 * at once, not a TIMEOUT), `reply()` keeping its address whatever the payload
 * says, `all` mode (first reply wins, later ones are plain private messages)
 * and vector intents. Ordering comes from the messages themselves (the
 * TIMEOUT rejection, a reply's arrival), never from sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArqonClient, type ClientOptions, type Envelope } from '../../src/client/index.js';
import { GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING } from './semantic-fixtures.js';

const AWS_KEY = 'AKIA' + 'Q3EGRIVXNXT7HZWA';
const TEXT = 'my card payment was declined';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let srv: TestServer;

async function connect(o: Partial<ClientOptions> = {}): Promise<ArqonClient> {
  const c = new ArqonClient({ url: srv.url, reconnect: false, ...o });
  cleanups.push(() => c.close());
  await c.connect();
  return c;
}

/** An agent with the billing capability that hands every intent it receives to the test. */
async function billingAgent(): Promise<{ agent: ArqonClient; intents: Envelope[]; next: () => Promise<Envelope> }> {
  const agent = await connect({ clientType: 'ai-agent' });
  await agent.command('register_capabilities', { capabilities: [BILLING] });
  const intents: Envelope[] = [];
  const waiting: Array<(e: Envelope) => void> = [];
  agent.on('intent', (e) => {
    const w = waiting.shift();
    if (w !== undefined) w(e);
    else intents.push(e);
  });
  const next = (): Promise<Envelope> => {
    const ready = intents.shift();
    return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
  };
  return { agent, intents, next };
}

/** Requests in flight at the server, as route_explain reports them for the billing agent. */
async function inFlight(c: ArqonClient): Promise<number> {
  const res = (await c.command('route_explain', { intent: { text: TEXT } })) as { candidates: Array<{ in_flight: number }> };
  return res.candidates[0]!.in_flight;
}

describe('ArqonClient.request / reply, further', () => {
  it('after a TIMEOUT, a late reply arrives as a private message and still ends the request at the server', async () => {
    srv = await startServer();
    cleanups.push(() => srv.close());
    const { agent, next } = await billingAgent();
    const user = await connect();
    const privates: Envelope[] = [];
    user.on('private', (e) => privates.push(e));

    const pending = user.request({ text: TEXT }, {}, { timeoutMs: 300 });
    const intent = await next();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', requestId: intent.id, details: { timeout_ms: 300 } });
    expect(await inFlight(user)).toBe(1);

    // The agent answers only now; the requester has given up, so it is an ordinary private message.
    const late = new Promise<Envelope>((resolve) => user.on('private', resolve));
    agent.reply(intent, { text: 'sorry, late' });
    expect(await late).toMatchObject({ from: agent.welcome!.client_id, payload: { text: 'sorry, late' }, metadata: { in_reply_to: intent.id } });
    expect(privates).toHaveLength(1);
    expect(await inFlight(user)).toBe(0);
  });

  it('rejects with the CASIL code, not a TIMEOUT, when the intent carries a probable secret; the agent never sees it', async () => {
    srv = await startServer();
    cleanups.push(() => srv.close());
    const { agent, next } = await billingAgent();
    const user = await connect();
    const err = await user.request({ text: TEXT }, { note: `key ${AWS_KEY}` }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CASIL_POLICY_BLOCKED_SECRET', retryable: false });
    // The server handles one sender's frames in order: had the blocked intent been routed, the agent
    // would receive it before this clean one.
    const answered = user.request({ text: TEXT }, { note: 'no key' }, { timeoutMs: 5000 });
    const first = await next();
    expect(first.payload).toEqual({ note: 'no key', intent: { text: TEXT } });
    agent.reply(first, { text: 'ok' });
    expect((await answered).payload).toMatchObject({ text: 'ok' });
  });

  it('reply() goes to the sender with in_reply_to, whatever target the payload names', async () => {
    srv = await startServer();
    cleanups.push(() => srv.close());
    const { agent, next } = await billingAgent();
    const user = await connect();
    const bystander = await connect();
    const stray: Envelope[] = [];
    bystander.on('private', (e) => stray.push(e));

    const answered = user.request({ text: TEXT }, { order: 42 }, { timeoutMs: 5000 });
    const intent = await next();
    expect(intent.payload).toMatchObject({ order: 42, intent: { text: TEXT } });
    agent.reply(intent, { text: 'done', target: bystander.welcome!.client_id });
    const reply = await answered;
    expect(reply).toMatchObject({ from: agent.welcome!.client_id, payload: { text: 'done', target: user.welcome!.client_id }, metadata: { in_reply_to: intent.id } });
    await bystander.command('ping');
    expect(stray).toEqual([]);
  });

  it('all mode: the first reply resolves the request, a later one is a plain private message', async () => {
    srv = await startServer();
    cleanups.push(() => srv.close());
    const a = await billingAgent();
    const b = await billingAgent();
    const user = await connect();
    const privates: Envelope[] = [];
    user.on('private', (e) => privates.push(e));

    const answered = user.request({ text: TEXT }, {}, { timeoutMs: 5000, mode: 'all' });
    const [ia, ib] = await Promise.all([a.next(), b.next()]);
    expect(ia.id).toBe(ib.id);
    a.agent.reply(ia, { text: 'from a' });
    expect((await answered).payload).toMatchObject({ text: 'from a' });
    const second = new Promise<Envelope>((resolve) => user.on('private', resolve));
    b.agent.reply(ib, { text: 'from b' });
    expect(await second).toMatchObject({ payload: { text: 'from b' }, metadata: { in_reply_to: ia.id } });
    expect(privates.map((p) => p.payload['text'])).toEqual(['from b']);
  });

  it('routes a vector intent of the server model, and rejects one of another model as INVALID_FIELD', async () => {
    srv = await startServer();
    cleanups.push(() => srv.close());
    const { agent, next } = await billingAgent();
    const user = await connect();
    const provider = await GloveSifProvider.load();
    const [v] = await provider.embed([TEXT]);
    await provider.close();

    const answered = user.request({ vector: [...v!], model: 'glove-sif-100' }, {}, { timeoutMs: 5000 });
    const intent = await next();
    expect(intent.metadata!['route']).toMatchObject({ capability: 'billing.payments', mode: 'best' });
    agent.reply(intent, { text: 'vector ok' });
    expect((await answered).payload).toMatchObject({ text: 'vector ok' });
    await expect(user.request({ vector: [...v!], model: 'use-lite-512' }, {}, { timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'INVALID_FIELD',
      details: { field: 'payload.intent.model' },
    });
  });

  it('a private message from anyone but a routed agent never settles the request, even with the right in_reply_to', async () => {
    srv = await startServer();
    cleanups.push(() => srv.close());
    const { agent, next } = await billingAgent();
    const user = await connect();
    const { client: spoofer, welcome: spooferWelcome } = await RawClient.connect(srv.url);
    cleanups.push(() => spoofer.close());
    const privates: Envelope[] = [];
    user.on('private', (e) => privates.push(e));

    const pending = user.request({ text: TEXT }, {}, { timeoutMs: 5000 });
    const intent = await next();
    // The spoofer guessed the id (ids are a per-client prefix plus a counter) and answers first.
    const spoofed = new Promise<Envelope>((resolve) => user.on('private', resolve));
    const spooferId = (spooferWelcome.payload as { client_id: string }).client_id;
    spoofer.send({ type: 'private', id: 'spoof-1', payload: { target: user.welcome!.client_id, text: 'pay me instead' }, metadata: { in_reply_to: intent.id } });
    expect(await spoofed).toMatchObject({ from: spooferId, metadata: { in_reply_to: intent.id } });

    agent.reply(intent, { text: 'refund opened' });
    const reply = await pending;
    expect(reply).toMatchObject({ from: agent.welcome!.client_id, payload: { text: 'refund opened' } });
    expect(privates.map((e) => e.from)).toEqual([spooferId]);
  });
});
