/**
 * The upgrade beyond a token's validity: what a refusal carries besides its
 * JSON body (the 401 challenge, a metric, a debug log line), tokens larger than
 * Node's default 16 KiB header limit, and the JWKS URL refetch cooldown.
 * Real servers on port 0; the JWKS endpoint is a real HTTP server on loopback.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { RawClient } from '../helpers/raw-client.js';
import type { TestServer } from '../helpers/server.js';
import {
  attempt,
  claims,
  closeOutcome,
  expectOpen,
  expectRefused,
  nowS,
  publicJwk,
  rsaPair,
  secretKey,
  SECRET,
  sign,
  TRANSPORTS,
  type UpgradeOutcome,
  upgradeHarness,
} from './tokens.fixtures.js';

const key = rsaPair();
const other = rsaPair();
const { server, tryUpgrade, clients } = upgradeHarness({ afterEach, afterAll });

describe('what a refusal carries besides its body', () => {
  it('403, 404 and 503 refusals carry no WWW-Authenticate challenge (only 401s do)', async () => {
    const srv = await server({ jwtSecret: SECRET });
    const human = await sign(secretKey(), 'HS256', claims('alice'));
    expectRefused(await tryUpgrade(srv.telemetryUrl, 'header', human), 403, 'TELEMETRY_FORBIDDEN');
    expectRefused(await tryUpgrade(`${srv.url}/nope`, 'header', human), 404, 'NOT_FOUND');
    expectRefused(await tryUpgrade(srv.url, 'query', null), 401, 'AUTH_TOKEN_MISSING');
    // Nothing listens on port 1: the key set cannot be fetched.
    const unreachable = await server({ jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    expectRefused(await tryUpgrade(unreachable.url, 'header', await sign(key.privateKey, 'RS256', claims('a'), { kid: 'k1' })), 503, 'AUTH_UNAVAILABLE');
  });

  it('counts each refusal in arqon_upgrade_refusals_total by code and logs it at debug, never with the token', async () => {
    const lines: string[] = [];
    const srv = await server({ jwtSecret: SECRET, logLevel: 'debug' }, { logger: createLogger('debug', (l) => lines.push(l)) });
    const expired = await sign(secretKey(), 'HS256', claims('late', { exp: nowS() - 60 }));
    const human = await sign(secretKey(), 'HS256', claims('alice'));
    expectRefused(await tryUpgrade(srv.url, 'header', null), 401, 'AUTH_TOKEN_MISSING');
    expectRefused(await tryUpgrade(srv.url, 'query', null), 401, 'AUTH_TOKEN_MISSING');
    expectRefused(await tryUpgrade(srv.url, 'query', expired), 401, 'AUTH_TOKEN_EXPIRED');
    expectRefused(await tryUpgrade(`${srv.url}/nope`, 'header', human), 404, 'NOT_FOUND');
    expectRefused(await tryUpgrade(srv.telemetryUrl, 'query', human), 403, 'TELEMETRY_FORBIDDEN');
    expectOpen(await tryUpgrade(srv.url, 'header', human)); // accepted upgrades are not counted

    const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    const counted = Object.fromEntries(
      [...metrics.matchAll(/^arqon_upgrade_refusals_total\{code="([A-Z_]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    expect(counted).toEqual({ AUTH_TOKEN_MISSING: 2, AUTH_TOKEN_EXPIRED: 1, NOT_FOUND: 1, TELEMETRY_FORBIDDEN: 1 });

    const refused = lines.filter((l) => / DEBUG +upgrade refused /.test(l));
    expect(refused.map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>)).toEqual(
      [[401, 'AUTH_TOKEN_MISSING'], [401, 'AUTH_TOKEN_MISSING'], [401, 'AUTH_TOKEN_EXPIRED'], [404, 'NOT_FOUND'], [403, 'TELEMETRY_FORBIDDEN']].map(
        ([status, code]) => ({ status, error_code: code, remote: expect.stringMatching(/127\.0\.0\.1/) }),
      ),
    );
    const signatures = [expired, human].map((t) => t.split('.')[2]!);
    expect(lines.filter((l) => signatures.some((sig) => l.includes(sig)))).toEqual([]);
  });
});

/** The status of a refused upgrade whose body need not be JSON (Node's own 431 has none). */
function refusalStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', () => {}); // 'unexpected-response' carries the outcome
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
  });
}

