import { afterEach, describe, expect, it } from 'vitest';
import { ParameterError } from '../../../src/protocol/errors.js';
import { SemanticRouter } from '../../../src/router/semantic/semantic-router.js';
import type { RouteOutcome } from '../../../src/router/semantic/outcome.js';
import { fuse, vectorComponents } from '../../../src/router/semantic/scoring.js';
import { centroid } from '../../../src/router/semantic/vector-math.js';
import { near, prng } from './fixtures.js';
import { BILLING, DIM, FLIGHTS, MODEL, SMALL_DIM, SMALL_MODEL, TOPIC, TRANSLATE, WEATHER, axis, cap, routerFactory, mix } from './router-fixtures.js';

const router = routerFactory(afterEach);

/** An intent vector near a topic axis. */
function intentNear(topic: number, seed = 5, noise = 0.2): Float32Array {
  return near(axis(topic), noise, prng(seed));
}

function agents(outcome: RouteOutcome): string[] {
  return outcome.matched ? outcome.matches.map((m) => m.agentId) : [];
}

/** A tenant with four agents on four topics, plus a second weather agent whose examples are noisier. */
function populated(r: SemanticRouter, tenant = 't1'): void {
  r.registerEmbedded(tenant, 'weather-1', [WEATHER()]);
  r.registerEmbedded(tenant, 'flights-1', [FLIGHTS()]);
  r.registerEmbedded(tenant, 'billing-1', [BILLING()]);
  r.registerEmbedded(tenant, 'polyglot', [TRANSLATE(), cap('weather.now', 'Current weather conditions', TOPIC.weather, { noise: 0.6, seed: 3 })]);
}

describe('SemanticRouter: modes', () => {
  it('best: the single best agent, with its capability, score and components', async () => {
    const r = router();
    populated(r);
    const q = intentNear(TOPIC.billing);
    const out = await r.route({ tenant: 't1', vector: q, modelId: MODEL });
    expect(out.matched).toBe(true);
    if (!out.matched) return;
    expect(out.mode).toBe('best');
    expect(out.matches).toHaveLength(1);
    const m = out.matches[0]!;
    expect(m).toMatchObject({ agentId: 'billing-1', capability: 'billing.invoice' });
    expect(m.components.lexical).toBeNull();
    // The score is the fusion of the components, and the components are the documented maths.
    expect(m.score).toBeCloseTo(fuse(m.components, r.options.weights), 12);
    const texts = BILLING().vectors[MODEL]!.map((v) => Float32Array.from(v));
    const expected = vectorComponents(Float32Array.from(q), centroid(texts), texts, 3);
    expect(m.components.centroid).toBeCloseTo(expected.centroid, 5);
    expect(m.components.examples).toBeCloseTo(expected.examples, 5);
  });

  it('all: every agent above the threshold, one per agent (its best capability), best first', async () => {
    const r = router();
    populated(r);
    const out = await r.route({ tenant: 't1', vector: intentNear(TOPIC.weather), modelId: MODEL, mode: 'all' });
    expect(agents(out)).toEqual(['weather-1', 'polyglot']);
    if (!out.matched) return;
    expect(out.matches[1]!.capability).toBe('weather.now');
    expect(out.matches[0]!.score).toBeGreaterThan(out.matches[1]!.score);
    for (const m of out.matches) expect(m.score).toBeGreaterThanOrEqual(r.options.threshold);
  });

  it('k: the k best agents above the threshold (min_score lowers it)', async () => {
    const r = router();
    populated(r);
    const q = intentNear(TOPIC.weather);
    expect(agents(await r.route({ tenant: 't1', vector: q, modelId: MODEL, mode: 'k', k: 1 }))).toEqual(['weather-1']);
    expect(agents(await r.route({ tenant: 't1', vector: q, modelId: MODEL, mode: 'k', k: 3 }))).toEqual(['weather-1', 'polyglot']);
    const loose = await r.route({ tenant: 't1', vector: q, modelId: MODEL, mode: 'k', k: 3, minScore: -1 });
    expect(agents(loose)).toHaveLength(3);
    expect(agents(loose).slice(0, 2)).toEqual(['weather-1', 'polyglot']);
  });

  it('validates mode, k, min_score, model_id, vector and text', async () => {
    const r = router();
    populated(r);
    const v = intentNear(TOPIC.weather);
    const param = async (intent: Parameters<SemanticRouter['route']>[0]): Promise<string> => {
      const err = await r.route(intent).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ParameterError);
      return (err as ParameterError).parameter;
    };
    expect(await param({ tenant: 't1', vector: v, modelId: MODEL, mode: 'k' })).toBe('k');
    expect(await param({ tenant: 't1', vector: v, modelId: MODEL, mode: 'k', k: 0 })).toBe('k');
    expect(await param({ tenant: 't1', vector: v, modelId: MODEL, mode: 'k', k: 1000 })).toBe('k');
    expect(await param({ tenant: 't1', vector: v, modelId: MODEL, k: 2 })).toBe('k');
    expect(await param({ tenant: 't1', vector: v, modelId: MODEL, mode: 'most' as 'all' })).toBe('mode');
    expect(await param({ tenant: 't1', vector: v, modelId: MODEL, minScore: 2 })).toBe('min_score');
    expect(await param({ tenant: 't1', vector: v })).toBe('model_id');
    expect(await param({ tenant: 't1', vector: v, modelId: 'nope' })).toBe('model_id');
    expect(await param({ tenant: 't1', vector: v, modelId: SMALL_MODEL })).toBe('vector');
    expect(await param({ tenant: 't1', vector: [...v.slice(1), NaN], modelId: MODEL })).toBe('vector');
    expect(await param({ tenant: 't1' })).toBe('text');
    // A text intent needs a provider for its model; this router has none.
    expect(await param({ tenant: 't1', text: 'weather' })).toBe('model_id');
  });
});

