import { describe, expect, it } from 'vitest';
import { LeastLoadedBalancer } from '../../../src/router/semantic/balancer.js';

describe('LeastLoadedBalancer', () => {
  it('goes round robin over a stable set when loads are equal', () => {
    const b = new LeastLoadedBalancer();
    const picks = Array.from({ length: 7 }, () => b.pick('t', ['a', 'b', 'c']));
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('prefers the fewest in-flight requests over the round robin', () => {
    const b = new LeastLoadedBalancer();
    b.increment('t', 'a');
    b.increment('t', 'b');
    expect(b.pick('t', ['a', 'b', 'c'])).toBe('c');
    b.increment('t', 'c');
    b.increment('t', 'c');
    // a and b have 1 each, c has 2: a and b alternate, c waits.
    expect(b.pick('t', ['a', 'b', 'c'])).toBe('a');
    expect(b.pick('t', ['a', 'b', 'c'])).toBe('b');
    expect(b.pick('t', ['a', 'b', 'c'])).toBe('a');
    expect(b.decrement('t', 'c')).toBe(1);
    expect(b.decrement('t', 'c')).toBe(0);
    expect(b.pick('t', ['a', 'b', 'c'])).toBe('c');
  });

  it('never counts below zero, and counts per tenant', () => {
    const b = new LeastLoadedBalancer();
    expect(b.decrement('t', 'a')).toBe(0);
    expect(b.increment('t', 'a')).toBe(1);
    expect(b.inFlight('u', 'a')).toBe(0);
    expect(b.decrement('t', 'a')).toBe(0);
    expect(b.decrement('t', 'a')).toBe(0);
  });

  it('previews without advancing when commit is false', () => {
    const b = new LeastLoadedBalancer();
    expect(b.pick('t', ['a', 'b'], false)).toBe('a');
    expect(b.pick('t', ['a', 'b'], false)).toBe('a');
    expect(b.pick('t', ['a', 'b'])).toBe('a');
    expect(b.pick('t', ['a', 'b'], false)).toBe('b');
  });

  it('forgets an agent', () => {
    const b = new LeastLoadedBalancer();
    b.increment('t', 'a');
    b.pick('t', ['a']);
    b.forget('t', 'a');
    expect(b.inFlight('t', 'a')).toBe(0);
    b.forget('t', 'zzz');
    expect(() => b.pick('t', [])).toThrow(RangeError);
  });
});
