/**
 * The serving stack (cache → batcher → glove-sif) behind the real server: a
 * burst of intents sent in one go, with repeated texts (cache hits and
 * coalesced misses) and mixed lengths (several buckets per round), is routed
 * exactly as intents sent one at a time are; and the stack's counters as
 * /metrics exports them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_QUEUED_TEXTS } from '../../src/embeddings/batcher.js';
import { DEFAULT_CACHE_ENTRIES } from '../../src/embeddings/cache.js';
import { GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import type { TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING, connectAs, errorFor, metric, routed, SECRET, WEATHER } from '../router/semantic-fixtures.js';
import { GatedProvider } from './decorators.js';

const MODEL = 'glove-sif-100';
const INTENTS: [string, 'billing-bot' | 'weather-bot' | null][] = [
  ['my card payment was declined', 'billing-bot'],
  ['will it rain tomorrow', 'weather-bot'],
  ['I was charged twice on my last invoice and would like the duplicate payment refunded to my card as soon as possible, thank you', 'billing-bot'],
  ['how windy and how cold will it be this weekend at the coast, and should we expect heavy rain on saturday afternoon', 'weather-bot'],
  ['please refund my payment', 'billing-bot'],
  ['what is the temperature this weekend', 'weather-bot'],
  ['zzqxv', null], // no known word: ROUTE_NO_MATCH (zero vector), in the burst as alone
];

let srv: TestServer;
const open: RawClient[] = [];

const connect = (sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> => connectAs(srv.url, open, sub, extra);
const scrape = async (): Promise<string> => (await fetch(`${srv.httpUrl}/metrics`)).text();
const series = (name: string): string => `${name}{model="${MODEL}"}`;

/** Distinct capability texts, `texts` in all (description + up to 32 examples each), for agent `agent`. */
function bulk(agent: number, texts: number): Array<{ name: string; description: string; examples: string[] }> {
  const caps = [];
  for (let c = 0, left = texts; left > 0; c++, left -= 33) {
    const examples = Math.min(32, left - 1);
    caps.push({ name: `bulk.c${c}`, description: `bulk agent ${agent} capability ${c}`, examples: Array.from({ length: examples }, (_, e) => `a${agent} c${c} e${e}`) });
  }
  return caps;
}

/** The sender's answer to an intent: the routed acknowledgement or the ROUTE_NO_MATCH error. */
const answer = (id: string) => (e: Envelope): boolean => routed(id)(e) || (e.type === 'error' && e.request_id === id);
/** What routing decided: recipients (or candidates) with their scores, rounded past float noise. */
const outcome = (e: Envelope): unknown =>
  ((e.payload['recipients'] ?? e.payload['candidates']) as Record<string, unknown>[]).map((r) => [r['client_id'], r['capability'], Math.round((r['score'] as number) * 1e5)]);

