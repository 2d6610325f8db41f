import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/parse.js';
import { defaultSemanticOptions, parseSemanticOptions } from '../../../src/router/semantic/options.js';

describe('parseSemanticOptions', () => {
  it('returns the defaults, deeply frozen', () => {
    const o = parseSemanticOptions();
    expect(o).toEqual(defaultSemanticOptions());
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.weights)).toBe(true);
    expect(Object.isFrozen(o.index)).toBe(true);
    expect(Object.isFrozen(o.capabilityLimits)).toBe(true);
  });

  it('merges nested overrides', () => {
    const o = parseSemanticOptions({ weights: { lexical: 0 }, index: { exactThreshold: 10 }, threshold: 0.3 });
    expect(o.weights).toEqual({ centroid: 0.4, examples: 0.4, lexical: 0 });
    expect(o.index.exactThreshold).toBe(10);
    expect(o.index.m).toBe(16);
    expect(o.threshold).toBe(0.3);
  });

  it.each([
    [{ threshold: 2 }, 'semantic.threshold'],
    [{ weights: { centroid: -0.1 } }, 'semantic.weights.centroid'],
    [{ weights: { centroid: 0, examples: 0 } }, 'semantic.weights'],
    [{ topExamples: 1.5 }, 'semantic.topExamples'],
    [{ index: { build: 'later' as 'sync' } }, 'semantic.index.build'],
    [{ index: { rebuildDeletedRatio: 1 } }, 'semantic.index.rebuildDeletedRatio'],
    [{ candidateTexts: 100, maxCandidateTexts: 50 }, 'semantic.maxCandidateTexts'],
    [{ balanceMargin: NaN }, 'semantic.balanceMargin'],
  ])('names the offending key: %j', (input, key) => {
    expect(() => parseSemanticOptions(input)).toThrow(ConfigError);
    try {
      parseSemanticOptions(input);
    } catch (err) {
      expect((err as ConfigError).key).toBe(key);
    }
  });
});
