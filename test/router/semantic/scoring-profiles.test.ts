/**
 * Scoring per embedding model (options.ts `scoringFor`, model-defaults.ts):
 * the fitted table for known model ids, the generic profile for others, and
 * the override order input.models[id] > global input > table > generic.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/parse.js';
import { FITTED_SCORING } from '../../../src/router/semantic/model-defaults.js';
import { defaultSemanticOptions, parseSemanticOptions, scoringFor } from '../../../src/router/semantic/options.js';
import { fuse } from '../../../src/router/semantic/scoring.js';
import { BILLING, MODEL, SMALL_MODEL, TOPIC, axis, cap, routerFactory } from './router-fixtures.js';

const router = routerFactory(afterEach);
const FITTED_IDS = Object.keys(FITTED_SCORING);

describe('scoring profiles per model', () => {
  it('has a fitted profile for each bundled model, every one valid', () => {
    expect(FITTED_IDS.sort()).toEqual(['glove-sif-100', 'use-lite-512']);
    const o = parseSemanticOptions();
    for (const id of FITTED_IDS) {
      expect(scoringFor(o, id)).toEqual(FITTED_SCORING[id]);
      expect(Object.isFrozen(scoringFor(o, id).weights)).toBe(true);
    }
  });

  it('gives models without a fitted profile the generic one', () => {
    const o = parseSemanticOptions();
    const d = defaultSemanticOptions();
    expect(scoringFor(o, 'some-other-model')).toMatchObject({ weights: d.weights, threshold: d.threshold, balanceMargin: d.balanceMargin });
  });

  it('applies overrides field by field: per model, then global, then the table', () => {
    const [glove, use] = ['glove-sif-100', 'use-lite-512'];
    const o = parseSemanticOptions({
      threshold: 0.3,
      weights: { lexical: 0 },
      models: { [glove]: { threshold: 0.7, weights: { centroid: 0.5 } }, custom: { balanceMargin: 0.1 } },
    });
    expect(scoringFor(o, glove)).toEqual({
      weights: { ...FITTED_SCORING[glove]!.weights, lexical: 0, centroid: 0.5 },
      threshold: 0.7,
      balanceMargin: FITTED_SCORING[glove]!.balanceMargin,
    });
    expect(scoringFor(o, use)).toEqual({ weights: { ...FITTED_SCORING[use]!.weights, lexical: 0 }, threshold: 0.3, balanceMargin: FITTED_SCORING[use]!.balanceMargin });
    expect(scoringFor(o, 'custom')).toEqual({ weights: { centroid: 0.4, examples: 0.4, lexical: 0 }, threshold: 0.3, balanceMargin: 0.1 });
    expect(scoringFor(o, 'unlisted')).toEqual({ weights: { centroid: 0.4, examples: 0.4, lexical: 0 }, threshold: 0.3, balanceMargin: 0.02 });
  });

  it.each([
    [{ models: { m: { threshold: 1.5 } } }, 'semantic.models.m.threshold'],
    [{ models: { m: { weights: { lexical: -1 } } } }, 'semantic.models.m.weights.lexical'],
    [{ models: { m: { weights: { centroid: 0, examples: 0 } } } }, 'semantic.models.m.weights'],
    [{ models: { m: { balanceMargin: 2 } } }, 'semantic.models.m.balanceMargin'],
  ])('names the offending per-model key: %j', (input, key) => {
    try {
      parseSemanticOptions(input);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe(key);
    }
  });

  it('routes each model with its own weights, threshold and margin', async () => {
    const r = router({ options: { models: { [MODEL]: { threshold: 0.2, weights: { centroid: 1, examples: 0, lexical: 0 }, balanceMargin: 0.05 } } } });
    r.registerEmbedded('t1', 'billing', [BILLING()]);
    r.registerEmbedded('t1', 'small', [cap('small.billing', 'Invoices', TOPIC.billing, { model: SMALL_MODEL, noise: 0 })]);
    const big = await r.explain({ tenant: 't1', vector: axis(TOPIC.billing), modelId: MODEL });
    expect(big).toMatchObject({ threshold: 0.2, weights: { centroid: 1, examples: 0, lexical: 0 }, balanceMargin: 0.05 });
    const top = big.candidates[0]!;
    // Centroid only: the score is the centroid component itself.
    expect(top.score).toBeCloseTo(top.components.centroid, 12);
    expect(top.score).toBeCloseTo(fuse(top.components, { centroid: 1, examples: 0, lexical: 0 }), 12);
    const small = await r.explain({ tenant: 't1', vector: axis(TOPIC.billing, 8), modelId: SMALL_MODEL });
    expect(small).toMatchObject({ threshold: r.options.threshold, weights: r.options.weights, balanceMargin: r.options.balanceMargin });
    // An intent's min_score still beats the model's threshold.
    expect((await r.route({ tenant: 't1', vector: axis(TOPIC.billing), modelId: MODEL, minScore: 0.999 })).matched).toBe(false);
  });
});
