/** Key sources and the algorithm allow-list each implies. */
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import type { ConfigKey } from '../../src/config/schema.js';
import { createAuthenticator } from '../../src/identity/index.js';
import { KeyConfigError, loadVerificationKeys, type VerificationKeys } from '../../src/identity/keys.js';
import { ecPair, ed25519Pair, KeyDir, publicJwk, rsaPair, rsaPssPair, SECRET } from './tokens.fixtures.js';

const dir = new KeyDir();
afterAll(() => dir.dispose());

const rsa = rsaPair();
const files = {
  rsa: dir.write('rsa.pem', rsa.publicPem),
  rsaPrivate: dir.write('rsa-private.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
  rsaPss: dir.write('rsa-pss.pem', rsaPssPair().publicPem),
  p256: dir.write('p256.pem', ecPair('P-256').publicPem),
  p384: dir.write('p384.pem', ecPair('P-384').publicPem),
  secp256k1: dir.write('k1.pem', ecPair('secp256k1').publicPem),
  ed25519: dir.write('ed25519.pem', ed25519Pair().publicPem),
  garbage: dir.write('garbage.pem', '-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n'),
  empty: dir.write('empty.pem', ''),
  notJson: dir.write('jwks.txt', 'keys: nope'),
  notASet: dir.write('jwks-array.json', '[{"kty":"RSA"}]'),
  missing: `${dir.path}/does-not-exist.pem`,
};

function load(overrides: Partial<Record<ConfigKey, unknown>>): VerificationKeys {
  const keys = loadVerificationKeys(parseConfig({ overrides }).config);
  if (keys === undefined) throw new Error('no key source');
  return keys;
}

function keyError(overrides: Partial<Record<ConfigKey, unknown>>): KeyConfigError {
  try {
    load(overrides);
  } catch (err) {
    if (err instanceof KeyConfigError) return err;
    throw err;
  }
  throw new Error(`no KeyConfigError for ${JSON.stringify(overrides)}`);
}

describe('default allow-lists by key type', () => {
  it('secret → HS256/384/512 only', () => {
    const keys = load({ jwtSecret: SECRET });
    expect(keys.kind).toBe('secret');
    expect([...keys.algorithms].sort()).toEqual(['HS256', 'HS384', 'HS512']);
  });

  it('RSA public key → RS* and PS*, nothing symmetric', () => {
    const keys = load({ jwtPublicKeyFile: files.rsa });
    expect(keys.kind).toBe('public-key');
    expect([...keys.algorithms].sort()).toEqual(['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
  });

  it('RSA-PSS public key → PS* only (an RSASSA-PSS key cannot verify PKCS#1 v1.5 RS* signatures)', () => {
    const keys = load({ jwtPublicKeyFile: files.rsaPss });
    expect(keys.kind).toBe('public-key');
    expect([...keys.algorithms].sort()).toEqual(['PS256', 'PS384', 'PS512']);
  });

  it('a PEM private key given as the public key verifies with its public half (RSA list)', () => {
    expect(load({ jwtPublicKeyFile: files.rsaPrivate }).algorithms).toContain('RS256');
  });

  it('EC P-256 → ES256 only; P-384 → ES384 only', () => {
    expect(load({ jwtPublicKeyFile: files.p256 }).algorithms).toEqual(['ES256']);
    expect(load({ jwtPublicKeyFile: files.p384 }).algorithms).toEqual(['ES384']);
  });

  it('Ed25519 → EdDSA (and its fully specified name)', () => {
    const algs = load({ jwtPublicKeyFile: files.ed25519 }).algorithms;
    expect(algs).toContain('EdDSA');
    expect(algs.every((a) => a === 'EdDSA' || a === 'Ed25519')).toBe(true);
  });

  it('a JWKS file → asymmetric algorithms only, never HS* or none', async () => {
    const file = dir.write('jwks.json', JSON.stringify({ keys: [await publicJwk(rsa, 'k1', 'RS256')] }));
    const keys = load({ jwksFile: file });
    expect(keys.kind).toBe('jwks-file');
    expect(keys.algorithms).toContain('RS256');
    expect(keys.algorithms.some((a) => a.startsWith('HS') || a === 'none')).toBe(false);
  });

  it('no list ever contains none', () => {
    for (const overrides of [{ jwtSecret: SECRET }, { jwtPublicKeyFile: files.rsa }, { jwtPublicKeyFile: files.ed25519 }, { jwksUrl: 'http://127.0.0.1:9/jwks' }]) {
      expect(load(overrides).algorithms.map((a) => a.toLowerCase())).not.toContain('none');
    }
  });

  it('no configured source → undefined, and createAuthenticator refuses to start naming a key', () => {
    const { config } = parseConfig({});
    expect(loadVerificationKeys(config)).toBeUndefined();
    expect(() => createAuthenticator(config)).toThrow(KeyConfigError);
    expect(() => createAuthenticator(config)).toThrow(/ARQON_JWT_SECRET/);
  });
});

describe('--jwt-algorithms', () => {
  it('narrows the list to algorithms the key verifies', () => {
    expect(load({ jwtSecret: SECRET, jwtAlgorithms: 'HS512' }).algorithms).toEqual(['HS512']);
    expect(load({ jwtPublicKeyFile: files.rsa, jwtAlgorithms: 'PS256, RS256' }).algorithms).toEqual(['PS256', 'RS256']);
  });

  it.each([
    ['an RSA algorithm for a secret', { jwtSecret: SECRET, jwtAlgorithms: 'RS256' }],
    ['HS256 for an RSA key (key confusion)', { jwtPublicKeyFile: files.rsa, jwtAlgorithms: 'HS256' }],
    ['RS256 for an RSA-PSS key', { jwtPublicKeyFile: files.rsaPss, jwtAlgorithms: 'RS256' }],
    ['ES384 for a P-256 key', { jwtPublicKeyFile: files.p256, jwtAlgorithms: 'ES384' }],
    ['RS256 for an Ed25519 key', { jwtPublicKeyFile: files.ed25519, jwtAlgorithms: 'RS256' }],
    ['HS256 for a JWKS URL', { jwksUrl: 'https://keys.example/jwks.json', jwtAlgorithms: 'HS256' }],
    ['none for a secret', { jwtSecret: SECRET, jwtAlgorithms: 'none' }],
    ['none beside a valid one', { jwtPublicKeyFile: files.rsa, jwtAlgorithms: 'RS256,none' }],
    ['an empty list', { jwtSecret: SECRET, jwtAlgorithms: ' , ' }],
    ['a lower-case name', { jwtSecret: SECRET, jwtAlgorithms: 'hs256' }],
  ])('refuses %s with a KeyConfigError naming jwtAlgorithms', (_what, overrides) => {
    const err = keyError(overrides);
    expect(err.key).toBe('jwtAlgorithms');
    expect(err.message).toMatch(/jwtAlgorithms/);
  });
});

describe('unusable key material → KeyConfigError naming the key', () => {
  it.each([
    ['a missing PEM file', { jwtPublicKeyFile: files.missing }, 'jwtPublicKeyFile'],
    ['a garbage PEM file', { jwtPublicKeyFile: files.garbage }, 'jwtPublicKeyFile'],
    ['an empty PEM file', { jwtPublicKeyFile: files.empty }, 'jwtPublicKeyFile'],
    ['an unsupported EC curve', { jwtPublicKeyFile: files.secp256k1 }, 'jwtPublicKeyFile'],
    ['a missing JWKS file', { jwksFile: files.missing }, 'jwksFile'],
    ['a JWKS file that is not JSON', { jwksFile: files.notJson }, 'jwksFile'],
    ['a JWKS file without keys', { jwksFile: files.notASet }, 'jwksFile'],
    // allowInsecure gets an unparseable plain-http URL past the config check (which refuses it too) to the loader.
    ['a JWKS URL that is not a URL', { jwksUrl: 'http://', allowInsecure: true }, 'jwksUrl'],
  ])('%s', (_what, overrides, key) => {
    expect(keyError(overrides).key).toBe(key);
  });
});
