/**
 * Shared fixtures for the identity tests: key pairs made with node:crypto,
 * key files in a disposable directory, honest and forged tokens, and an
 * upgrade probe that reports either the welcome or the HTTP refusal (with
 * assertions for both).
 */
import { constants, createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT, type JWK } from 'jose';
import WebSocket from 'ws';
import { expect } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import type { ConfigKey } from '../../src/config/schema.js';
import { loadVerificationKeys } from '../../src/identity/keys.js';
import type { TokenVerifier } from '../../src/identity/verifier.js';
import { createVerifier } from '../../src/identity/index.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import type { ServerOptions } from '../../src/edge/server.js';
import { startServer, type TestServer } from '../helpers/server.js';

export const SECRET = 'identity-tests-secret-0123456789-abcdef';
export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'arqonbus-test';

export type Json = Record<string, unknown>;

export interface KeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly publicPem: string;
}

function pair(kp: { publicKey: KeyObject; privateKey: KeyObject }): KeyPair {
  return { ...kp, publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
export const rsaPair = (): KeyPair => pair(generateKeyPairSync('rsa', { modulusLength: 2048 }));
export const rsaPssPair = (): KeyPair => pair(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }));
export const ecPair = (namedCurve = 'P-256'): KeyPair => pair(generateKeyPairSync('ec', { namedCurve }));
export const ed25519Pair = (): KeyPair => pair(generateKeyPairSync('ed25519'));

/** A temporary directory for key files; `dispose()` removes it. */
export class KeyDir {
  readonly path = mkdtempSync(join(tmpdir(), 'arqon-identity-'));
  write(name: string, content: string): string {
    const file = join(this.path, name);
    writeFileSync(file, content);
    return file;
  }
  dispose(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export async function publicJwk(kp: KeyPair, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(kp.publicKey)), kid, alg, use: 'sig' };
}

export const nowS = (): number => Math.floor(Date.now() / 1000);

/** Standard claims for `sub`, valid for an hour from `now` (seconds). Pass `exp: undefined` to drop exp. */
export function claims(sub: string, extra: Json = {}, now = nowS()): Json {
  const out: Json = { sub, iat: now, exp: now + 3600, ...extra };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** Signs `payload` as a JWT with jose; `header` adds to `{alg, typ}` (e.g. a kid). */
export function sign(key: Uint8Array | KeyObject, alg: string, payload: Json, header: Json = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key);
}

export const secretKey = (secret = SECRET): Uint8Array => new TextEncoder().encode(secret);

const b64 = (value: Json | string): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** `alg: none`: a header and payload with an empty signature, built by hand. */
export const unsignedToken = (payload: Json): string => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;

/** HS256 over header.payload with an arbitrary HMAC key (e.g. an RSA public key's PEM text), built by hand. */
export function hmacToken(hmacKey: string, payload: Json, alg: 'HS256' = 'HS256'): string {
  const input = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', hmacKey).update(input).digest('base64url')}`;
}

/**
 * PS256 over header.payload with node:crypto, built by hand: jose 6 on Node 20
 * cannot sign with an `rsa-pss` KeyObject (it has no KeyObject#toCryptoKey).
 */