describe('SemanticRouter: thresholds and no-match', () => {
  it('min_score overrides the threshold; a no-match carries the best candidates with scores', async () => {
    const r = router({ options: { noMatchCandidates: 2 } });
    populated(r);
    const q = intentNear(TOPIC.weather);
    const ok = await r.route({ tenant: 't1', vector: q, modelId: MODEL });
    if (!ok.matched) throw new Error('expected a match');
    const best = ok.matches[0]!.score;
    const out = await r.route({ tenant: 't1', vector: q, modelId: MODEL, minScore: best + 0.001 });
    expect(out).toMatchObject({ matched: false, reason: 'below_threshold', threshold: best + 0.001 });
    if (out.matched) return;
    expect(out.candidates.map((c) => c.agentId)).toEqual(['weather-1', 'polyglot']);
    expect(out.candidates[0]!.score).toBeCloseTo(best, 12);
    const lower = await r.route({ tenant: 't1', vector: q, modelId: MODEL, minScore: best });
    expect(agents(lower)).toEqual(['weather-1']);
  });

  it('an intent unrelated to every capability is no match', async () => {
    const r = router();
    populated(r);
    const out = await r.route({ tenant: 't1', vector: intentNear(TOPIC.music), modelId: MODEL, mode: 'all' });
    expect(out).toMatchObject({ matched: false, reason: 'below_threshold' });
    if (!out.matched) expect(out.candidates.length).toBeGreaterThan(0);
  });

  it('a zero vector (a text with no known token) is no match, without candidates', async () => {
    const r = router();
    populated(r);
    const out = await r.route({ tenant: 't1', vector: new Float32Array(DIM), modelId: MODEL });
    expect(out).toEqual({ matched: false, mode: 'best', modelId: MODEL, threshold: r.options.threshold, reason: 'zero_vector', candidates: [] });
  });

  it('a tenant without capabilities for the model has no candidates', async () => {
    const r = router();
    expect(await r.route({ tenant: 'empty', vector: intentNear(0), modelId: MODEL })).toMatchObject({ matched: false, reason: 'no_candidates' });
  });
});

