import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, type BackoffPolicy } from '../../src/client/backoff.js';
import { defaultOptions } from '../../src/client/options.js';

const policy: BackoffPolicy = { initialDelayMs: 250, maxDelayMs: 10_000, factor: 2, jitter: 'full' };

describe('backoff', () => {
  it('uses the documented defaults', () => {
    expect(defaultOptions().reconnect).toEqual({
      enabled: true,
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      factor: 2,
      jitter: 'full',
    });
  });

  it('grows the ceiling by the factor per attempt', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffCeiling(n, policy))).toEqual([250, 500, 1000, 2000, 4000]);
    // With random() at its top the delay is the ceiling.
    const top = () => 1 - Number.EPSILON;
    const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, top));
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThan(delays[i - 1]!);
  });

  it('caps the ceiling at maxDelayMs, even for huge attempt numbers', () => {
    expect(backoffCeiling(6, policy)).toBe(8000);
    expect(backoffCeiling(7, policy)).toBe(10_000);
    expect(backoffCeiling(50, policy)).toBe(10_000);
    expect(backoffCeiling(5000, policy)).toBe(10_000); // 2^4999 overflows to Infinity
    expect(backoffDelay(5000, policy, () => 0.999)).toBeLessThanOrEqual(10_000);
  });

  it('treats attempts below 1 as the first', () => {
    expect(backoffCeiling(0, policy)).toBe(250);
    expect(backoffCeiling(-3, policy)).toBe(250);
  });

  it('full jitter stays within [0, ceiling] and follows the random source', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(500);
    expect(backoffDelay(3, policy, () => 0.25)).toBe(250);
    // A deterministic pseudo-random sequence covering [0, 1).
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = backoffCeiling(attempt, policy);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, policy, lcg);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('clamps a misbehaving random source into bounds', () => {
    expect(backoffDelay(2, policy, () => 7)).toBe(500);
    expect(backoffDelay(2, policy, () => -1)).toBe(0);
  });

  it("jitter 'none' waits exactly the ceiling", () => {
    const fixed: BackoffPolicy = { ...policy, jitter: 'none' };
    expect([1, 2, 3, 8].map((n) => backoffDelay(n, fixed, () => 0))).toEqual([250, 500, 1000, 10_000]);
  });

  it('factor 1 keeps a constant ceiling', () => {
    expect(backoffCeiling(10, { ...policy, factor: 1 })).toBe(250);
  });
});
