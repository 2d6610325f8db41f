import { afterEach, describe, expect, it } from 'vitest';
import { ParameterError } from '../../../src/protocol/errors.js';
import { SemanticRouter } from '../../../src/router/semantic/semantic-router.js';
import type { RouteOutcome } from '../../../src/router/semantic/outcome.js';
import { near, prng } from './fixtures.js';
import { BILLING, DIM, FLIGHTS, MODEL, SMALL_DIM, SMALL_MODEL, TOPIC, WEATHER, axis, cap, routerFactory } from './router-fixtures.js';

const router = routerFactory(afterEach);

function agents(outcome: RouteOutcome): string[] {
  return outcome.matched ? outcome.matches.map((m) => m.agentId) : [];
}

const toward = (topic: number, dim = DIM): Float32Array => near(axis(topic, dim), 0.2, prng(11));

describe('SemanticRouter: isolation', () => {
  it('tenants never see each other’s agents, even with the same agent ids', async () => {
    const r = router();
    r.registerEmbedded('acme', 'a1', [WEATHER()]);
    r.registerEmbedded('globex', 'a1', [BILLING()]);
    r.registerEmbedded('globex', 'g2', [WEATHER()]);
    const weather = { vector: toward(TOPIC.weather), modelId: MODEL, mode: 'all' as const };
    expect(agents(await r.route({ tenant: 'acme', ...weather }))).toEqual(['a1']);
    expect(agents(await r.route({ tenant: 'globex', ...weather }))).toEqual(['g2']);
    expect(await r.route({ tenant: 'acme', vector: toward(TOPIC.billing), modelId: MODEL })).toMatchObject({ matched: false });
    expect(r.capabilities('acme', 'a1').map((c) => c.name)).toEqual(['weather.forecast']);
    expect(r.capabilities('globex', 'a1').map((c) => c.name)).toEqual(['billing.invoice']);
    // Load is per tenant too.
    r.requestStarted('acme', 'a1');
    expect(r.inFlight('globex', 'a1')).toBe(0);
    r.removeAgent('acme', 'a1');
    expect(agents(await r.route({ tenant: 'globex', vector: toward(TOPIC.billing), modelId: MODEL }))).toEqual(['a1']);
  });

  it('vectors of different models never mix: each model has its own index and dimension', async () => {
    const r = router();
    r.registerEmbedded('t1', 'big', [WEATHER()]);
    r.registerEmbedded('t1', 'small', [cap('weather.small', 'Weather forecast for a city', 0, { model: SMALL_MODEL })]);
    expect(agents(await r.route({ tenant: 't1', vector: toward(TOPIC.weather), modelId: MODEL, mode: 'all' }))).toEqual(['big']);
    expect(agents(await r.route({ tenant: 't1', vector: toward(0, SMALL_DIM), modelId: SMALL_MODEL, mode: 'all' }))).toEqual(['small']);
    expect(r.stats('t1').map((s) => [s.modelId, s.capabilities, s.size])).toEqual([
      [MODEL, 1, 4],
      [SMALL_MODEL, 1, 1],
    ]);
    // One capability may carry vectors for both models.
    const both = cap('both', 'Weather everywhere', TOPIC.weather);
    r.registerEmbedded('t1', 'both', [{ ...both, vectors: { ...both.vectors, [SMALL_MODEL]: [axis(0, SMALL_DIM)] } }]);
    expect(agents(await r.route({ tenant: 't1', vector: toward(0, SMALL_DIM), modelId: SMALL_MODEL, mode: 'all' })).sort()).toEqual(['both', 'small']);
  });
});

