/**
 * The example agent runtime (examples/agents/agent.ts) against a real server
 * with real JWTs: the token's `caps` bound what an agent may declare, and
 * capabilities (which belong to a connection) are declared again after a
 * reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArqonClient } from '../../src/client/index.js';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import { startAgent } from '../../examples/agents/agent.js';
import { BILLING_AGENT } from '../../examples/agents/billing.js';
import { TRANSLATOR_AGENT } from '../../examples/agents/translator.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SECRET = 'examples-agent-secret-0123456789abcdefghij';
const mint = (claims: TokenClaims): Promise<string> => mintToken(secretSigningKey(SECRET), claims, { ttlS: 600 });
const jwtServer = (port = 0): Promise<TestServer> => startServer({ auth: 'jwt', jwtSecret: SECRET, port });

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function user(url: string): Promise<ArqonClient> {
  const c = new ArqonClient({ url, token: await mint({ sub: 'ana', permissions: { publish: ['lobby:*'] } }), reconnect: false });
  cleanups.push(() => c.close());
  await c.connect();
  return c;
}

describe('example agent runtime', () => {
  it('fails to start, typed and closed, when the token does not allow one of its capability names', async () => {
    const srv = await jwtServer();
    cleanups.push(() => srv.close());
    const token = await mint({ sub: 'billing-bot', client_type: 'ai-agent', caps: ['billing.invoices'] }); // not billing.refunds
    const err = await startAgent(BILLING_AGENT, srv.url, token).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PERMISSION_DENIED', details: { action: 'caps', capability: 'billing.refunds' } });
    // Nothing half-registered stays behind: billing intents now match nobody.
    const miss = await (await user(srv.url)).request({ text: 'please refund order 5521' }, {}, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(miss).toMatchObject({ code: 'ROUTE_NO_MATCH', details: { no_match_reason: 'no_candidates' } });
  });

  it('declares its capabilities again after a reconnect and keeps answering', async () => {
    const first = await jwtServer();
    const token = await mint({ sub: 'translator-bot', client_type: 'ai-agent', caps: ['translate.*'] });
    let redeclared!: (names: readonly string[]) => void;
    const again = new Promise<readonly string[]>((resolve) => (redeclared = resolve));
    const agent = await startAgent(TRANSLATOR_AGENT, first.url, token, { onRedeclared: redeclared });
    cleanups.push(() => agent.close());

    // The server goes away (1001, a reconnecting close) and comes back on the same port, with an empty registry.
    await first.close();
    const second = await jwtServer(first.port);
    cleanups.push(() => second.close());
    expect(await again).toEqual(['translate.phrase']);

    const reply = await (await user(second.url)).request({ text: 'how do you say thank you in French?' }, {}, { timeoutMs: 5000 });
    expect(reply).toMatchObject({ from: 'translator-bot', payload: { translation: 'merci', language: 'French' } });
  });
});
