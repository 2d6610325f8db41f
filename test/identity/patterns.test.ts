/** Permission patterns over `room:channel`, and the checks built on them. */
import { describe, expect, it } from 'vitest';
import { assertCan, can } from '../../src/identity/authorize.js';
import { PermissionError } from '../../src/identity/errors.js';
import { anonymousIdentity, type Identity } from '../../src/identity/identity.js';
import { compilePatterns, PatternError } from '../../src/identity/patterns.js';

const matches = (patterns: string[], address: string): boolean => {
  const [room, channel] = address.split(':') as [string, string];
  return compilePatterns(patterns).matches(room, channel);
};

describe('compilePatterns', () => {
  it('an empty list matches nothing', () => {
    expect(matches([], 'lobby:general')).toBe(false);
  });

  it('`*` and `*:*` match every channel', () => {
    for (const p of ['*', '*:*']) {
      expect(matches([p], 'lobby:general')).toBe(true);
      expect(matches([p], 'a:b')).toBe(true);
    }
  });

  it('`room:*` matches every channel of that room only', () => {
    expect(matches(['room:*'], 'room:general')).toBe(true);
    expect(matches(['room:*'], 'room:x')).toBe(true);
    expect(matches(['room:*'], 'rooms:general')).toBe(false);
    expect(matches(['room:*'], 'other:general')).toBe(false);
  });

  it('`*:general` matches that channel in every room', () => {
    expect(matches(['*:general'], 'lobby:general')).toBe(true);
    expect(matches(['*:general'], 'lab:general')).toBe(true);
    expect(matches(['*:general'], 'lobby:generals')).toBe(false);
    expect(matches(['*:general'], 'lobby:random')).toBe(false);
  });

  it('`team-*:chat` globs inside one side', () => {
    expect(matches(['team-*:chat'], 'team-a:chat')).toBe(true);
    expect(matches(['team-*:chat'], 'team-blue.ops:chat')).toBe(true);
    expect(matches(['team-*:chat'], 'team:chat')).toBe(false);
    expect(matches(['team-*:chat'], 'xteam-a:chat')).toBe(false);
    expect(matches(['team-*:chat'], 'team-a:chatter')).toBe(false);
  });

  it('`*` never matches across `:`', () => {
    const set = compilePatterns(['a*:b']);
    // "a" + "x:y" + ":b" would need `*` to swallow a colon.
    expect(set.matches('ax:y', 'b')).toBe(false);
    expect(set.matches('ax', 'y:b')).toBe(false);
    expect(compilePatterns(['lobby:*']).matches('lobby', 'general:secret')).toBe(false);
    expect(compilePatterns(['*:general']).matches('other:lobby', 'general')).toBe(false);
  });

  it('treats regex metacharacters literally', () => {
    expect(matches(['a.b:c'], 'a.b:c')).toBe(true);
    expect(matches(['a.b:c'], 'axb:c')).toBe(false);
    expect(matches(['a+:c'], 'a+:c')).toBe(true);
    expect(matches(['a+:c'], 'aa:c')).toBe(false);
  });

  it('matches when any pattern of a list matches', () => {
    const set = compilePatterns(['lobby:general', 'lab:*']);
    expect(set.matches('lobby', 'general')).toBe(true);
    expect(set.matches('lab', 'bench')).toBe(true);
    expect(set.matches('lobby', 'random')).toBe(false);
  });

  it.each([
    ['no colon', 'lobby'],
    ['two colons', 'a:b:c'],
    ['empty room', ':general'],
    ['empty channel', 'lobby:'],
    ['space', 'lob by:general'],
    ['regex syntax', 'lobby:(a|b)'],
    ['question mark', 'lobby:gen?ral'],
    ['slash', 'lobby/x:general'],
    ['too long', `${'r'.repeat(129)}:general`],
    ['empty string', ''],
  ])('rejects an invalid pattern (%s)', (_what, pattern) => {
    expect(() => compilePatterns([pattern])).toThrow(PatternError);
  });

  it('many `*` against a long non-matching name stay fast (no regex backtracking)', () => {
    const side = `${'*a'.repeat(40)}*b`; // 81 characters, 41 stars
    const set = compilePatterns([`${side}:x`, `x:${side}`, `${side}:${side}`]);
    const name = 'a'.repeat(128);
    const started = performance.now();
    expect(set.matches(name, 'x')).toBe(false);
    expect(set.matches('x', name)).toBe(false);
    expect(set.matches(name, name)).toBe(false);
    expect(set.matches(`${name.slice(1)}b`, 'x')).toBe(true);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('globs with several stars keep their meaning', () => {
    const set = compilePatterns(['a*b*c:*x*']);
    expect(set.matches('abc', 'x')).toBe(true);
    expect(set.matches('a-b-c', 'box')).toBe(true);
    expect(set.matches('aXbYcZc', 'xx')).toBe(true);
    expect(set.matches('acb', 'x')).toBe(false);
    expect(set.matches('abcd', 'x')).toBe(false);
    expect(set.matches('abc', 'y')).toBe(false);
  });

  it('rejects an invalid pattern even when `*` is also in the list', () => {
    expect(() => compilePatterns(['*', 'a:b:c'])).toThrow(PatternError);
    expect(() => compilePatterns(['*:*', 'not a pattern'])).toThrow(PatternError);
  });
});

describe('can / assertCan', () => {
  const identity: Identity = {
    ...anonymousIdentity('bob', 'human', null),
    anonymous: false,
    admin: false,
    permissions: {
      publish: compilePatterns(['lobby:*']),
      subscribe: compilePatterns(['*:general']),
      history: compilePatterns([]),
    },
  };

  it('checks each action against its own pattern set', () => {
    expect(can(identity, 'publish', 'lobby', 'random')).toBe(true);
    expect(can(identity, 'subscribe', 'lobby', 'random')).toBe(false);
    expect(can(identity, 'subscribe', 'lab', 'general')).toBe(true);
    expect(can(identity, 'history', 'lobby', 'general')).toBe(false);
  });

  it('assertCan throws a PermissionError naming the action and address', () => {
    let thrown: unknown;
    try {
      assertCan(identity, 'history', 'lobby', 'general');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PermissionError);
    const err = thrown as PermissionError;
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.action).toBe('history');
    expect(err.details).toMatchObject({ action: 'history', room: 'lobby', channel: 'general' });
    expect(() => assertCan(identity, 'publish', 'lobby', 'general')).not.toThrow();
  });
});