describe('SemanticRouter: registration', () => {
  it('validates declarations and vectors before changing anything', () => {
    const r = router({ options: { maxCapabilitiesPerAgent: 2 } });
    const param = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(ParameterError);
        return (err as ParameterError).parameter;
      }
      throw new Error('expected a ParameterError');
    };
    expect(param(() => r.registerEmbedded('t1', 'a', [{ capability: { name: 'bad name!', description: 'x' }, vectors: {} }]))).toBe('capabilities[0].name');
    expect(param(() => r.registerEmbedded('t1', 'a', [{ capability: { name: 'ok', description: '' }, vectors: {} }]))).toBe('capabilities[0].description');
    expect(param(() => r.registerEmbedded('t1', 'a', [{ capability: { name: 'ok', description: 'd', examples: [3] }, vectors: {} }]))).toBe(
      'capabilities[0].examples[0]',
    );
    expect(param(() => r.registerEmbedded('t1', 'a', [WEATHER(), WEATHER()]))).toBe('capabilities[1].name');
    expect(param(() => r.registerEmbedded('t1', 'a', [{ ...WEATHER(), vectors: { nope: [] } }]))).toBe('model_id');
    expect(param(() => r.registerEmbedded('t1', 'a', [{ ...WEATHER(), vectors: { [MODEL]: [axis(0)] } }]))).toBe('capabilities[0].vectors');
    expect(param(() => r.registerEmbedded('t1', 'a', [FLIGHTS(), { ...WEATHER(), vectors: { [MODEL]: Array(4).fill(axis(0, 5)) } }]))).toBe(
      'capabilities[1].vectors',
    );
    expect(param(() => r.registerEmbedded('t1', 'a', []))).toBe('capabilities');
    r.registerEmbedded('t1', 'a', [WEATHER(), FLIGHTS()]);
    expect(param(() => r.registerEmbedded('t1', 'a', [BILLING()]))).toBe('capabilities');
    // Nothing half-applied: the failed calls left only the valid declaration.
    expect(r.capabilities('t1', 'a').map((c) => c.name)).toEqual(['weather.forecast', 'travel.flights']);
    expect(r.stats('t1')[0]).toMatchObject({ capabilities: 2, size: 7 });
  });

  it('register (text) needs an embedding provider', async () => {
    const r = router();
    await expect(r.register('t1', 'a', [{ name: 'x', description: 'y' }])).rejects.toMatchObject({ parameter: 'capabilities' });
  });

  it('re-declaring a capability replaces it: old vectors are deleted, new ones route', async () => {
    const r = router();
    r.registerEmbedded('t1', 'a', [cap('skill', 'Weather', TOPIC.weather)]);
    r.registerEmbedded('t1', 'b', [FLIGHTS()]);
    expect(agents(await r.route({ tenant: 't1', vector: toward(TOPIC.weather), modelId: MODEL }))).toEqual(['a']);
    r.registerEmbedded('t1', 'a', [cap('skill', 'Billing', TOPIC.billing)]);
    expect(await r.route({ tenant: 't1', vector: toward(TOPIC.weather), modelId: MODEL })).toMatchObject({ matched: false });
    expect(agents(await r.route({ tenant: 't1', vector: toward(TOPIC.billing), modelId: MODEL }))).toEqual(['a']);
    expect(r.capabilities('t1', 'a')).toEqual([{ name: 'skill', description: 'Billing', examples: [], tags: [] }]);
    expect(r.stats('t1')[0]).toMatchObject({ capabilities: 2, size: 4 });
  });

  it('a capability whose texts all embed to zero is kept but never a vector candidate', async () => {
    const r = router();
    r.registerEmbedded('t1', 'z', [cap('mute', 'zzz', 0, { vectors: [new Float32Array(DIM)] })]);
    expect(r.capabilities('t1', 'z')).toHaveLength(1);
    expect(r.stats('t1')).toEqual([]);
    expect(await r.route({ tenant: 't1', vector: axis(0), modelId: MODEL })).toMatchObject({ matched: false, reason: 'no_candidates' });
  });
});

