/**
 * Semantic routing observability through the real server and the real
 * glove-sif model: the /metrics families (intents by outcome and mode, route
 * latency, recipients), the `intent_routed` / `intent_no_match` telemetry
 * events (which must never carry the payload or the intent's text), and the
 * fitted scoring defaults the server routes with.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { FITTED_SCORING } from '../../src/router/semantic/model-defaults.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING, connectAs, errorFor, metric, routed, SECRET, WEATHER, type Json } from './semantic-fixtures.js';

const MODEL = 'glove-sif-100';
/** Texts that must never reach an observer. */
const MATCH_TEXT = 'my card payment was declined at the shop';
const NO_MATCH_TEXT = 'the cathedral organ played a fugue';
const SECRET_PAYLOAD = 'account 1234-5678 belongs to Ada';

let srv: TestServer;
const open: RawClient[] = [];

const connect = (url: string, sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> => connectAs(url, open, sub, extra);

async function agent(sub: string, capability: Json): Promise<RawClient> {
  const c = await connect(srv.url, sub, { client_type: 'ai-agent', caps: ['*'] });
  await c.ok('register_capabilities', { capabilities: [capability] });
  return c;
}

const scrape = async (): Promise<string> => (await fetch(`${srv.httpUrl}/metrics`)).text();
const telemetry = (event: string, requestId: string) => (e: Envelope): boolean =>
  e.type === 'telemetry' && e.payload['event'] === event && e.payload['request_id'] === requestId;

describe('semantic routing observability', () => {
  beforeEach(async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  it('counts intents by outcome and mode, times the route and counts recipients', async () => {
    await agent('billing-1', BILLING);
    await agent('billing-2', BILLING);
    await agent('weather-bot', WEATHER);
    const user = await connect(srv.url, 'user');
    const before = await scrape();
    for (const outcome of ['matched', 'no_match', 'error']) {
      for (const mode of ['best', 'all', 'k']) expect(metric(before, `arqon_intents_routed_total{outcome="${outcome}",mode="${mode}"}`)).toBe(0);
    }

    user.send({ type: 'event', id: 'b1', payload: { intent: { text: MATCH_TEXT } } });
    const best = await user.next(routed('b1'));
    user.send({ type: 'event', id: 'a1', payload: { intent: { text: MATCH_TEXT, mode: 'all' } } });
    const all = await user.next(routed('a1'));
    user.send({ type: 'event', id: 'n1', payload: { intent: { text: NO_MATCH_TEXT, mode: 'k', k: 2 } } });
    await user.next(errorFor('n1'));
    user.send({ type: 'event', id: 'e1', payload: { intent: { text: MATCH_TEXT, mode: 'sideways' } } });
    expect(await user.next(errorFor('e1'))).toMatchObject({ error_code: 'INVALID_FIELD' });

    const after = await scrape();
    expect(metric(after, 'arqon_intents_routed_total{outcome="matched",mode="best"}')).toBe(1);
    expect(metric(after, 'arqon_intents_routed_total{outcome="matched",mode="all"}')).toBe(1);
    expect(metric(after, 'arqon_intents_routed_total{outcome="no_match",mode="k"}')).toBe(1);
    expect(metric(after, 'arqon_intents_routed_total{outcome="error",mode="unknown"}')).toBe(1);
    // Three intents reached the router (the malformed one was refused before embedding).
    expect(metric(after, `arqon_route_duration_seconds_count{model="${MODEL}"}`)).toBe(3);
    expect(metric(after, `arqon_route_duration_seconds_sum{model="${MODEL}"}`)).toBeGreaterThan(0);
    const delivered = (best.payload['recipients'] as Json[]).length + (all.payload['recipients'] as Json[]).length;
    expect(delivered).toBe(3);
    expect(metric(after, 'arqon_intent_recipients_count')).toBe(2);
    expect(metric(after, 'arqon_intent_recipients_sum')).toBe(delivered);
    expect(metric(after, 'arqon_intent_recipients_bucket{le="1"}')).toBe(1);
  });

  it('streams intent_routed and intent_no_match with agents and scores, never the payload or the intent text', async () => {
    const observer = await connect(srv.telemetryUrl, 'root', { admin: true });
    await agent('billing-bot', BILLING);
    const user = await connect(srv.url, 'user');

    user.send({ type: 'event', id: 'r1', payload: { intent: { text: MATCH_TEXT }, note: SECRET_PAYLOAD } });
    const ack = await user.next(routed('r1'));
    const routedEvent = (await observer.next(telemetry('intent_routed', 'r1'))).payload;
    expect(routedEvent).toMatchObject({ tenant: 'acme', client_id: 'user', mode: 'best', model: MODEL, recipients: 1 });
    expect(routedEvent['matches']).toEqual(ack.payload['recipients']);
    expect((routedEvent['matches'] as Json[])[0]).toMatchObject({ client_id: 'billing-bot', capability: 'billing.payments' });
    expect(typeof routedEvent['duration_ms']).toBe('number');

    user.send({ type: 'event', id: 'r2', payload: { intent: { text: NO_MATCH_TEXT }, note: SECRET_PAYLOAD } });
    const err = await user.next(errorFor('r2'));
    const noMatch = (await observer.next(telemetry('intent_no_match', 'r2'))).payload;
    expect(noMatch).toMatchObject({ tenant: 'acme', client_id: 'user', mode: 'best', model: MODEL, reason: 'below_threshold' });
    expect(noMatch['candidates']).toEqual(err.payload['candidates']);
    expect(noMatch['threshold']).toBe(err.payload['threshold']);
    // The no-match is also an error like any other: the existing error event still comes.
    await observer.next((e) => e.type === 'telemetry' && e.payload['event'] === 'error' && e.payload['request_id'] === 'r2');

    for (const e of [routedEvent, noMatch]) {
      const text = JSON.stringify(e);
      for (const secret of [MATCH_TEXT, NO_MATCH_TEXT, SECRET_PAYLOAD, 'note']) expect(text).not.toContain(secret);
    }
  });

  it('routes with the scoring defaults fitted for its model', async () => {
    await agent('billing-bot', BILLING);
    const user = await connect(srv.url, 'user');
    const fitted = FITTED_SCORING[MODEL]!;
    const explained = await user.ok('route_explain', { intent: { text: MATCH_TEXT } });
    expect(explained).toMatchObject({ model: MODEL, threshold: fitted.threshold, weights: fitted.weights, balance_margin: fitted.balanceMargin });
    const candidates = explained['candidates'] as Json[];
    expect(candidates[0]!['score']).toBeGreaterThanOrEqual(fitted.threshold);
    // A per-intent min_score still overrides the default.
    expect(await user.ok('route_explain', { intent: { text: MATCH_TEXT, min_score: 0.99 } })).toMatchObject({ threshold: 0.99, outcome: { matched: false } });
  });
});
