import { describe, expect, it } from 'vitest';
import { fuse, topMean, vectorComponents } from '../../../src/router/semantic/scoring.js';
import { centroid, dot, normalized } from '../../../src/router/semantic/vector-math.js';

const W = { centroid: 0.4, examples: 0.4, lexical: 0.2 };

function vec(...xs: number[]): Float32Array {
  return normalized(xs)!;
}

describe('topMean', () => {
  it('averages the n largest values', () => {
    expect(topMean([0.1, 0.9, 0.5, 0.7, 0.3], 3)).toBeCloseTo((0.9 + 0.7 + 0.5) / 3, 12);
    expect(topMean([0.2, -0.4], 3)).toBeCloseTo(-0.1, 12);
    expect(topMean([0.6], 3)).toBeCloseTo(0.6, 12);
    expect(topMean([], 3)).toBe(0);
    expect(topMean([5, 5, 1, 5], 2)).toBe(5);
    expect(topMean(Float64Array.from([3, 1, 2]), 1)).toBe(3);
  });
});

describe('vector helpers', () => {
  it('normalises, rejects zero vectors and averages directions', () => {
    expect(normalized([3, 4])).toEqual(Float32Array.from([0.6, 0.8]));
    expect(normalized([0, 0])).toBeNull();
    expect(normalized([NaN, 1])).toBeNull();
    const c = centroid([vec(1, 0), vec(0, 1)])!;
    expect(c[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(c[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(centroid([vec(1, 0), vec(-1, 0)])).toBeNull();
    expect(centroid([])).toBeNull();
  });
});

describe('vectorComponents', () => {
  it('is the centroid cosine and the mean of the best text cosines', () => {
    const texts = [vec(1, 0, 0), vec(0, 1, 0), vec(1, 1, 0), vec(0, 0, 1)];
    const q = vec(1, 0.5, 0);
    const c = centroid(texts)!;
    const sims = texts.map((t) => dot(q, t)).sort((a, b) => b - a);
    const got = vectorComponents(q, c, texts, 3);
    expect(got.centroid).toBeCloseTo(dot(q, c), 6);
    expect(got.examples).toBeCloseTo((sims[0]! + sims[1]! + sims[2]!) / 3, 6);
    expect(vectorComponents(q, null, [], 3)).toEqual({ centroid: 0, examples: 0 });
  });
});

describe('fuse', () => {
  it('is the weighted mean of the three components', () => {
    expect(fuse({ centroid: 0.8, examples: 0.6, lexical: 0.5 }, W)).toBeCloseTo(0.4 * 0.8 + 0.4 * 0.6 + 0.2 * 0.5, 12);
  });

  it('divides by the weights, so they need not sum to 1', () => {
    const a = fuse({ centroid: 0.8, examples: 0.6, lexical: 0.5 }, W);
    expect(fuse({ centroid: 0.8, examples: 0.6, lexical: 0.5 }, { centroid: 2, examples: 2, lexical: 1 })).toBeCloseTo(a, 12);
  });

  it('leaves lexical out of numerator and denominator when the intent has no text', () => {
    expect(fuse({ centroid: 0.8, examples: 0.6, lexical: null }, W)).toBeCloseTo((0.4 * 0.8 + 0.4 * 0.6) / 0.8, 12);
    // A perfect vector match scores 1 with or without the lexical component present and perfect.
    expect(fuse({ centroid: 1, examples: 1, lexical: null }, W)).toBeCloseTo(1, 12);
    expect(fuse({ centroid: 1, examples: 1, lexical: 1 }, W)).toBeCloseTo(1, 12);
  });

  it('honours zero weights', () => {
    expect(fuse({ centroid: 0.9, examples: 0.1, lexical: 0.3 }, { centroid: 1, examples: 0, lexical: 0 })).toBeCloseTo(0.9, 12);
    expect(fuse({ centroid: 0.9, examples: 0.1, lexical: 0.3 }, { centroid: 0, examples: 0, lexical: 1 })).toBeCloseTo(0.3, 12);
  });
});
