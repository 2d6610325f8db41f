/**
 * Key material for verifying tokens, from exactly one configured source, and
 * the algorithm allow-list it implies. `none` is never on any list, and a
 * list can only hold algorithms the key type verifies, so key-type confusion
 * (e.g. HS256 signed with an RSA public key) is refused before any crypto.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config/schema.js';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGORITHMS: Record<string, string> = { 'prime256v1': 'ES256', 'secp384r1': 'ES384', 'secp521r1': 'ES512' };
const OKP_ALGORITHMS = ['EdDSA', 'Ed25519'];
const ASYMMETRIC_ALGORITHMS = [...RSA_ALGORITHMS, 'ES256', 'ES384', 'ES512', ...OKP_ALGORITHMS];

export type KeySourceKind = 'secret' | 'public-key' | 'jwks-file' | 'jwks-url';

export interface VerificationKeys {
  readonly kind: KeySourceKind;
  readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  readonly algorithms: readonly string[];
}

export class KeyConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
    this.name = 'KeyConfigError';
  }
}

/** Loads the configured key source; undefined when none is configured. Throws KeyConfigError with the offending key. */
export function loadVerificationKeys(config: Config): VerificationKeys | undefined {
  let loaded: { kind: KeySourceKind; key: VerificationKeys['key']; capable: readonly string[] } | undefined;
  if (config.jwtSecret !== undefined) {
    loaded = { kind: 'secret', key: new TextEncoder().encode(config.jwtSecret), capable: HMAC_ALGORITHMS };
  } else if (config.jwtPublicKeyFile !== undefined) {
    const key = readKey(config.jwtPublicKeyFile);
    loaded = { kind: 'public-key', key, capable: algorithmsForKey(key, config.jwtPublicKeyFile) };
  } else if (config.jwksFile !== undefined) {
    let jwks: unknown;
    try {
      jwks = JSON.parse(readFileSync(config.jwksFile, 'utf8'));
    } catch (err) {
      throw new KeyConfigError('jwksFile', `cannot read JWKS file ${config.jwksFile}: ${(err as Error).message}`);
    }
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new KeyConfigError('jwksFile', `JWKS file ${config.jwksFile} must be {"keys": [...]}`);
    }
    loaded = { kind: 'jwks-file', key: createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), capable: ASYMMETRIC_ALGORITHMS };
  } else if (config.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(config.jwksUrl);
    } catch {
      throw new KeyConfigError('jwksUrl', `jwksUrl ${config.jwksUrl} is not a valid URL`);
    }
    const key = createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: config.jwksCooldownS * 1000, cacheMaxAge: 600_000 });
    loaded = { kind: 'jwks-url', key, capable: ASYMMETRIC_ALGORITHMS };
  }
  if (loaded === undefined) return undefined;
  return { kind: loaded.kind, key: loaded.key, algorithms: allowList(config.jwtAlgorithms, loaded.capable) };
}

function readKey(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyConfigError('jwtPublicKeyFile', `cannot read public key ${path}: ${(err as Error).message}`);
  }
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new KeyConfigError('jwtPublicKeyFile', `${path} is not a PEM public key: ${(err as Error).message}`);
  }
}

function algorithmsForKey(key: KeyObject, path: string): readonly string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGORITHMS;
    case 'rsa-pss':
      return RSA_ALGORITHMS.filter((a) => a.startsWith('PS'));
    case 'ec': {
      const alg = EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (alg === undefined) throw new KeyConfigError('jwtPublicKeyFile', `${path}: unsupported EC curve`);
      return [alg];
    }
    case 'ed25519':
      return OKP_ALGORITHMS;
    default:
      throw new KeyConfigError('jwtPublicKeyFile', `${path}: unsupported key type ${key.asymmetricKeyType}`);
  }
}

function allowList(configured: string | undefined, capable: readonly string[]): readonly string[] {
  if (configured === undefined) return capable;
  const list = configured.split(',').map((a) => a.trim()).filter((a) => a !== '');
  const bad = list.filter((a) => !capable.includes(a));
  if (list.length === 0 || bad.length > 0) {
    throw new KeyConfigError('jwtAlgorithms', `jwtAlgorithms ${bad.join(', ') || '(empty)'} cannot be verified with the configured key (allowed: ${capable.join(', ')})`);
  }
  return list;
}