export function pssToken(privateKey: KeyObject, payload: Json): string {
  const input = `${b64({ alg: 'PS256', typ: 'JWT' })}.${b64(payload)}`;
  const signature = cryptoSign('sha256', Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return `${input}.${signature.toString('base64url')}`;
}

/** Re-encodes the payload after `mutate`, keeping the original header and signature. */
export function tamper(token: string, mutate: (payload: Json) => void): string {
  const [header, body, signature] = token.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Json;
  mutate(payload);
  return `${header}.${b64(payload)}.${signature}`;
}

/** A TokenVerifier built exactly as the server builds it, from config overrides. */
export function verifierFor(overrides: Partial<Record<ConfigKey, unknown>>, clock?: () => number): TokenVerifier {
  const { config } = parseConfig({ overrides: { auth: 'jwt', ...overrides } });
  const keys = loadVerificationKeys(config);
  if (keys === undefined) throw new Error('no key configured');
  return createVerifier(config, keys, clock);
}

/** How a token travels at the upgrade. */
export type Transport = 'header' | 'query';
export const TRANSPORTS: readonly Transport[] = ['header', 'query'];

export type UpgradeOutcome =
  | { readonly kind: 'open'; readonly ws: WebSocket; readonly welcome: Envelope }
  | { readonly kind: 'refused'; readonly status: number; readonly body: Json; readonly headers: IncomingHttpHeaders };

/**
 * Attempts an upgrade. `token` null sends none; `authorization` sets the raw
 * header instead of `Bearer <token>`. Resolves with the welcome envelope, or
 * with the HTTP status, headers and parsed JSON body of the refusal (`unexpected-response`).
 */
export function attempt(
  url: string,
  transport: Transport,
  token: string | null,
  opts: { query?: Record<string, string>; authorization?: string } = {},
): Promise<UpgradeOutcome> {
  const u = new URL(url);
  for (const [k, v] of Object.entries(opts.query ?? {})) u.searchParams.set(k, v);
  const headers: Record<string, string> = {};
  if (opts.authorization !== undefined) headers['authorization'] = opts.authorization;
  else if (token !== null && transport === 'header') headers['authorization'] = `Bearer ${token}`;
  if (token !== null && transport === 'query') u.searchParams.set('token', token);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, { headers });
    ws.on('error', (err) => reject(err));
    ws.once('message', (data: Buffer) => {
      const welcome = JSON.parse(data.toString()) as Envelope;
      if (welcome.type !== 'system' || welcome.payload['event'] !== 'welcome') reject(new Error(`first frame is not a welcome: ${data.toString()}`));
      else resolve({ kind: 'open', ws, welcome });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        ws.removeAllListeners('error');
        ws.on('error', () => {}); // terminate() reports the aborted handshake
        ws.terminate();
        try {
          resolve({ kind: 'refused', status: res.statusCode ?? 0, body: JSON.parse(body) as Json, headers: res.headers });
        } catch {
          reject(new Error(`refusal body is not JSON: ${body}`));
        }
      });
    });
  });
}

/** Asserts a refusal with this status and code; a 401 also carries the RFC 6750 challenge naming the code, others none. */
export function expectRefused(outcome: UpgradeOutcome, status: number, code: string): void {
  if (outcome.kind === 'open') throw new Error(`the upgrade was accepted (welcome ${JSON.stringify(outcome.welcome.payload)})`);
  expect(outcome.status).toBe(status);
  expect(outcome.body['error_code']).toBe(code);
  expect(typeof outcome.body['error']).toBe('string');
  expect(Object.keys(outcome.body).sort()).toEqual(['error', 'error_code']);
  const challenge = outcome.headers['www-authenticate'];
  if (status === 401) expect(challenge).toBe(`Bearer error="invalid_token", error_description="${code}"`);
  else expect(challenge).toBeUndefined();
}

/** Asserts the upgrade was accepted; returns the welcome. */
export function expectOpen(outcome: UpgradeOutcome): Envelope {
  if (outcome.kind === 'refused') throw new Error(`refused: ${outcome.status} ${JSON.stringify(outcome.body)}`);
  return outcome.welcome;
}

/** Closes an opened outcome's socket and waits for the close. */
export function closeOutcome(outcome: UpgradeOutcome): Promise<void> {
  if (outcome.kind !== 'open' || outcome.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    outcome.ws.once('close', () => resolve());
    outcome.ws.close(1000);
  });
}

/** One forged or unacceptable token and the refusal it must get. */
export interface ForgedCase {
  readonly name: string;
  readonly token: string;
  readonly code: string;
}

/** Strings that are not compact JWS at all, or not decodable as one. */
export const GARBAGE_TOKENS: ReadonlyArray<readonly [string, string]> = [
  ['a word', 'not-a-jwt'],
  ['two parts', 'abc.def'],
  ['four parts', 'a.b.c.d'],
  ['five parts (JWE shape)', 'a.b.c.d.e'],
  ['non-base64url characters', 'ab$c.de!f.gh'],
  ['header that is not JSON', `${Buffer.from('not json').toString('base64url')}.e30.c2ln`],
  ['header without alg', 'e30.e30.c2ln'],
];

/**
 * The forged-token table for a server (or verifier) holding `key`'s public
 * half, requiring ISSUER and AUDIENCE, exp, and the default 8 KiB limit.
 * `other` is an unrelated key pair of the same type.
 */