describe('tokens larger than Node\'s default 16 KiB header limit (maxTokenBytes 20000)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await server({ jwtSecret: SECRET, maxTokenBytes: 20_000 });
  });

  /** A valid HS256 token for `sub` of at least `bytes` characters (an ignored claim pads it). */
  async function tokenOf(sub: string, bytes: number): Promise<string> {
    const base = (await sign(secretKey(), 'HS256', claims(sub, { pad: '' }))).length;
    const token = await sign(secretKey(), 'HS256', claims(sub, { pad: 'x'.repeat(Math.ceil(((bytes - base) * 3) / 4)) }));
    expect(token.length).toBeGreaterThanOrEqual(bytes);
    expect(token.length).toBeLessThan(bytes + 8);
    return token;
  }

  it.each(TRANSPORTS)('a 19000-byte token is verified and accepted over %s', async (transport) => {
    const welcome = expectOpen(await tryUpgrade(srv.url, transport, await tokenOf('big', 19_000)));
    expect(welcome.payload['client_id']).toBe('big');
  });

  it.each(TRANSPORTS)('a 21000-byte token reaches the verifier over %s and gets 401 AUTH_TOKEN_TOO_LARGE (not 431)', async (transport) => {
    expectRefused(await tryUpgrade(srv.url, transport, await tokenOf('bigger', 21_000)), 401, 'AUTH_TOKEN_TOO_LARGE');
  });

  it('headers beyond maxTokenBytes + 8 KiB are still refused by Node itself with 431', async () => {
    expect(await refusalStatus(srv.url, { authorization: `Bearer ${'a'.repeat(30_000)}` })).toBe(431);
  });

  it("with the default maxTokenBytes the limit stays Node's 16 KiB: 12000 bytes reach the verifier (401), 17000 get 431", async () => {
    const def = await server({ jwtSecret: SECRET });
    expect(await refusalStatus(def.url, { authorization: `Bearer ${'a'.repeat(12_000)}` })).toBe(401);
    expect(await refusalStatus(def.url, { authorization: `Bearer ${'a'.repeat(17_000)}` })).toBe(431);
  });
});

/** A JWKS endpoint on 127.0.0.1 serving `keys` (mutable) and counting fetches; closed when the test ends. */
async function jwksEndpoint({ onTestFinished }: TestContext): Promise<{ url: string; keys: JWK[]; fetches: () => number }> {
  const keys: JWK[] = [];
  let fetches = 0;
  const http = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/jwks.json`, keys, fetches: () => fetches };
}

describe('a JWKS URL: the refetch cooldown (jwksCooldownS)', () => {
  it('within the default 30 s cooldown, a kid published after the first fetch gets AUTH_UNKNOWN_KEY (retryable) and no refetch', async (ctx) => {
    const jwks = await jwksEndpoint(ctx);
    jwks.keys.push(await publicJwk(key, 'k1', 'RS256'));
    const srv = await server({ jwksUrl: jwks.url });
    const k1 = await sign(key.privateKey, 'RS256', claims('rotated'), { kid: 'k1' });
    expectOpen(await tryUpgrade(srv.url, 'header', k1));
    expect(jwks.fetches()).toBe(1);

    jwks.keys.push(await publicJwk(other, 'k2', 'RS256'));
    const k2 = await sign(other.privateKey, 'RS256', claims('rotated'), { kid: 'k2' });
    expectRefused(await tryUpgrade(srv.url, 'header', k2), 401, 'AUTH_UNKNOWN_KEY');
    expect(jwks.fetches()).toBe(1);
    // On a live connection the same refusal comes back from refresh_token, marked retryable (after the cooldown it can pass).
    const { client } = await RawClient.connect(srv.url, { token: k1 });
    clients.push(client);
    expect(await client.command('refresh_token', { token: k2 })).toMatchObject({ status: 'error', error_code: 'AUTH_UNKNOWN_KEY', retryable: true });
  });

  it('with jwksCooldownS 0, a token with a new kid refetches the set at once and is accepted', async (ctx) => {
    const jwks = await jwksEndpoint(ctx);
    jwks.keys.push(await publicJwk(key, 'k1', 'RS256'));
    const srv = await server({ jwksUrl: jwks.url, jwksCooldownS: 0 });
    expectOpen(await tryUpgrade(srv.url, 'header', await sign(key.privateKey, 'RS256', claims('a'), { kid: 'k1' })));
    expect(jwks.fetches()).toBe(1);

    jwks.keys.push(await publicJwk(other, 'k2', 'RS256'));
    expectOpen(await tryUpgrade(srv.url, 'query', await sign(other.privateKey, 'RS256', claims('b'), { kid: 'k2' })));
    expect(jwks.fetches()).toBe(2);
  });
});
