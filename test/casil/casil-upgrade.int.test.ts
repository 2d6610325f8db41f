/**
 * CASIL at the HTTP upgrade: the free-text profile fields of the upgrade URL
 * (`screen_name`, `avatar`, `personality`) are inspected like `set_metadata`
 * parameters, under the tenant's `*` scopes, once the token has named the
 * tenant. A probable secret refuses the upgrade (400), redaction stores the
 * redacted value, monitor mode only records. Real servers on port 0.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Detector } from '../../src/casil/types.js';
import { claims, expectOpen, expectRefused, secretKey, SECRET, sign, upgradeHarness } from '../identity/tokens.fixtures.js';

const AWS_KEY = 'AKIA' + 'Q3EGRIVXNXT7HZWA';
const { server, tryUpgrade } = upgradeHarness({ afterEach, afterAll });

const token = (sub: string, extra: Record<string, unknown> = {}): Promise<string> => sign(secretKey(), 'HS256', claims(sub, extra));
const profileOf = (welcome: { payload: Record<string, unknown> }): Record<string, unknown> => welcome.payload['client'] as Record<string, unknown>;

describe('profile fields in the upgrade URL', () => {
  it('refuses a probable secret in any free-text field with 400 CASIL_POLICY_BLOCKED_SECRET, counted and JSON like other refusals', async () => {
    const srv = await server({ jwtSecret: SECRET });
    const t = await token('alice');
    for (const field of ['screen_name', 'avatar', 'personality']) {
      expectRefused(await tryUpgrade(srv.url, 'query', t, { query: { [field]: `key ${AWS_KEY}` } }), 400, 'CASIL_POLICY_BLOCKED_SECRET');
    }
    const welcome = expectOpen(await tryUpgrade(srv.url, 'header', t, { query: { screen_name: 'Alice', personality: 'curious, mail me at a@b.io' } }));
    expect(profileOf(welcome)).toMatchObject({ screen_name: 'Alice', personality: 'curious, mail me at a@b.io' });
    const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    expect(metrics).toContain('arqon_upgrade_refusals_total{code="CASIL_POLICY_BLOCKED_SECRET"} 3');
    expect(metrics).toContain('arqon_casil_decisions_total{outcome="BLOCK",reason="CASIL_POLICY_BLOCKED_SECRET",tenant="default",mode="enforce"} 3');
  });

  it('does not inspect a URL screen_name the token replaces (the claim is the issuer\'s and is what is kept)', async () => {
    const srv = await server({ jwtSecret: SECRET });
    const welcome = expectOpen(await tryUpgrade(srv.url, 'query', await token('alice', { screen_name: 'Alice' }), { query: { screen_name: AWS_KEY } }));
    expect(profileOf(welcome)['screen_name']).toBe('Alice');
  });

  it('inspects under --auth none too (the anonymous screen_name is the URL\'s)', async () => {
    const srv = await server({ auth: 'none' });
    expectRefused(await tryUpgrade(srv.url, 'query', null, { query: { screen_name: AWS_KEY } }), 400, 'CASIL_POLICY_BLOCKED_SECRET');
  });

  it('stores the redacted value under a redacting policy of the tenant; other tenants keep theirs', async () => {
    const srv = await server({
      jwtSecret: SECRET,
      casil: { tenants: { acme: { scopes: [{ include: ['*'], pii: ['email'], secrets: 'redact', redact_keys: ['avatar'] }] } } },
    });
    const acme = await token('alice', { tenant: 'acme' });
    const welcome = expectOpen(await tryUpgrade(srv.url, 'query', acme, {
      query: { screen_name: 'jane@example.com', avatar: 'https://img.example/me.png', personality: `key ${AWS_KEY}` },
    }));
    expect(profileOf(welcome)).toMatchObject({ screen_name: '[REDACTED:email]', avatar: '[REDACTED]', personality: 'key [REDACTED:aws_access_key]' });
    // Another tenant keeps the server-wide default: secrets blocked, e-mails untouched.
    const other = await token('bob', { tenant: 'beta' });
    expectRefused(await tryUpgrade(srv.url, 'query', other, { query: { personality: AWS_KEY } }), 400, 'CASIL_POLICY_BLOCKED_SECRET');
    expect(profileOf(expectOpen(await tryUpgrade(srv.url, 'query', other, { query: { screen_name: 'jane@example.com' } })))['screen_name']).toBe('jane@example.com');
  });

  it('only records in monitor mode, and skips everything when off', async () => {
    const srv = await server({ jwtSecret: SECRET, casil: { tenants: { lab: { mode: 'monitor' }, sandbox: { mode: 'off' } } } });
    for (const tenant of ['lab', 'sandbox']) {
      const welcome = expectOpen(await tryUpgrade(srv.url, 'query', await token('x', { tenant }), { query: { personality: AWS_KEY } }));
      expect(profileOf(welcome)['personality']).toBe(AWS_KEY);
    }
    const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    expect(metrics).toContain('arqon_casil_decisions_total{outcome="ALLOW",reason="CASIL_MONITOR_MODE",tenant="lab",mode="monitor"} 1');
    expect(metrics).not.toMatch(/arqon_casil_decisions_total\{[^}]*tenant="sandbox"/);
  });

  it('runs after authentication and the tenant connection limit (the documented order)', async () => {
    const srv = await server({ jwtSecret: SECRET, tenants: { tiny: { maxConnections: 1 } } });
    const query = { personality: AWS_KEY };
    expectRefused(await tryUpgrade(srv.url, 'query', null, { query }), 401, 'AUTH_TOKEN_MISSING');
    const tiny = await token('t1', { tenant: 'tiny' });
    expectOpen(await tryUpgrade(srv.url, 'query', tiny));
    expectRefused(await tryUpgrade(srv.url, 'query', tiny, { query }), 503, 'TENANT_CONNECTION_LIMIT');
  });

  it('fails closed: an inspection that throws refuses with 503 CASIL_INTERNAL_ERROR (or passes with default decision allow)', async () => {
    const broken: Detector = {
      name: 'broken', category: 'secret',
      detect(text) {
        if (text.includes('trigger')) throw new RangeError('detector failure');
        return [];
      },
    };
    const t = await token('alice');
    const closed = await server({ jwtSecret: SECRET }, { casilDetectors: [broken] });
    expectRefused(await tryUpgrade(closed.url, 'query', t, { query: { personality: 'trigger' } }), 503, 'CASIL_INTERNAL_ERROR');
    const open = await server({ jwtSecret: SECRET, casilDefaultDecision: 'allow' }, { casilDetectors: [broken] });
    expect(profileOf(expectOpen(await tryUpgrade(open.url, 'query', t, { query: { personality: 'trigger' } })))['personality']).toBe('trigger');
  });
});