export async function forgedCases(key: KeyPair, other: KeyPair): Promise<ForgedCase[]> {
  const now = nowS();
  const good = (extra: Json = {}): Json => claims('mallory', { iss: ISSUER, aud: AUDIENCE, ...extra }, now);
  const rs = (payload: Json): Promise<string> => sign(key.privateKey, 'RS256', payload);
  return [
    { name: 'alg none (unsigned)', token: unsignedToken(good({ admin: true })), code: 'AUTH_ALGORITHM_NOT_ALLOWED' },
    { name: 'HS256 keyed with the RSA public key PEM', token: hmacToken(key.publicPem, good({ admin: true })), code: 'AUTH_ALGORITHM_NOT_ALLOWED' },
    { name: 'HS256 keyed with the PEM without trailing newline', token: hmacToken(key.publicPem.trim(), good()), code: 'AUTH_ALGORITHM_NOT_ALLOWED' },
    { name: 'signed by another RSA key', token: await sign(other.privateKey, 'RS256', good()), code: 'AUTH_BAD_SIGNATURE' },
    {
      name: 'tampered payload (sub and admin flipped, signature kept)',
      token: tamper(await rs(good()), (p) => {
        p['sub'] = 'root';
        p['admin'] = true;
      }),
      code: 'AUTH_BAD_SIGNATURE',
    },
    {
      name: 'tampered exp (extended, signature kept)',
      token: tamper(await rs(good({ exp: now - 60 })), (p) => {
        p['exp'] = now + 3600;
      }),
      code: 'AUTH_BAD_SIGNATURE',
    },
    { name: 'expired a minute ago', token: await rs(good({ exp: now - 60 })), code: 'AUTH_TOKEN_EXPIRED' },
    { name: 'nbf a minute ahead', token: await rs(good({ nbf: now + 60 })), code: 'AUTH_TOKEN_NOT_YET_VALID' },
    { name: 'nbf not a number', token: await rs(good({ nbf: 'soon' })), code: 'AUTH_INVALID_CLAIMS' },
    { name: 'iat not a number', token: await rs(good({ iat: 'now' })), code: 'AUTH_INVALID_CLAIMS' },
    { name: 'wrong audience', token: await rs(good({ aud: 'another-service' })), code: 'AUTH_WRONG_AUDIENCE' },
    { name: 'no audience', token: await rs(good({ aud: undefined })), code: 'AUTH_WRONG_AUDIENCE' },
    { name: 'wrong issuer', token: await rs(good({ iss: 'https://evil.test' })), code: 'AUTH_WRONG_ISSUER' },
    { name: 'no issuer', token: await rs(good({ iss: undefined })), code: 'AUTH_WRONG_ISSUER' },
    { name: 'oversized (validly signed, > 8192 bytes)', token: await rs(good({ pad: 'x'.repeat(9000) })), code: 'AUTH_TOKEN_TOO_LARGE' },
    { name: 'missing exp (required)', token: await rs(good({ exp: undefined })), code: 'AUTH_INVALID_CLAIMS' },
    { name: 'missing sub', token: await rs(good({ sub: undefined })), code: 'AUTH_INVALID_CLAIMS' },
    { name: 'unknown client_type', token: await rs(good({ client_type: 'robot' })), code: 'AUTH_INVALID_CLAIMS' },
    { name: 'invalid permission pattern', token: await rs(good({ permissions: { publish: ['*', 'a:b:c'] } })), code: 'AUTH_INVALID_CLAIMS' },
    ...GARBAGE_TOKENS.map(([what, token]) => ({ name: `garbage: ${what}`, token, code: 'AUTH_TOKEN_MALFORMED' })),
  ];
}

/**
 * The per-file harness of the upgrade tests: JWT servers closed after all
 * tests, upgrade outcomes and raw clients closed after each test.
 */
export function upgradeHarness(hooks: {
  afterEach: (fn: () => Promise<void>) => void;
  afterAll: (fn: () => Promise<void>) => void;
}): {
  server(overrides: Record<string, unknown>, options?: ServerOptions): Promise<TestServer>;
  tryUpgrade(...args: Parameters<typeof attempt>): Promise<UpgradeOutcome>;
  clients: RawClient[];
} {
  const servers: TestServer[] = [];
  const outcomes: UpgradeOutcome[] = [];
  const clients: RawClient[] = [];
  hooks.afterEach(async () => {
    await Promise.all(outcomes.splice(0).map(closeOutcome));
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  hooks.afterAll(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    clients,
    async server(overrides, options = {}) {
      const srv = await startServer({ auth: 'jwt', ...overrides }, options);
      servers.push(srv);
      return srv;
    },
    async tryUpgrade(...args) {
      const outcome = await attempt(...args);
      outcomes.push(outcome);
      return outcome;
    },
  };
}
