/** Zero-config dev mode in isolation: when a secret is generated, and what the banner prints. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import type { ConfigKey } from '../../src/config/schema.js';
import { devBanner, generateSecret, needsGeneratedSecret } from '../../src/cli/dev-mode.js';
import { verifierFor } from '../identity/tokens.fixtures.js';

const configWith = (overrides: Partial<Record<ConfigKey, unknown>>) => parseConfig({ overrides }).config;

describe('needsGeneratedSecret', () => {
  it('only for auth jwt with no key of any kind configured', () => {
    expect(needsGeneratedSecret(configWith({}))).toBe(true);
    expect(needsGeneratedSecret(configWith({ auth: 'none' }))).toBe(false);
    for (const overrides of [
      { jwtSecret: 'x'.repeat(32) },
      { jwtPublicKeyFile: '/keys/public.pem' },
      { jwksFile: '/keys/jwks.json' },
      { jwksUrl: 'https://keys.example/jwks.json' },
    ]) {
      expect(needsGeneratedSecret(configWith(overrides)), JSON.stringify(overrides)).toBe(false);
    }
  });

  it('not when only jwtPrivateKeyFile is set: a signing key alone is a misconfiguration, not dev mode', () => {
    expect(needsGeneratedSecret(configWith({ jwtPrivateKeyFile: '/keys/private.pem' }))).toBe(false);
  });
});

describe('devBanner', () => {
  const secret = generateSecret();
  const config = configWith({ jwtSecret: secret });

  it('prints the telemetry URL it is given (the --telemetry-port listener), with the admin token', async () => {
    const banner = await devBanner(config, 'ws://127.0.0.1:9100', 'ws://127.0.0.1:9200/');
    expect(banner).toContain('Connect: ws://127.0.0.1:9100/?token=');
    const telemetry = /^Telemetry: (\S+)$/m.exec(banner)?.[1];
    expect(telemetry?.startsWith('ws://127.0.0.1:9200/?token=')).toBe(true);
    const admin = await verifierFor({ jwtSecret: secret }).verify(new URL(telemetry!).searchParams.get('token')!);
    expect(admin).toMatchObject({ sub: 'ops', admin: true, clientType: 'dashboard' });
  });

  it('without a telemetry port, the URL is /telemetry on the main port', async () => {
    const banner = await devBanner(config, 'ws://127.0.0.1:9100', 'ws://127.0.0.1:9100/telemetry');
    expect(banner).toMatch(/^Telemetry: ws:\/\/127\.0\.0\.1:9100\/telemetry\?token=\S+$/m);
  });
});
