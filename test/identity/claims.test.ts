/** Verified claims → Identity: defaults, fail-closed permissions, and every invalid claim refused. */
import { describe, expect, it } from 'vitest';
import { identityFromClaims, MAX_PATTERNS } from '../../src/identity/claims.js';
import { AuthError } from '../../src/identity/errors.js';

function refusal(claims: Record<string, unknown>): AuthError {
  try {
    identityFromClaims(claims);
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
  throw new Error(`claims were accepted: ${JSON.stringify(claims)}`);
}

describe('identityFromClaims: defaults', () => {
  it('a bare sub: tenant default, client_type human, no screen name, not admin, not anonymous', () => {
    const id = identityFromClaims({ sub: 'alice' });
    expect(id).toMatchObject({
      sub: 'alice',
      tenant: 'default',
      clientType: 'human',
      screenName: null,
      admin: false,
      anonymous: false,
      expiresAt: null,
    });
    expect(id.caps).toEqual([]);
  });

  it('missing permissions grant nothing, for every action', () => {
    for (const permissions of [undefined, null, {}, { publish: [] }]) {
      const id = identityFromClaims({ sub: 'alice', ...(permissions === undefined ? {} : { permissions }) });
      for (const action of ['publish', 'subscribe', 'history'] as const) {
        expect(id.permissions[action].matches('lobby', 'general'), `${JSON.stringify(permissions)} ${action}`).toBe(false);
      }
    }
  });

  it('one granted action does not grant the others', () => {
    const id = identityFromClaims({ sub: 'alice', permissions: { subscribe: ['lobby:*'] } });
    expect(id.permissions.subscribe.matches('lobby', 'general')).toBe(true);
    expect(id.permissions.publish.matches('lobby', 'general')).toBe(false);
    expect(id.permissions.history.matches('lobby', 'general')).toBe(false);
  });

  it('carries every documented claim', () => {
    const id = identityFromClaims({
      sub: 'agent-7',
      tenant: 'acme',
      client_type: 'ai-agent',
      screen_name: 'Seven',
      permissions: { publish: ['lobby:*'], subscribe: ['*'], history: ['lab:bench'] },
      caps: ['translate.*', 'summarize'],
      admin: true,
      exp: 2_000_000_000,
    });
    expect(id).toMatchObject({
      sub: 'agent-7',
      tenant: 'acme',
      clientType: 'ai-agent',
      screenName: 'Seven',
      admin: true,
      expiresAt: 2_000_000_000_000,
    });
    expect(id.caps).toEqual(['translate.*', 'summarize']);
    expect(id.permissions.publish.matches('lobby', 'x')).toBe(true);
    expect(id.permissions.publish.matches('lab', 'x')).toBe(false);
    expect(id.permissions.subscribe.matches('any', 'thing')).toBe(true);
    expect(id.permissions.history.matches('lab', 'bench')).toBe(true);
  });
});

describe('identityFromClaims: invalid claims → AUTH_INVALID_CLAIMS', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['missing sub', {}],
    ['numeric sub', { sub: 42 }],
    ['empty sub', { sub: '' }],
    ['sub with a space', { sub: 'a b' }],
    ['sub with a control character', { sub: 'a\u0000b' }],
    ['sub too long', { sub: 'x'.repeat(129) }],
    ['tenant with a colon', { sub: 'a', tenant: 'acme:other' }],
    ['tenant not a string', { sub: 'a', tenant: 7 }],
    ['tenant empty', { sub: 'a', tenant: '' }],
    ['tenant null', { sub: 'a', tenant: null }],
    ['unknown client_type', { sub: 'a', client_type: 'robot' }],
    ['client_type not a string', { sub: 'a', client_type: ['human'] }],
    ['screen_name not a string', { sub: 'a', screen_name: 5 }],
    ['screen_name too long', { sub: 'a', screen_name: 's'.repeat(129) }],
    ['permissions an array', { sub: 'a', permissions: ['*'] }],
    ['permissions a string', { sub: 'a', permissions: '*' }],
    ['permissions.publish a string', { sub: 'a', permissions: { publish: '*' } }],
    ['permissions.subscribe with a number', { sub: 'a', permissions: { subscribe: ['lobby:*', 3] } }],
    ['permissions.history with an invalid pattern', { sub: 'a', permissions: { history: ['a:b:c'] } }],
    ['permissions.publish invalid next to *', { sub: 'a', permissions: { publish: ['*', 'no colon'] } }],
    ['too many patterns', { sub: 'a', permissions: { publish: Array.from({ length: MAX_PATTERNS + 1 }, (_, i) => `r${i}:c`) } }],
    ['caps a string', { sub: 'a', caps: 'translate.*' }],
    ['caps with a space', { sub: 'a', caps: ['trans late'] }],
    ['caps with a slash', { sub: 'a', caps: ['a/b'] }],
    ['admin a string', { sub: 'a', admin: 'true' }],
    ['admin a number', { sub: 'a', admin: 1 }],
  ];

  it.each(cases)('%s', (_what, claims) => {
    const err = refusal(claims);
    expect(err.code).toBe('AUTH_INVALID_CLAIMS');
    expect(err.status).toBe(401);
  });
});
