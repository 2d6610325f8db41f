/**
 * Every key source end to end: a real server verifying tokens at the upgrade.
 * The JWKS URL is served by a local node:http server on port 0 that counts
 * its fetches, so caching, rotation and outages are observable.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import {
  claims,
  ecPair,
  ed25519Pair,
  KeyDir,
  publicJwk,
  rsaPair,
  secretKey,
  SECRET,
  sign,
  TRANSPORTS,
  upgradeHarness,
} from './tokens.fixtures.js';

const dir = new KeyDir();
const { server, tryUpgrade } = upgradeHarness({ afterEach, afterAll });

/** Connects with `token` over `transport`; resolves with the welcome's client_id, or `status code` when refused. */
async function outcomeOf(srv: TestServer, token: string, transport: 'header' | 'query' = 'header'): Promise<string> {
  const outcome = await tryUpgrade(srv.url, transport, token);
  return outcome.kind === 'open' ? String(outcome.welcome.payload['client_id']) : `${outcome.status} ${String(outcome.body['error_code'])}`;
}

afterEach(() => {
  vi.useRealTimers();
});
afterAll(() => dir.dispose());

describe('HMAC secret', () => {
  it.each(['HS256', 'HS384', 'HS512'])('accepts %s over both transports', async (alg) => {
    const srv = await server({ jwtSecret: SECRET });
    for (const transport of TRANSPORTS) {
      expect(await outcomeOf(srv, await sign(secretKey(), alg, claims(`hs-${transport}`)), transport)).toBe(`hs-${transport}`);
    }
    // The same algorithm with another secret is a bad signature.
    const wrong = await sign(secretKey('another-secret-of-at-least-32-characters!'), alg, claims('x'));
    expect(await outcomeOf(srv, wrong)).toBe('401 AUTH_BAD_SIGNATURE');
  });

  it('jwtAlgorithms narrows what the server accepts', async () => {
    const srv = await server({ jwtSecret: SECRET, jwtAlgorithms: 'HS512' });
    expect(await outcomeOf(srv, await sign(secretKey(), 'HS512', claims('ok')))).toBe('ok');
    expect(await outcomeOf(srv, await sign(secretKey(), 'HS256', claims('no')))).toBe('401 AUTH_ALGORITHM_NOT_ALLOWED');
  });
});

describe('PEM public keys', () => {
  it('RSA: RS256 and PS256 accepted; HS256 keyed with the PEM refused as not allowed', async () => {
    const kp = rsaPair();
    const srv = await server({ jwtPublicKeyFile: dir.write('rsa.pem', kp.publicPem) });
    expect(await outcomeOf(srv, await sign(kp.privateKey, 'RS256', claims('rs')))).toBe('rs');
    expect(await outcomeOf(srv, await sign(kp.privateKey, 'PS256', claims('ps')), 'query')).toBe('ps');
    expect(await outcomeOf(srv, await sign(kp.privateKey, 'RS512', claims('rs512')))).toBe('rs512');
    expect(await outcomeOf(srv, await sign(new TextEncoder().encode(kp.publicPem), 'HS256', claims('x')))).toBe('401 AUTH_ALGORITHM_NOT_ALLOWED');
  });

  it('EC P-256: ES256 accepted, another P-256 key refused', async () => {
    const kp = ecPair('P-256');
    const srv = await server({ jwtPublicKeyFile: dir.write('p256.pem', kp.publicPem) });
    expect(await outcomeOf(srv, await sign(kp.privateKey, 'ES256', claims('es')))).toBe('es');
    expect(await outcomeOf(srv, await sign(ecPair('P-256').privateKey, 'ES256', claims('x')))).toBe('401 AUTH_BAD_SIGNATURE');
  });

  it('Ed25519: EdDSA accepted over both transports', async () => {
    const kp = ed25519Pair();
    const srv = await server({ jwtPublicKeyFile: dir.write('ed25519.pem', kp.publicPem) });
    expect(await outcomeOf(srv, await sign(kp.privateKey, 'EdDSA', claims('ed-h')))).toBe('ed-h');
    expect(await outcomeOf(srv, await sign(kp.privateKey, 'EdDSA', claims('ed-q')), 'query')).toBe('ed-q');
    expect(await outcomeOf(srv, await sign(ed25519Pair().privateKey, 'EdDSA', claims('x')))).toBe('401 AUTH_BAD_SIGNATURE');
  });
});

describe('JWKS file', () => {
  it('two keys, each selected by kid', async () => {
    const rsa = rsaPair();
    const ec = ecPair();
    const jwks = { keys: [await publicJwk(rsa, 'rsa-1', 'RS256'), await publicJwk(ec, 'ec-1', 'ES256')] };
    const srv = await server({ jwksFile: dir.write('jwks.json', JSON.stringify(jwks)) });
    expect(await outcomeOf(srv, await sign(rsa.privateKey, 'RS256', claims('via-rsa'), { kid: 'rsa-1' }))).toBe('via-rsa');
    expect(await outcomeOf(srv, await sign(ec.privateKey, 'ES256', claims('via-ec'), { kid: 'ec-1' }), 'query')).toBe('via-ec');
    expect(await outcomeOf(srv, await sign(rsa.privateKey, 'RS256', claims('x'), { kid: 'rsa-2' }))).toBe('401 AUTH_UNKNOWN_KEY');
    // An ES256 token naming the RSA key's kid matches no key of its type.
    expect(await outcomeOf(srv, await sign(ec.privateKey, 'ES256', claims('x'), { kid: 'rsa-1' }))).toBe('401 AUTH_UNKNOWN_KEY');
  });
});

