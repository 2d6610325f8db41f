/**
 * Authentication at the HTTP upgrade, end to end: every forged or unacceptable
 * token is refused with 401 and a JSON body {error, error_code} before any
 * socket exists, over both transports (Authorization: Bearer and ?token=);
 * the injected clock drives tolerance; claims become the connection's identity.
 * What else a refusal carries, large tokens and the JWKS URL cooldown are in
 * upgrade.int.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import type { TestServer } from '../helpers/server.js';
import {
  attempt,
  AUDIENCE,
  claims,
  closeOutcome,
  expectOpen,
  expectRefused,
  forgedCases,
  ISSUER,
  KeyDir,
  publicJwk,
  rsaPair,
  secretKey,
  SECRET,
  sign,
  TRANSPORTS,
  type Transport,
  type UpgradeOutcome,
  upgradeHarness,
} from './tokens.fixtures.js';

const dir = new KeyDir();
const key = rsaPair();
const other = rsaPair();
const table = await forgedCases(key, other);
const { server, tryUpgrade, clients } = upgradeHarness({ afterEach, afterAll });
afterAll(() => dir.dispose());

describe('the forged-token table at the upgrade (RSA public key, issuer and audience required)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await server({ jwtPublicKeyFile: dir.write('rsa.pem', key.publicPem), jwtIssuer: ISSUER, jwtAudience: AUDIENCE });
  });

  it.each(TRANSPORTS)('accepts the honest token over %s', async (transport) => {
    const token = await sign(key.privateKey, 'RS256', claims('mallory', { iss: ISSUER, aud: AUDIENCE }));
    expect(expectOpen(await tryUpgrade(srv.url, transport, token)).payload['client_id']).toBe('mallory');
  });

  const rows = table.flatMap((c) => TRANSPORTS.map((t) => [c.name, t, c] as const));
  it.each(rows)('%s over %s → 401', async (_name, transport, c) => {
    expectRefused(await tryUpgrade(srv.url, transport, c.token), 401, c.code);
    expect(srv.server.bus.clients.size).toBe(0);
  });

  it.each([
    ['no Authorization header and no token parameter', 'header', null, {}],
    ['an empty token parameter', 'query', '', {}],
  ] as const)('missing token (%s) → 401 AUTH_TOKEN_MISSING', async (_what, transport, token, opts) => {
    expectRefused(await tryUpgrade(srv.url, transport as Transport, token, opts), 401, 'AUTH_TOKEN_MISSING');
  });

  it.each([
    ['Basic credentials', `Basic ${Buffer.from('alice:secret').toString('base64')}`],
    ['a bare token without a scheme', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln'],
    ['Bearer with nothing after it', 'Bearer '],
    ['Bearer with two tokens', 'Bearer a.b.c d.e.f'],
  ])('Authorization: %s → 401 AUTH_TOKEN_MALFORMED', async (_what, authorization) => {
    expectRefused(await tryUpgrade(srv.url, 'header', null, { authorization }), 401, 'AUTH_TOKEN_MALFORMED');
  });

  it('the Authorization header wins over ?token= (a bad header is not rescued by a good parameter)', async () => {
    const good = await sign(key.privateKey, 'RS256', claims('mallory', { iss: ISSUER, aud: AUDIENCE }));
    const outcome = await tryUpgrade(srv.url, 'query', good, { authorization: 'Basic Zm9vOmJhcg==' });
    expectRefused(outcome, 401, 'AUTH_TOKEN_MALFORMED');
  });

  it('an oversized Authorization header is refused as too large, not parsed', async () => {
    expectRefused(await tryUpgrade(srv.url, 'header', null, { authorization: `Bearer ${'a'.repeat(9000)}` }), 401, 'AUTH_TOKEN_TOO_LARGE');
  });
});

describe('a JWKS file: the kid selects the key', () => {
  it.each(TRANSPORTS)('an unknown kid over %s → 401 AUTH_UNKNOWN_KEY', async (transport) => {
    const jwks = { keys: [await publicJwk(key, 'k1', 'RS256'), await publicJwk(other, 'k2', 'RS256')] };
    const srv = await server({ jwksFile: dir.write(`jwks-${transport}.json`, JSON.stringify(jwks)) });
    expectRefused(await tryUpgrade(srv.url, transport, await sign(key.privateKey, 'RS256', claims('a'), { kid: 'k3' })), 401, 'AUTH_UNKNOWN_KEY');
    expectOpen(await tryUpgrade(srv.url, transport, await sign(key.privateKey, 'RS256', claims('a'), { kid: 'k1' })));
  });
});

describe('missing exp', () => {
  it.each(TRANSPORTS)('is accepted over %s with jwtRequireExp false, and the welcome says it never expires', async (transport) => {
    const srv = await server({ jwtSecret: SECRET, jwtRequireExp: false });
    const token = await sign(secretKey(), 'HS256', claims('forever', { exp: undefined }));
    const welcome = expectOpen(await tryUpgrade(srv.url, transport, token));
    expect(welcome.payload['identity']).toMatchObject({ expires_at: null });
  });

  it.each(TRANSPORTS)('is refused over %s when required (the default) → AUTH_INVALID_CLAIMS', async (transport) => {
    const srv = await server({ jwtSecret: SECRET });
    const token = await sign(secretKey(), 'HS256', claims('forever', { exp: undefined }));
    expectRefused(await tryUpgrade(srv.url, transport, token), 401, 'AUTH_INVALID_CLAIMS');
  });
});

describe('clock tolerance (injected server clock, one hour ahead of the real one)', () => {
  const ahead = (): number => Date.now() + 3_600_000;
  const expiredThreeSecondsAgo = (): Promise<string> => {
    const serverNow = Math.floor(ahead() / 1000);
    return sign(secretKey(), 'HS256', claims('skewed', { exp: serverNow - 3 }, serverNow - 60));
  };

  it.each(TRANSPORTS)('a token expired 3 s ago passes over %s with the default 5 s tolerance', async (transport) => {
    const srv = await server({ jwtSecret: SECRET }, { clock: ahead });
    expect(expectOpen(await tryUpgrade(srv.url, transport, await expiredThreeSecondsAgo())).payload['client_id']).toBe('skewed');
  });

  it.each(TRANSPORTS)('the same token fails over %s with jwtClockToleranceS 0 → AUTH_TOKEN_EXPIRED', async (transport) => {
    const srv = await server({ jwtSecret: SECRET, jwtClockToleranceS: 0 }, { clock: ahead });
    expectRefused(await tryUpgrade(srv.url, transport, await expiredThreeSecondsAgo()), 401, 'AUTH_TOKEN_EXPIRED');
  });
});

describe('claims → connection', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await server({ jwtSecret: SECRET });
  });
  const token = (sub: string, extra: Record<string, unknown> = {}): Promise<string> => sign(secretKey(), 'HS256', claims(sub, extra));

  async function connect(tok: string, query: Record<string, string> = {}): Promise<{ client: RawClient; welcome: Envelope }> {
    const result = await RawClient.connect(srv.url, { token: tok, ...query });
    clients.push(result.client);
    return result;
  }

  it('welcome.client_id is the sub and the tenant comes from the claim', async () => {
    const { welcome } = await connect(await token('bob@example.com', { tenant: 'acme' }));
    expect(welcome.payload['client_id']).toBe('bob@example.com');
    expect(welcome.payload['tenant']).toBe('acme');
    expect(welcome.payload['identity']).toMatchObject({ admin: false, anonymous: false });
  });

  it('without a tenant claim the connection is in tenant default', async () => {
    const { welcome } = await connect(await token('dora'));
    expect(welcome.payload['tenant']).toBe('default');
  });

  it('client_type and screen_name from the token win over the query parameters', async () => {
    const { client, welcome } = await connect(await token('agent-9', { client_type: 'ai-agent', screen_name: 'Nine' }), {
      client_type: 'service',
      screen_name: 'Impostor',
    });
    expect(welcome.payload['client']).toMatchObject({ client_id: 'agent-9', client_type: 'ai-agent', screen_name: 'Nine' });
    expect(await client.ok('whoami')).toMatchObject({ client_id: 'agent-9', client_type: 'ai-agent', screen_name: 'Nine' });
  });

  it('with no screen_name claim, the query parameter supplies the display name', async () => {
    const { welcome } = await connect(await token('erin'), { screen_name: 'Erin' });
    expect(welcome.payload['client']).toMatchObject({ screen_name: 'Erin', client_type: 'human' });
  });

  it('over the Authorization header too, the claims become the identity', async () => {
    const outcome = await tryUpgrade(srv.url, 'header', await token('hdr', { tenant: 'acme', client_type: 'dashboard' }), {
      query: { client_type: 'human' },
    });
    const welcome = expectOpen(outcome);
    expect(welcome.payload).toMatchObject({ client_id: 'hdr', tenant: 'acme' });
    expect(welcome.payload['client']).toMatchObject({ client_type: 'dashboard' });
  });

  it('two connections of one sub reusing an event id: the second event is dropped without an error (dedupe by sub + id)', async () => {
    const tenant = 'replicas';
    const all = { publish: ['*'], subscribe: ['*'], history: ['*'] };
    const a = (await connect(await token('replica', { tenant, permissions: all }))).client;
    const b = (await connect(await token('replica', { tenant, permissions: all }))).client;
    const reader = (await connect(await token('reader', { tenant, permissions: all }))).client;
    for (const c of [a, b, reader]) await c.ok('join_channel', { room: 'ops', channel: 'feed' });

    a.send({ type: 'event', id: 'm-1', room: 'ops', channel: 'feed', payload: { by: 'a' } });
    await a.barrier();
    b.send({ type: 'event', id: 'm-1', room: 'ops', channel: 'feed', payload: { by: 'b' } });
    b.send({ type: 'event', id: 'm-2', room: 'ops', channel: 'feed', payload: { by: 'b' } });
    await reader.next((e) => e.type === 'event' && e.id === 'm-2');
    await b.barrier();

    const seen = reader.received.filter((e) => e.type === 'event').map((e) => [e.id, e.payload]);
    expect(seen).toEqual([['m-1', { by: 'a' }]]); // m-2 was taken by next(); b's m-1 never came
    expect(b.received.filter((e) => e.type === 'error')).toEqual([]);
    const stored = (await reader.ok<{ messages: Envelope[] }>('history', { room: 'ops', channel: 'feed' })).messages;
    expect(stored.map((m) => [m.id, m.from, m.payload])).toEqual([
      ['m-1', 'replica', { by: 'a' }],
      ['m-2', 'replica', { by: 'b' }],
    ]);
  });

  it('two connections with the same sub both receive a private message to that sub, each with its own connection_id', async () => {
    const tenant = 'twins';
    const a = await connect(await token('twin', { tenant }));
    const b = await connect(await token('twin', { tenant }));
    const sender = await connect(await token('sender', { tenant }));
    expect(a.welcome.payload['client_id']).toBe('twin');
    expect(b.welcome.payload['client_id']).toBe('twin');
    expect(a.welcome.payload['connection_id']).not.toBe(b.welcome.payload['connection_id']);

    sender.client.send({ type: 'private', id: 'pm-1', payload: { target: 'twin', text: 'hello both' } });
    const isPm = (e: Envelope): boolean => e.type === 'private' && e.id === 'pm-1';
    const [ra, rb] = await Promise.all([a.client.next(isPm), b.client.next(isPm)]);
    for (const got of [ra, rb]) {
      expect(got.from).toBe('sender');
      expect(got.payload['text']).toBe('hello both');
    }
    // A private message never crosses tenants: the same sub in another tenant gets nothing.
    const outsider = await connect(await token('twin', { tenant: 'elsewhere' }));
    sender.client.send({ type: 'private', id: 'pm-2', payload: { target: 'twin', text: 'again' } });
    await Promise.all([a.client.next((e) => e.id === 'pm-2'), b.client.next((e) => e.id === 'pm-2')]);
    await outsider.client.barrier();
    await sender.client.barrier();
    expect(outsider.client.received.filter((e) => e.type === 'private')).toEqual([]);
  });
});