describe('SemanticRouter: lexical component', () => {
  it('is computed when the intent carries text, and separates agents whose vectors are identical', async () => {
    const r = router();
    const same = [axis(TOPIC.weather), axis(TOPIC.weather)];
    r.registerEmbedded('t1', 'rain', [cap('rain', 'Rain and umbrella advice', TOPIC.weather, { examples: ['do I need an umbrella'], vectors: same })]);
    r.registerEmbedded('t1', 'sun', [cap('sun', 'Sunshine and UV index', TOPIC.weather, { examples: ['how strong is the sun'], vectors: same })]);
    const base = { tenant: 't1', vector: axis(TOPIC.weather), modelId: MODEL, mode: 'all' as const };
    const noText = await r.route(base);
    if (!noText.matched) throw new Error('expected a match');
    expect(noText.matches[0]!.score).toBeCloseTo(noText.matches[1]!.score, 12);
    const out = await r.route({ ...base, text: 'should I take an umbrella' });
    if (!out.matched) throw new Error('expected a match');
    expect(out.matches.map((m) => m.agentId)).toEqual(['rain', 'sun']);
    expect(out.matches[0]!.components.lexical).toBeGreaterThan(0);
    expect(out.matches[1]!.components.lexical).toBe(0);
    expect(out.matches[0]!.score).toBeCloseTo(fuse(out.matches[0]!.components, r.options.weights), 12);
    // Words the corpus has never seen: a lexical 0 that counts; no words at all: nothing to compare.
    const unknown = await r.route({ ...base, text: 'zebra quokka' });
    if (unknown.matched) expect(unknown.matches[0]!.components.lexical).toBe(0);
    const empty = await r.route({ ...base, text: ' ?! ' });
    if (empty.matched) expect(empty.matches[0]!.components.lexical).toBeNull();
    expect(unknown.matched && empty.matched).toBe(true);
  });
});

describe('SemanticRouter: load balancing in best mode', () => {
  /** Three workers with identical capabilities, one close second, one clearly worse. */
  function group(r: SemanticRouter): void {
    const exact = [axis(TOPIC.billing)];
    for (const id of ['w1', 'w2', 'w3']) r.registerEmbedded('t1', id, [cap('billing', 'Billing questions', TOPIC.billing, { vectors: exact })]);
    r.registerEmbedded('t1', 'close', [cap('billing', 'Billing questions', TOPIC.billing, { vectors: [mix(DIM, [TOPIC.billing, 1], [TOPIC.music, 0.1])] })]);
    r.registerEmbedded('t1', 'worse', [cap('billing', 'Billing questions', TOPIC.billing, { vectors: [mix(DIM, [TOPIC.billing, 1], [TOPIC.music, 0.5])] })]);
  }
  const intent = { tenant: 't1', vector: axis(TOPIC.billing), modelId: MODEL };

  it('goes round robin among agents within the margin, never to one outside it', async () => {
    const r = router();
    group(r);
    const picks: string[] = [];
    for (let i = 0; i < 8; i++) picks.push(agents(await r.route(intent))[0]!);
    // close: 1/sqrt(1.01) ≈ 0.995, within 0.02 of 1; worse: ≈ 0.894, outside.
    expect(picks).toEqual(['w1', 'w2', 'w3', 'close', 'w1', 'w2', 'w3', 'close']);
  });

  it('prefers the fewest in-flight requests, then round robin', async () => {
    const r = router();
    group(r);
    r.requestStarted('t1', 'w1');
    r.requestStarted('t1', 'w2');
    r.requestStarted('t1', 'close');
    expect(r.inFlight('t1', 'w1')).toBe(1);
    expect(agents(await r.route(intent))).toEqual(['w3']);
    r.requestStarted('t1', 'w3');
    // Everyone within the margin has 1 in flight now: round robin resumes from the least recently picked.
    expect(agents(await r.route(intent))).toEqual(['w1']);
    expect(agents(await r.route(intent))).toEqual(['w2']);
    for (const id of ['w1', 'w2', 'w3']) r.requestStarted('t1', id);
    expect(agents(await r.route(intent))).toEqual(['close']);
    expect(r.requestFinished('t1', 'w2')).toBe(1);
    expect(agents(await r.route(intent))).toEqual(['w2']);
    // However idle, an agent outside the margin is not picked.
    expect(r.inFlight('t1', 'worse')).toBe(0);
  });

  it('balances over a whole queue group even when it exceeds the first candidate fetch', async () => {
    const r = router({ options: { candidateTexts: 4 } });
    const vectors = [axis(TOPIC.flights), axis(TOPIC.flights)];
    for (let i = 0; i < 40; i++) {
      r.registerEmbedded('t1', `w${String(i).padStart(2, '0')}`, [cap('flights', 'Flights', TOPIC.flights, { examples: ['book'], vectors })]);
    }
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(agents(await r.route({ tenant: 't1', vector: axis(TOPIC.flights), modelId: MODEL }))[0]!);
    expect(seen.size).toBe(40);
    const all = await r.route({ tenant: 't1', vector: axis(TOPIC.flights), modelId: MODEL, mode: 'all' });
    expect(agents(all)).toHaveLength(40);
  });
});

