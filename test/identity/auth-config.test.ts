/** The config rules for identity settings (checkAuth in src/config/parse.ts). */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ConfigSources } from '../../src/config/parse.js';
import { SECRET } from './tokens.fixtures.js';

function configError(sources: ConfigSources): ConfigError {
  try {
    parseConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(sources)}`);
}

describe('checkAuth', () => {
  it('auth defaults to jwt with exp required, 5 s tolerance and 8 KiB tokens', () => {
    const { config } = parseConfig({});
    expect(config).toMatchObject({ auth: 'jwt', jwtRequireExp: true, jwtClockToleranceS: 5, maxTokenBytes: 8192 });
  });

  it.each([
    [{ jwtSecret: SECRET, jwtPublicKeyFile: '/k.pem' }, 'jwtPublicKeyFile'],
    [{ jwtSecret: SECRET, jwksUrl: 'https://keys.example/jwks.json' }, 'jwksUrl'],
    [{ jwksFile: '/jwks.json', jwksUrl: 'https://keys.example/jwks.json' }, 'jwksUrl'],
  ])('refuses two key sources (%o)', (overrides, key) => {
    const err = configError({ overrides });
    expect(err.key).toBe(key);
    expect(err.message).toMatch(/one key source/);
  });

  it('names where each of two key sources came from', () => {
    const err = configError({ argv: ['--jwks-file', '/jwks.json'], env: { ARQON_JWT_SECRET: SECRET } });
    expect(err.message).toContain('ARQON_JWT_SECRET');
    expect(err.message).toContain('--jwks-file');
  });

  it('refuses a secret shorter than 32 characters, naming jwtSecret and its source', () => {
    const err = configError({ env: { ARQON_JWT_SECRET: 'x'.repeat(31) } });
    expect(err.key).toBe('jwtSecret');
    expect(err.message).toContain('ARQON_JWT_SECRET');
    expect(parseConfig({ overrides: { jwtSecret: 'x'.repeat(32) } }).config.jwtSecret).toHaveLength(32);
  });

  it('refuses --auth none on a non-loopback host unless allowInsecure', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'example.com']) {
      const err = configError({ argv: ['--auth', 'none', '--host', host] });
      expect(err.key).toBe('auth');
      expect(err.message).toContain('--allow-insecure');
    }
    expect(parseConfig({ argv: ['--auth', 'none', '--host', '0.0.0.0', '--allow-insecure'] }).config.auth).toBe('none');
  });

  it('allows --auth none on loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
      expect(parseConfig({ overrides: { auth: 'none', host } }).config.auth).toBe('none');
    }
  });

  it.each(['ftp://keys.example/jwks.json', 'file:///etc/jwks.json', 'keys.example/jwks.json', '//keys.example/jwks.json'])(
    'refuses jwksUrl %s (http(s) only)',
    (jwksUrl) => {
      expect(configError({ overrides: { jwksUrl } }).key).toBe('jwksUrl');
    },
  );

  it('accepts https JWKS URLs, and plain-http ones to a loopback host', () => {
    const urls = [
      'https://keys.example/.well-known/jwks.json',
      'https://10.0.0.5/jwks.json',
      'http://127.0.0.1:8080/jwks.json',
      'http://127.9.8.7/jwks.json',
      'http://localhost:8080/jwks.json',
      'http://[::1]:8080/jwks.json',
    ];
    for (const jwksUrl of urls) expect(parseConfig({ overrides: { jwksUrl } }).config.jwksUrl, jwksUrl).toBe(jwksUrl);
  });

  it.each([
    'http://keys.example/jwks.json',
    'http://10.0.0.5:8080/jwks.json',
    'http://localhost.keys.example/jwks.json',
    'http://127.0.0.1.nip.io/jwks.json',
    'http://[::2]/jwks.json',
    'http://',
  ])('refuses plain-http jwksUrl %s to a non-loopback host, naming jwksUrl, its source and the way out', (jwksUrl) => {
    const err = configError({ argv: ['--jwks-url', jwksUrl] });
    expect(err.key).toBe('jwksUrl');
    expect(err.message).toContain('--jwks-url');
    expect(err.message).toContain('--allow-insecure');
  });

  it('accepts a plain-http jwksUrl to any host with allowInsecure', () => {
    const { config } = parseConfig({ env: { ARQON_JWKS_URL: 'http://keys.example/jwks.json', ARQON_ALLOW_INSECURE: 'true' } });
    expect(config).toMatchObject({ jwksUrl: 'http://keys.example/jwks.json', allowInsecure: true });
  });

  it('jwksCooldownS defaults to 30 s and is read from the flag and the environment within 0..3600', () => {
    expect(parseConfig({}).config.jwksCooldownS).toBe(30);
    expect(parseConfig({ argv: ['--jwks-cooldown-s', '0'] }).config.jwksCooldownS).toBe(0);
    expect(parseConfig({ env: { ARQON_JWKS_COOLDOWN_S: '120' } }).config.jwksCooldownS).toBe(120);
    expect(configError({ overrides: { jwksCooldownS: 3601 } }).key).toBe('jwksCooldownS');
    expect(configError({ argv: ['--jwks-cooldown-s', '-1'] }).key).toBe('jwksCooldownS');
  });

  it('bounds jwtClockToleranceS and maxTokenBytes', () => {
    expect(configError({ overrides: { jwtClockToleranceS: 301 } }).key).toBe('jwtClockToleranceS');
    expect(configError({ overrides: { jwtClockToleranceS: -1 } }).key).toBe('jwtClockToleranceS');
    expect(configError({ overrides: { maxTokenBytes: 255 } }).key).toBe('maxTokenBytes');
  });
});