describe('serving stack behind the server (glove-sif)', () => {
  beforeEach(async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET, semanticModel: 'glove-sif' });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  it('routes a burst of repeated, mixed-length intents like intents sent one at a time', async () => {
    const billing = await connect('billing-bot', { client_type: 'ai-agent', caps: ['*'] });
    const weather = await connect('weather-bot', { client_type: 'ai-agent', caps: ['*'] });
    // Registered concurrently: both registrations' texts go through the batcher together.
    await Promise.all([billing.ok('register_capabilities', { capabilities: [BILLING] }), weather.ok('register_capabilities', { capabilities: [WEATHER] })]);
    const user = await connect('user');

    const one = async (id: string, text: string): Promise<Envelope> => {
      user.send({ type: 'event', id, payload: { intent: { text } } });
      return user.next(answer(id));
    };
    const alone: Envelope[] = [];
    for (const [i, [text]] of INTENTS.entries()) alone.push(await one(`alone-${i}`, text));
    INTENTS.forEach(([text, expected], i) => {
      if (expected === null) expect(alone[i], text).toMatchObject({ type: 'error', error_code: 'ROUTE_NO_MATCH' });
      else expect(alone[i]!.payload['recipients'], text).toMatchObject([{ client_id: expected }]);
    });

    const burst = Array.from({ length: 48 }, (_, k) => INTENTS[k % INTENTS.length]![0]);
    burst.forEach((text, k) => user.send({ type: 'event', id: `burst-${k}`, payload: { intent: { text } } }));
    for (const [k, text] of burst.entries()) {
      const got = await user.next(answer(`burst-${k}`));
      const reference = alone[k % INTENTS.length]!;
      expect(got.type, text).toBe(reference.type);
      expect(outcome(got), text).toEqual(outcome(reference));
    }
  });

  it('exports the cache and batcher counters in /metrics: hits, misses, entries, batch sizes, queue, evictions', async () => {
    const before = await scrape();
    // Declared from the start, no series until the model is loaded (lazily, on first use).
    for (const family of ['arqon_embedding_cache_hits_total', 'arqon_embedding_cache_misses_total', 'arqon_embedding_cache_evictions_total',
      'arqon_embedding_cache_coalesced_total', 'arqon_embedding_rejected_total', 'arqon_embedding_cache_entries', 'arqon_embedding_queue_texts']) {
      expect(before).toContain(`# TYPE ${family} `);
      expect(before).not.toContain(`${family}{`);
    }

    const billing = await connect('billing-bot', { client_type: 'ai-agent', caps: ['*'] });
    await billing.ok('register_capabilities', { capabilities: [BILLING] });
    const texts = 1 + BILLING.examples.length;
    const afterRegister = await scrape();
    expect(metric(afterRegister, series('arqon_embedding_cache_misses_total'))).toBe(texts);
    expect(metric(afterRegister, series('arqon_embedding_cache_hits_total'))).toBe(0);
    expect(metric(afterRegister, series('arqon_embedding_cache_entries'))).toBe(texts);
    // Every miss went to the model in exactly one call, whatever the batches were.
    expect(metric(afterRegister, series('arqon_embedding_batch_texts_sum'))).toBe(texts);
    const calls = metric(afterRegister, series('arqon_embedding_batch_texts_count'));
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(texts);

    // An intent that repeats an example is a hit; a new text a miss, then a hit when asked again.
    const user = await connect('user');
    const fresh = 'refund the payment for my broken card';
    for (const [id, text] of [['i1', BILLING.examples[0]!], ['i2', fresh], ['i3', fresh]] as const) {
      user.send({ type: 'event', id, payload: { intent: { text } } });
      await user.next(routed(id));
    }
    const afterIntents = await scrape();
    expect(metric(afterIntents, series('arqon_embedding_cache_hits_total'))).toBe(2);
    expect(metric(afterIntents, series('arqon_embedding_cache_misses_total'))).toBe(texts + 1);
    expect(metric(afterIntents, series('arqon_embedding_cache_entries'))).toBe(texts + 1);
    expect(metric(afterIntents, series('arqon_embedding_batch_texts_sum'))).toBe(texts + 1);
    expect(metric(afterIntents, series('arqon_embedding_queue_texts'))).toBe(0);
    expect(metric(afterIntents, series('arqon_embedding_cache_evictions_total'))).toBe(0);
    expect(metric(afterIntents, series('arqon_embedding_rejected_total'))).toBe(0);

    // Past the cache bound the least recently used vectors are evicted, and counted.
    let distinct = texts + 1;
    for (const n of [1, 2]) {
      const bulkAgent = await connect(`bulk-${n}`, { client_type: 'ai-agent', caps: ['*'] });
      await bulkAgent.ok('register_capabilities', { capabilities: bulk(n, 64 * 33) });
      distinct += 64 * 33;
    }
    const afterBulk = await scrape();
    expect(distinct).toBeGreaterThan(DEFAULT_CACHE_ENTRIES);
    expect(metric(afterBulk, series('arqon_embedding_cache_evictions_total'))).toBe(distinct - DEFAULT_CACHE_ENTRIES);
    expect(metric(afterBulk, series('arqon_embedding_cache_entries'))).toBe(DEFAULT_CACHE_ENTRIES);
    expect(metric(afterBulk, series('arqon_embedding_cache_misses_total'))).toBe(distinct);
    expect(metric(afterBulk, `arqon_embedding_batch_texts_bucket{le="32",model="${MODEL}"}`)).toBe(metric(afterBulk, series('arqon_embedding_batch_texts_count')));
  });
});