describe('SemanticRouter: explain and find', () => {
  it('explain scores every candidate considered and previews the pick without advancing it', async () => {
    const r = router();
    populated(r);
    r.registerEmbedded('t1', 'weather-2', [WEATHER()]);
    r.requestStarted('t1', 'weather-2');
    const intent = { tenant: 't1', vector: intentNear(TOPIC.weather), modelId: MODEL };
    const ex = await r.explain(intent);
    expect(ex).toMatchObject({ tenant: 't1', modelId: MODEL, mode: 'best', threshold: r.options.threshold, weights: r.options.weights });
    expect(ex.index).toMatchObject({ kind: 'exact', capabilities: 6 });
    expect(ex.textsSearched).toBeGreaterThan(0);
    // Every capability of the tenant was a candidate (the index is tiny): ranked, flagged, with load.
    expect(ex.candidates).toHaveLength(6);
    expect(ex.candidates.map((c) => c.rank)).toEqual([1, 2, 3, 4, 5, 6]);
    const byAgent = Object.fromEntries(ex.candidates.map((c) => [`${c.agentId}/${c.capability}`, c]));
    expect(byAgent['weather-2/weather.forecast']).toMatchObject({ inFlight: 1, aboveThreshold: true, agentBest: true });
    expect(byAgent['polyglot/text.translate']).toMatchObject({ aboveThreshold: false, agentBest: false });
    for (let i = 1; i < ex.candidates.length; i++) expect(ex.candidates[i]!.score).toBeLessThanOrEqual(ex.candidates[i - 1]!.score);
    // weather-1 and weather-2 tie exactly; weather-2 is busy.
    expect(agents(ex.outcome)).toEqual(['weather-1']);
    const again = await r.explain(intent);
    expect(agents(again.outcome)).toEqual(['weather-1']);
    r.requestFinished('t1', 'weather-2');
    expect(agents((await r.explain(intent)).outcome)).toEqual(['weather-1']);
    expect(agents(await r.route(intent))).toEqual(['weather-1']);
    expect(agents(await r.route(intent))).toEqual(['weather-2']);
  });

  it('find returns the k best capabilities (several per agent), no side effects, min_score as a floor', async () => {
    const r = router();
    populated(r);
    const intent = { tenant: 't1', vector: intentNear(TOPIC.weather), modelId: MODEL };
    const found = await r.find(intent, 3);
    expect(found.map((m) => `${m.agentId}/${m.capability}`)).toEqual(['weather-1/weather.forecast', 'polyglot/weather.now', expect.any(String)]);
    expect(await r.find({ ...intent, minScore: found[1]!.score }, 10)).toHaveLength(2);
    expect(await r.find({ ...intent, vector: new Float32Array(DIM) }, 3)).toEqual([]);
    await expect(r.find(intent, 0)).rejects.toBeInstanceOf(ParameterError);
  });
});
