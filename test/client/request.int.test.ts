/**
 * The SDK's request/reply over semantic routing, against the real server and
 * the real glove-sif model: request() resolves with the agent's reply(),
 * rejects with ROUTE_NO_MATCH (typed, candidates in details) or TIMEOUT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArqonClient, ArqonClientError, type ClientOptions } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';

const BILLING = {
  name: 'billing.payments',
  description: 'Card payments, billing, invoices and refunds',
  examples: ['my card payment was declined', 'I was charged twice on my invoice', 'please refund my payment'],
};

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ connect: (o?: Partial<ClientOptions>) => Promise<ArqonClient> }> {
  const s = await startServer();
  cleanups.push(() => s.close());
  return {
    connect: async (o = {}) => {
      const c = new ArqonClient({ url: s.url, reconnect: false, ...o });
      cleanups.push(() => c.close());
      await c.connect();
      return c;
    },
  };
}

describe('ArqonClient.request / reply', () => {
  it('resolves with the reply of the agent the intent was routed to', async () => {
    const { connect } = await setup();
    const agent = await connect({ clientType: 'ai-agent' });
    await agent.command('register_capabilities', { capabilities: [BILLING] });
    const seen: string[] = [];
    agent.on('intent', (e) => {
      seen.push(e.id);
      agent.reply(e, { answer: `refund issued for: ${String(e.payload['text'])}` });
    });
    const user = await connect();
    const privates: unknown[] = [];
    user.on('private', (e) => privates.push(e));

    const reply = await user.request({ text: 'my card payment was declined' }, { text: 'order 42' }, { timeoutMs: 5000 });
    expect(reply).toMatchObject({ type: 'private', from: agent.welcome!.client_id, payload: { answer: 'refund issued for: order 42' } });
    expect(reply.metadata!['in_reply_to']).toBe(seen[0]);
    expect(privates).toEqual([]); // the reply settled the request instead of being emitted
  });

  it('rejects with a typed ROUTE_NO_MATCH carrying the candidates', async () => {
    const { connect } = await setup();
    const agent = await connect({ clientType: 'ai-agent' });
    await agent.command('register_capabilities', { capabilities: [BILLING] });
    const user = await connect();
    const err = await user.request({ text: 'the cathedral organ played a fugue' }, {}, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArqonClientError);
    expect(err).toMatchObject({ code: 'ROUTE_NO_MATCH', retryable: false, details: { no_match_reason: 'below_threshold' } });
    const candidates = (err as ArqonClientError).details!['candidates'] as Record<string, unknown>[];
    expect(candidates[0]).toMatchObject({ client_id: agent.welcome!.client_id, capability: 'billing.payments' });
  });

  it('rejects with TIMEOUT when the agent never replies, and refuses a bad reply target', async () => {
    const { connect } = await setup();
    const agent = await connect({ clientType: 'ai-agent' });
    await agent.command('register_capabilities', { capabilities: [BILLING] });
    const user = await connect();
    const err = await user.request({ text: 'please refund my payment' }, {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', details: { timeout_ms: 150 } });
    await expect(user.request({ text: 'x' }, {}, { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(() => agent.reply({ version: '1.0', id: 'x', type: 'system', room: null, channel: null, from: null, timestamp: '', payload: {} }, {})).toThrow(ArqonClientError);
  });
});