describe('an overloaded model behind the server', () => {
  let gated: GatedProvider | undefined;
  afterEach(async () => {
    gated?.open(); // a failed test must not leave the server waiting for the model
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  it('answers SEMANTIC_OVERLOADED (retryable) past the batcher queue bound, counts it, and serves again once the model catches up', async () => {
    // The real model behind a gate: while it holds the first call, whatever follows queues in the batcher.
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET }, { semanticProvider: async () => (gated = new GatedProvider(await GloveSifProvider.load())) });
    const billing = await connect('billing-bot', { client_type: 'ai-agent', caps: ['*'] });
    const first = billing.ok('register_capabilities', { capabilities: [BILLING] });
    // Its texts are with the model (one call per length class), none queued.
    await vi.waitFor(() => expect(gated?.held).toBeGreaterThan(0), { timeout: 5000, interval: 10 });

    // Fill the queue exactly to its bound with two registrations (each within the per-agent limits).
    const big = 64 * 33;
    const filler = [await connect('bulk-1', { client_type: 'ai-agent', caps: ['*'] }), await connect('bulk-2', { client_type: 'ai-agent', caps: ['*'] })];
    const pending = [filler[0]!.ok('register_capabilities', { capabilities: bulk(1, big) })];
    await vi.waitFor(async () => expect(metric(await scrape(), series('arqon_embedding_queue_texts'))).toBe(big), { timeout: 5000, interval: 10 });
    pending.push(filler[1]!.ok('register_capabilities', { capabilities: bulk(2, DEFAULT_MAX_QUEUED_TEXTS - big) }));
    await vi.waitFor(async () => expect(metric(await scrape(), series('arqon_embedding_queue_texts'))).toBe(DEFAULT_MAX_QUEUED_TEXTS), { timeout: 5000, interval: 10 });

    // One more text does not fit: the intent, a registration and discovery are refused, typed and retryable.
    const user = await connect('user');
    // (A text of its own: one of the held registration's texts would just wait for that call, coalesced.)
    user.send({ type: 'event', id: 'busy', payload: { intent: { text: 'my card payment was declined twice today' } } });
    expect(await user.next(errorFor('busy'))).toMatchObject({ error_code: 'SEMANTIC_OVERLOADED', retryable: true, payload: { model: MODEL } });
    const late = await connect('late-agent', { client_type: 'ai-agent', caps: ['*'] });
    expect(await late.command('register_capabilities', { capabilities: [WEATHER] })).toMatchObject({ status: 'error', error_code: 'SEMANTIC_OVERLOADED', retryable: true });
    expect(await user.command('find_agents', { text: 'a brand new question' })).toMatchObject({ error_code: 'SEMANTIC_OVERLOADED' });
    const busy = await scrape();
    expect(metric(busy, series('arqon_embedding_rejected_total'))).toBe(3);
    expect(metric(busy, 'arqon_intents_routed_total{outcome="error",mode="best"}')).toBe(1);
    expect(metric(busy, 'arqon_errors_total{code="SEMANTIC_OVERLOADED"}')).toBe(3);

    // The model catches up: everything queued is served, and the same intent now routes.
    gated!.open();
    await first;
    for (const p of pending) await p;
    expect(metric(await scrape(), series('arqon_embedding_queue_texts'))).toBe(0);
    user.send({ type: 'event', id: 'again', payload: { intent: { text: 'my card payment was declined twice today' } } });
    expect((await user.next(routed('again'))).payload['recipients']).toMatchObject([{ client_id: 'billing-bot' }]);
  });
});
