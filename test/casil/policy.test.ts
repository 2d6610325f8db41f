/** Policy validation (messages name the offending path), compilation, scopes, and the config file hook. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileScope, checkScopePattern } from '../../src/casil/scope.js';
import { validatePolicy } from '../../src/casil/policy.js';
import { parsePath } from '../../src/casil/paths.js';
import { ConfigError, parseConfig } from '../../src/config/parse.js';

describe('validatePolicy', () => {
  it('accepts the absent section, an empty one and a full example', () => {
    expect(validatePolicy(undefined)).toBeNull();
    expect(validatePolicy({})).toBeNull();
    expect(validatePolicy({
      scopes: [
        { name: 'pii', include: ['pii-*:*'], pii: true, redact_keys: ['ssn'], redact_paths: ['user.card_number', 'items[*].iban'] },
        { include: ['*'], exclude: ['public:*'], secrets: 'redact', max_payload_bytes: 65536, mode: 'monitor' },
      ],
      tenants: { acme: { mode: 'enforce', scopes: [{ include: ['secure-*'], pii: ['email', 'card'] }] }, beta: { mode: 'off' } },
    })).toBeNull();
  });

  it.each([
    [[], 'casil: must be an object'],
    [{ scope: [] }, 'casil.scope: unknown key (expected scopes, tenants)'],
    [{ scopes: {} }, 'casil.scopes: must be an array of scopes'],
    [{ scopes: [{ include: ['a:b:c'] }] }, 'casil.scopes[0].include[0]: invalid pattern "a:b:c": expected *, ROOM or ROOM:CHANNEL'],
    [{ scopes: [{ include: [] }] }, 'casil.scopes[0].include: must list at least one pattern (omit it for "*")'],
    [{ scopes: [{}, { exclude: ['bad room'] }] }, 'casil.scopes[1].exclude[0]: invalid pattern "bad room": globs use A-Z a-z 0-9 _ . @ + - and *'],
    [{ scopes: [{ mode: 'audit' }] }, 'casil.scopes[0].mode: expected one of enforce, monitor, off'],
    [{ scopes: [{ secrets: 'mask' }] }, 'casil.scopes[0].secrets: expected one of block, redact, allow'],
    [{ scopes: [{ max_payload_bytes: 0 }] }, 'casil.scopes[0].max_payload_bytes: must be a positive integer'],
    [{ scopes: [{ redact_keys: [''] }] }, 'casil.scopes[0].redact_keys[0]: must be a non-empty string of at most 256 characters'],
    [{ scopes: [{ redact_paths: ['a..b'] }] }, 'casil.scopes[0].redact_paths[0]: invalid path "a..b": segment "" is malformed (expected key, key[n], key[*] or *)'],
    [{ scopes: [{ pii: ['email', 'ssn'] }] }, 'casil.scopes[0].pii[1]: expected one of email, phone, card'],
    [{ scopes: [{ pii: 'yes' }] }, 'casil.scopes[0].pii: must be true, false or a list of email, phone, card'],
    [{ scopes: [{ colour: 'red' }] }, 'casil.scopes[0].colour: unknown key (expected name, include, exclude, mode, max_payload_bytes, secrets, redact_keys, redact_paths, pii)'],
    [{ tenants: [] }, 'casil.tenants: must be an object of tenant name to { mode, scopes }'],
    [{ tenants: { acme: { mode: 'loud' } } }, 'casil.tenants.acme.mode: expected one of enforce, monitor, off'],
    [{ tenants: { acme: { scopes: [{ include: [7] }] } } }, 'casil.tenants.acme.scopes[0].include[0]: must be a string'],
    [{ tenants: { acme: { limits: {} } } }, 'casil.tenants.acme.limits: unknown key (expected mode, scopes)'],
  ])('refuses %j with a message naming the path', (policy, message) => {
    expect(validatePolicy(policy)).toBe(message);
  });
});

describe('config file section', () => {
  it('fails start-up with a ConfigError naming the casil path', () => {
    const parse = (): unknown => parseConfig({ overrides: { casil: { scopes: [{ secrets: 'maybe' }] } } });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow('invalid casil section from overrides: casil.scopes[0].secrets: expected one of block, redact, allow');
  });

  it('keeps a valid section, frozen', () => {
    const { config } = parseConfig({ overrides: { casil: { scopes: [{ include: ['secure-*'] }] } } });
    expect(config.casil).toEqual({ scopes: [{ include: ['secure-*'] }] });
    expect(Object.isFrozen(config.casil)).toBe(true);
  });
});

describe('scopes', () => {
  it('matches ROOM, ROOM:CHANNEL and *, minus excludes; unaddressed messages only under *', () => {
    const s = compileScope(['secure-*', 'pii-*:in*'], ['secure-public:*']);
    expect(s.all).toBe(false);
    expect(s.matches('secure-ops', 'anything')).toBe(true);
    expect(s.matches('secure-public', 'x')).toBe(false);
    expect(s.matches('pii-eu', 'intake')).toBe(true);
    expect(s.matches('pii-eu', 'outbox')).toBe(false);
    expect(s.matches('lobby', 'general')).toBe(false);
    expect(s.matches(null, null)).toBe(false);
    const all = compileScope(['*'], []);
    expect(all.all && all.matches(null, null)).toBe(true);
    const allBut = compileScope(['*'], ['lobby:*']);
    expect(allBut.matches('lobby', 'x')).toBe(false);
    expect(allBut.matches(null, null)).toBe(true);
  });

  it('validates patterns', () => {
    expect(checkScopePattern('*')).toBeNull();
    expect(checkScopePattern('a*:b*')).toBeNull();
    expect(checkScopePattern('')).not.toBeNull();
    expect(checkScopePattern('a:')).not.toBeNull();
  });
});

describe('paths', () => {
  it('parses keys, indexes and wildcards, with an optional $. or payload. prefix', () => {
    expect(parsePath('user.ssn')).toEqual(['user', 'ssn']);
    expect(parsePath('$.cards[*].number')).toEqual(['cards', '*', 'number']);
    expect(parsePath('payload.a[0][1].b')).toEqual(['a', '0', '1', 'b']);
    expect(parsePath('*.password')).toEqual(['*', 'password']);
    expect(typeof parsePath('a[x]')).toBe('string');
    expect(typeof parsePath('')).toBe('string');
  });
});

describe('docs/casil.md', () => {
  it('shows only policies the validator accepts', () => {
    const doc = readFileSync(new URL('../../docs/casil.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
    const policies = blocks.filter((b) => 'casil' in b).map((b) => b['casil']);
    const reloads = blocks.filter((b) => (b['payload'] as Record<string, unknown> | undefined)?.['command'] === 'casil_reload')
      .map((b) => ((b['payload'] as Record<string, Record<string, unknown>>)['parameters']!)['policy']);
    expect(policies.length + reloads.length).toBeGreaterThanOrEqual(2);
    for (const p of [...policies, ...reloads]) expect(validatePolicy(p)).toBeNull();
  });
});
