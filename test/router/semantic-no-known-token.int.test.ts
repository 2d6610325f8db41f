/**
 * "A text with no known token must not produce NaN", through the real server
 * with each bundled model (glove-sif in process, use-lite in its worker): such
 * a text embeds to the zero vector, which routes as a `zero_vector` no-match,
 * is found by nobody, and never leaks NaN into a score (JSON would carry NaN
 * as null). Emoji-only and whitespace-only texts have no known token in either
 * vocabulary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING, connectAs, errorFor, routed, SECRET, type Json } from './semantic-fixtures.js';

const NO_TOKEN_TEXTS = ['🚀🛸', '   '];
/** Every number-valued field of a routing answer, at any depth (scores, components, thresholds). */
function numbers(value: unknown, path = ''): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]): Array<[string, unknown]> => {
    const at = path === '' ? k : `${path}.${k}`;
    if (['score', 'centroid', 'examples', 'threshold'].includes(k)) return [[at, v], ...numbers(v, at)];
    return numbers(v, at);
  });
}

describe.each([
  { model: 'glove-sif', modelId: 'glove-sif-100', dimension: 100 },
  { model: 'use-lite', modelId: 'use-lite-512', dimension: 512 },
])('a text with no known token ($model, through the server)', ({ model, modelId, dimension }) => {
  let srv: TestServer;
  const open: RawClient[] = [];
  let user: RawClient;

  beforeAll(async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET, semanticModel: model });
    const agent = await connectAs(srv.url, open, 'billing-bot', { client_type: 'ai-agent', caps: ['*'] });
    // One capability mixes a no-token description with real examples, one has no known token at all.
    const registered = await agent.ok('register_capabilities', {
      capabilities: [BILLING, { name: 'mixed', description: '🚀🛸', examples: ['refund my card payment'] }, { name: 'emoji.only', description: '✨✨' }],
    });
    expect(registered['registered']).toEqual(['billing.payments', 'mixed', 'emoji.only']);
    user = await connectAs(srv.url, open, 'user');
  }, 30_000);
  afterAll(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  it('routes as a zero_vector no-match with no candidates', async () => {
    for (const [i, text] of NO_TOKEN_TEXTS.entries()) {
      for (const mode of ['best', 'all']) {
        const id = `z-${mode}-${i}`;
        user.send({ type: 'event', id, payload: { intent: { text, mode } } });
        const err = await user.next(errorFor(id));
        expect(err, JSON.stringify(text)).toMatchObject({ error_code: 'ROUTE_NO_MATCH', payload: { no_match_reason: 'zero_vector', candidates: [], model: modelId } });
        expect(typeof err.payload['threshold']).toBe('number');
      }
    }
  });

  it('is found by nobody and explained without NaN', async () => {
    for (const text of NO_TOKEN_TEXTS) {
      expect(await user.ok('find_agents', { text, k: 5 })).toEqual({ agents: [], count: 0 });
      const explained = await user.ok('route_explain', { intent: { text } });
      expect(explained).toMatchObject({ model: modelId, candidates: [], outcome: { matched: false, reason: 'zero_vector' } });
    }
  });

  it('a zero vector sent by a client is the same no-match', async () => {
    user.send({ type: 'event', id: 'zero-vec', payload: { intent: { vector: new Array<number>(dimension).fill(0), model: modelId } } });
    expect(await user.next(errorFor('zero-vec'))).toMatchObject({ error_code: 'ROUTE_NO_MATCH', payload: { no_match_reason: 'zero_vector' } });
  });

  it('capability texts without a known token leave every score a finite number', async () => {
    user.send({ type: 'event', id: 'real', payload: { intent: { text: 'my card payment was declined' } } });
    expect((await user.next(routed('real'))).payload['recipients']).toMatchObject([{ client_id: 'billing-bot' }]);
    const explained = await user.ok('route_explain', { intent: { text: 'please refund my card payment', mode: 'all', min_score: -1 } });
    const candidates = explained['candidates'] as Json[];
    // The no-token description is simply not indexed: `mixed` is ranked by its example, `emoji.only` never.
    expect(candidates.map((c) => c['capability']).sort()).toEqual(['billing.payments', 'mixed']);
    const found = numbers(explained);
    expect(found.length).toBeGreaterThan(candidates.length * 3);
    for (const [at, v] of found) expect(Number.isFinite(v), `${at} = ${String(v)}`).toBe(true);
  });
});
