/** Minting tokens: the `token` CLI subcommand and the zero-config dev tokens. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';

export interface SigningKey {
  readonly key: Uint8Array | KeyObject;
  readonly alg: string;
}

export function secretSigningKey(secret: string, alg = 'HS256'): SigningKey {
  return { key: new TextEncoder().encode(secret), alg };
}

/** A PEM private key; the algorithm defaults to the key type's usual one. */
export function privateSigningKey(path: string, alg?: string): SigningKey {
  const key = createPrivateKey(readFileSync(path, 'utf8'));
  const curveAlg: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
  const byType: Record<string, string | undefined> = {
    rsa: 'RS256',
    'rsa-pss': 'PS256',
    ec: curveAlg[key.asymmetricKeyDetails?.namedCurve ?? ''],
    ed25519: 'EdDSA',
  };
  const chosen = alg ?? byType[key.asymmetricKeyType ?? ''];
  if (chosen === undefined) throw new Error(`${path}: unsupported private key type ${key.asymmetricKeyType}`);
  return { key, alg: chosen };
}

export interface TokenClaims {
  readonly sub: string;
  readonly tenant?: string;
  readonly client_type?: string;
  readonly screen_name?: string;
  readonly permissions?: { publish?: string[]; subscribe?: string[]; history?: string[] };
  readonly caps?: string[];
  readonly admin?: boolean;
}

export interface MintOptions {
  readonly ttlS: number;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  readonly kid?: string | undefined;
  readonly now?: number;
}

export function mintToken(signing: SigningKey, claims: TokenClaims, options: MintOptions): Promise<string> {
  const { sub, ...rest } = claims;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  let jwt = new SignJWT({ ...rest })
    .setProtectedHeader({ alg: signing.alg, typ: 'JWT', ...(options.kid ? { kid: options.kid } : {}) })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlS);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(signing.key);
}