describe('SemanticRouter: removal', () => {
  it('removing an agent removes all its capabilities and its load state', async () => {
    const r = router();
    r.registerEmbedded('t1', 'w1', [WEATHER(), FLIGHTS()]);
    r.registerEmbedded('t1', 'w2', [WEATHER()]);
    r.requestStarted('t1', 'w1');
    expect(r.removeAgent('t1', 'w1')).toBe(2);
    expect(r.removeAgent('t1', 'w1')).toBe(0);
    expect(r.inFlight('t1', 'w1')).toBe(0);
    expect(r.capabilities('t1', 'w1')).toEqual([]);
    const out = await r.explain({ tenant: 't1', vector: toward(TOPIC.weather), modelId: MODEL, mode: 'all' });
    expect(out.candidates.map((c) => c.agentId)).toEqual(['w2']);
    expect(await r.route({ tenant: 't1', vector: toward(TOPIC.flights), modelId: MODEL })).toMatchObject({ matched: false });
    r.removeAgent('t1', 'w2');
    expect(r.stats('t1')).toEqual([]);
    expect(await r.route({ tenant: 't1', vector: toward(TOPIC.weather), modelId: MODEL })).toMatchObject({ reason: 'no_candidates' });
  });

  it('unregister removes named capabilities only', async () => {
    const r = router();
    r.registerEmbedded('t1', 'w1', [WEATHER(), FLIGHTS()]);
    expect(r.unregister('t1', 'w1', ['travel.flights', 'unknown'])).toBe(1);
    expect(r.capabilities('t1', 'w1').map((c) => c.name)).toEqual(['weather.forecast']);
    expect(await r.route({ tenant: 't1', vector: toward(TOPIC.flights), modelId: MODEL })).toMatchObject({ matched: false });
    expect(agents(await r.route({ tenant: 't1', vector: toward(TOPIC.weather), modelId: MODEL }))).toEqual(['w1']);
    expect(r.unregister('t1', 'nobody', ['x'])).toBe(0);
  });

  it('churn past the exact threshold moves to HNSW, rebuilds after deletions, and routes like before', async () => {
    const r = router({ options: { index: { exactThreshold: 60, build: 'sync' } } });
    // 30 agents × 3 texts = 90 vectors > 60: HNSW.
    for (let i = 0; i < 30; i++) r.registerEmbedded('t1', `a${i}`, [cap('c', `topic ${i % 10}`, i % 10, { examples: ['x', 'y'], seed: i })]);
    expect(r.stats('t1')[0]).toMatchObject({ kind: 'hnsw', size: 90 });
    for (let i = 0; i < 12; i++) r.removeAgent('t1', `a${i}`);
    const s = r.stats('t1')[0]!;
    expect(s).toMatchObject({ kind: 'hnsw', size: 54 });
    expect(s.deleted).toBeLessThanOrEqual(0.25 * (s.size + s.deleted));
    expect(s.rebuilds).toBeGreaterThan(0);
    const out = await r.route({ tenant: 't1', vector: toward(3), modelId: MODEL, mode: 'all' });
    expect(agents(out).sort()).toEqual(['a13', 'a23']);
    for (let i = 12; i < 25; i++) r.removeAgent('t1', `a${i}`);
    expect(r.stats('t1')[0]).toMatchObject({ kind: 'exact', size: 15 });
  });
});

describe('SemanticRouter: construction', () => {
  it('needs a model and a known default; options are validated and frozen', () => {
    expect(() => new SemanticRouter({})).toThrow(RangeError);
    expect(() => new SemanticRouter({ models: [{ modelId: 'm', dimension: 4 }], defaultModelId: 'x' })).toThrow(RangeError);
    expect(() => new SemanticRouter({ models: [{ modelId: 'm', dimension: 4 }, { modelId: 'm', dimension: 4 }] })).toThrow(RangeError);
    const r = router();
    expect(r.defaultModelId).toBe(MODEL);
    expect(Object.isFrozen(r.options)).toBe(true);
    expect(Object.isFrozen(r.options.weights)).toBe(true);
  });
});