/** A JWKS endpoint on port 0 that counts GETs; `status` simulates an outage. */
class JwksEndpoint {
  fetches = 0;
  status = 200;
  private readonly http: Server;
  constructor(public jwks: { keys: JWK[] }) {
    this.http = createServer((_req, res) => {
      this.fetches++;
      if (this.status !== 200) {
        res.writeHead(this.status).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.jwks));
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/.well-known/jwks.json`;
  }
  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }
}

describe('JWKS URL', () => {
  const endpoints: JwksEndpoint[] = [];
  afterAll(async () => {
    await Promise.all(endpoints.map((e) => e.close()));
  });
  async function endpoint(keys: JWK[]): Promise<{ ep: JwksEndpoint; url: string }> {
    const ep = new JwksEndpoint({ keys });
    endpoints.push(ep);
    return { ep, url: await ep.listen() };
  }
  const token = (key: KeyObject, sub: string, kid: string): Promise<string> => sign(key, 'RS256', claims(sub), { kid });

  it('accepts, caches the key set, and picks up a rotated-in kid once the refetch cooldown has passed', async () => {
    const k1 = rsaPair();
    const k2 = rsaPair();
    const { ep, url } = await endpoint([await publicJwk(k1, 'k1', 'RS256')]);
    const srv = await server({ jwksUrl: url });
    expect(ep.fetches).toBe(0); // fetched lazily, on the first token

    expect(await outcomeOf(srv, await token(k1.privateKey, 'first', 'k1'))).toBe('first');
    expect(ep.fetches).toBe(1);
    expect(await outcomeOf(srv, await token(k1.privateKey, 'second', 'k1'), 'query')).toBe('second');
    expect(await outcomeOf(srv, await token(k1.privateKey, 'third', 'k1'))).toBe('third');
    expect(ep.fetches).toBe(1); // cached

    // Rotation: the issuer publishes k2 and starts signing with it.
    ep.jwks = { keys: [await publicJwk(k1, 'k1', 'RS256'), await publicJwk(k2, 'k2', 'RS256')] };
    // Inside jose's refetch cooldown (30 s after a fetch, src/identity/keys.ts) an unknown kid is not refetched.
    expect(await outcomeOf(srv, await token(k2.privateKey, 'too-early', 'k2'))).toBe('401 AUTH_UNKNOWN_KEY');
    expect(ep.fetches).toBe(1);

    // Past the cooldown (only Date is faked: jose reads Date.now(); timers and sockets stay real).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 31_000);
    expect(await outcomeOf(srv, await token(k2.privateKey, 'rotated', 'k2'), 'query')).toBe('rotated');
    expect(ep.fetches).toBe(2);
    expect(await outcomeOf(srv, await token(k1.privateKey, 'old-key', 'k1'))).toBe('old-key');
    expect(ep.fetches).toBe(2);
  });

  it('an unreachable JWKS URL → 503 AUTH_UNAVAILABLE over both transports', async () => {
    const { ep, url } = await endpoint([]);
    await ep.close(); // nothing listens on that port any more
    const srv = await server({ jwksUrl: url });
    const k = rsaPair();
    for (const transport of TRANSPORTS) {
      expect(await outcomeOf(srv, await token(k.privateKey, 'x', 'k1'), transport)).toBe('503 AUTH_UNAVAILABLE');
    }
  });

  it('a JWKS endpoint answering 500 → 503 AUTH_UNAVAILABLE; the next token after recovery is accepted', async () => {
    const k = rsaPair();
    const { ep, url } = await endpoint([await publicJwk(k, 'k1', 'RS256')]);
    ep.status = 500;
    const srv = await server({ jwksUrl: url });
    expect(await outcomeOf(srv, await token(k.privateKey, 'x', 'k1'))).toBe('503 AUTH_UNAVAILABLE');
    expect(ep.fetches).toBe(1);
    ep.status = 200;
    expect(await outcomeOf(srv, await token(k.privateKey, 'back', 'k1'))).toBe('back');
    expect(ep.fetches).toBe(2);
  });

  it('a JWKS endpoint serving something that is not a key set → 503 AUTH_UNAVAILABLE', async () => {
    const k = rsaPair();
    const { ep, url } = await endpoint([]);
    ep.jwks = { nope: true } as unknown as { keys: JWK[] };
    const srv = await server({ jwksUrl: url });
    expect(await outcomeOf(srv, await token(k.privateKey, 'x', 'k1'))).toBe('503 AUTH_UNAVAILABLE');
  });
});
