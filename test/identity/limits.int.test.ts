/**
 * Per-tenant limits: the server-wide defaults, and a tenant's overrides from
 * the `tenants` config object. Each limit binds the tenant it is set for and
 * leaves the others (and other connections) alone.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { refusedUpgrade as refused } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

const SECRET = 'limits-test-secret-0123456789abcdef0123';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };

let srv: TestServer | undefined;
const open: RawClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv?.close();
  srv = undefined;
});

/** A JWT server with per-tenant overrides (`tenants` is a config-file/programmatic key, not a flag). */
async function start(tenants: Json, overrides: Json = {}): Promise<TestServer> {
  const options: Parameters<typeof startServer>[0] & { tenants: Json } = { auth: 'jwt', jwtSecret: SECRET, ...overrides, tenants };
  srv = await startServer(options);
  return srv;
}

function token(tenant: string, sub: string, extra: Partial<TokenClaims> = {}): Promise<string> {
  return mintToken(secretSigningKey(SECRET), { sub, tenant, permissions: ALL, ...extra }, { ttlS: 600 });
}

async function connect(tenant: string, sub: string): Promise<{ client: RawClient; welcome: Envelope }> {
  const { client, welcome } = await RawClient.connect(srv!.url, { token: await token(tenant, sub) });
  open.push(client);
  return { client, welcome };
}

/** An upgrade the server must refuse: resolves with the HTTP status and JSON body. */
async function refusedUpgrade(tenant: string, sub: string): Promise<{ status: number; body: Json }> {
  return refused(`${srv!.url}/?token=${await token(tenant, sub)}`) as Promise<{ status: number; body: Json }>;
}

const memberLeft = (clientId: string) => (e: Envelope): boolean =>
  e.type === 'system' && e.payload['event'] === 'member_left' && (e.payload['client'] as Json)['client_id'] === clientId;

describe('defaults and overrides', () => {
  it('a tenant without overrides gets the server defaults; an override cannot raise the frame limit above the server one', async () => {
    await start(
      { acme: { rateLimitPerSecond: 7, maxChannelsPerConnection: 3 }, big: { maxPayloadBytes: 10 * 1024 * 1024 } },
      { rateLimitPerSecond: 500, rateLimitBurst: 900, maxChannelsPerConnection: 40, maxPayloadBytes: 4096 },
    );
    const defaults = { rate_limit_per_second: 500, rate_limit_burst: 900, max_channels_per_connection: 40, max_payload_bytes: 4096 };
    expect((await connect('globex', 'a')).welcome.payload['limits']).toMatchObject(defaults);
    expect((await connect('acme', 'a')).welcome.payload['limits']).toMatchObject({ ...defaults, rate_limit_per_second: 7, max_channels_per_connection: 3 });
    expect((await connect('big', 'a')).welcome.payload['limits']).toMatchObject(defaults);
  });
});

describe('tenant maxConnections', () => {
  it('refuses the upgrade past the tenant limit with 503 TENANT_CONNECTION_LIMIT while other tenants still connect', async () => {
    await start({ acme: { maxConnections: 2 } }, { tenantMaxConnections: 3 });
    const { client: a1 } = await connect('acme', 'a1');
    const { client: a2 } = await connect('acme', 'a2');
    const refused = await refusedUpgrade('acme', 'a3');
    expect(refused).toEqual({ status: 503, body: { error: expect.any(String), error_code: 'TENANT_CONNECTION_LIMIT' } });

    // globex has the default (3 here): its connections are unaffected by acme being full.
    for (const sub of ['g1', 'g2', 'g3']) await connect('globex', sub);
    expect((await refusedUpgrade('globex', 'g4')).body['error_code']).toBe('TENANT_CONNECTION_LIMIT');
    await a1.barrier();
    await a2.barrier();

    // A slot freed by a disconnect is reusable; a1 seeing a2's member_left proves the server removed it.
    await a1.ok('join_channel', { room: 'lobby', channel: 'x' });
    await a2.ok('join_channel', { room: 'lobby', channel: 'x' });
    await a2.close();
    await a1.next(memberLeft('a2'));
    const { client: a3 } = await connect('acme', 'a3');
    expect(await a3.ok('status')).toMatchObject({ tenant: 'acme', connections: 2 });
  });

  it('holds the server-wide limit under concurrent upgrades (re-checked after the token is verified)', async () => {
    // A JWKS endpoint that answers only once all six upgrades have reached the server, so every
    // one of them is waiting on token verification at the same time (as under load).
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const jwks = createServer((_req, res) => {
      void released.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    try {
      srv = await startServer({ auth: 'jwt', jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`, maxConnections: 2 });
      let upgrades = 0;
      // Registered after the server's own listener: it runs once the server has taken the 6th upgrade in.
      srv.server['http'].on('upgrade', () => {
        if (++upgrades === 6) release();
      });
      const signing = { key: privateKey, alg: 'EdDSA' };
      const tokens = await Promise.all(['t1', 't2', 't3', 't4', 't5', 't6'].map((tenant) => mintToken(signing, { sub: 'u', tenant }, { ttlS: 600, kid: 'k1' })));
      // Accepted sockets stay open until every outcome is in: closing one early would free a slot.
      const opened: WebSocket[] = [];
      const outcomes = await Promise.all(
        tokens.map((t) => new Promise<string>((resolve) => {
          const ws = new WebSocket(`${srv!.url}/?token=${t}`);
          ws.on('error', () => {});
          ws.on('open', () => {
            opened.push(ws);
            resolve('open');
          });
          ws.on('unexpected-response', (_req, res) => {
            resolve(`http ${res.statusCode}`);
            ws.terminate();
          });
        })),
      );
      for (const ws of opened) ws.close();
      expect(outcomes.filter((o) => o === 'open')).toHaveLength(2);
      expect(outcomes.filter((o) => o === 'http 503')).toHaveLength(4);
    } finally {
      jwks.closeAllConnections();
      await new Promise((resolve) => jwks.close(resolve));
    }
  });
});

describe('rate limit', () => {
  it('answers frames past the burst with RATE_LIMITED and retry_after_ms; the connection stays open, others are unaffected', async () => {
    await start({ acme: { rateLimitPerSecond: 5, rateLimitBurst: 5 } });
    const { client: c } = await connect('acme', 'sender');
    const { client: m } = await connect('acme', 'member');
    const { client: g } = await connect('globex', 'other');
    await m.ok('join_channel', { room: 'lobby', channel: 'x' });
    await c.ok('join_channel', { room: 'lobby', channel: 'x' }); // frame 1 of c's burst of 5

    // Frames 2-5 are pings, 6-8 events: the events are past the burst.
    const pings = ['p2', 'p3', 'p4', 'p5'];
    const events = ['e6', 'e7', 'e8'];
    for (const id of pings) c.send({ type: 'command', id, payload: { command: 'ping' } });
    for (const id of events) c.send({ type: 'event', id, room: 'lobby', channel: 'x', payload: {} });
    for (const id of pings) {
      expect((await c.next((e) => e.type === 'command_response' && e.payload['request_id'] === id)).payload).toMatchObject({ status: 'success' });
    }
    let retryAfterMs = 0;
    for (const id of events) {
      const err = await c.next((e) => e.request_id === id);
      expect(err).toMatchObject({ type: 'error', error_code: 'RATE_LIMITED', retryable: true });
      const retry = err.payload['retry_after_ms'];
      expect(typeof retry === 'number' && retry > 0 && retry <= 200).toBe(true);
      retryAfterMs = Math.max(retryAfterMs, retry as number);
    }

    // The other connection of the tenant has its own bucket; the refused events reached nobody.
    await m.barrier();
    expect(m.received.filter((e) => e.type === 'event')).toEqual([]);
    expect((await m.ok('history', { room: 'lobby', channel: 'x' }))['messages']).toEqual([]);
    m.send({ type: 'event', id: 'from-m', room: 'lobby', channel: 'x', payload: {} });
    await m.barrier();
    expect(await c.next((e) => e.type === 'event' && e.id === 'from-m')).toMatchObject({ from: 'member' });
    // A tenant with the default limits sends a larger burst untouched.
    for (let i = 0; i < 20; i++) g.send({ type: 'command', id: `g${i}`, payload: { command: 'ping' } });
    await g.barrier();
    expect(g.received.filter((e) => e.type === 'error')).toEqual([]);

    // The hint is honest: after retry_after_ms the same connection is served again.
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    expect(await c.ok('ping')).toMatchObject({ pong: true });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('rate limit: the id of a refused frame', () => {
  /** A ping command frame of exactly `bytes` bytes (padded through an ignored parameter). */
  function frameOf(id: string, bytes: number): string {
    const base = JSON.stringify({ type: 'command', id, payload: { command: 'ping', parameters: { pad: '' } } });
    const frame = base.replace('"pad":""', `"pad":"${'x'.repeat(bytes - base.length)}"`);
    expect(Buffer.byteLength(frame)).toBe(bytes);
    return frame;
  }

  it('is read from frames of up to 4096 bytes; a larger refused frame is answered with request_id null', async () => {
    await start({ acme: { rateLimitPerSecond: 1, rateLimitBurst: 1 } });
    const { client: c } = await connect('acme', 'flooder');
    await c.barrier(); // takes the one token of the burst; the next one is a second away
    c.send(frameOf('small', 200));
    c.send(frameOf('at-limit', 4096));
    c.send(frameOf('over-limit', 4097));
    c.send(frameOf('huge', 64 * 1024));
    const errors: Envelope[] = [];
    for (let i = 0; i < 4; i++) errors.push(await c.next((e) => e.type === 'error'));
    expect(errors.map((e) => [e.error_code, e.request_id])).toEqual([
      ['RATE_LIMITED', 'small'],
      ['RATE_LIMITED', 'at-limit'],
      ['RATE_LIMITED', null],
      ['RATE_LIMITED', null],
    ]);
    expect(c.received.filter((e) => e.type === 'command_response')).toEqual([]);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('maxChannelsPerConnection', () => {
  it('refuses the join past the limit with CHANNEL_LIMIT; rejoining a joined channel does not count', async () => {
    await start({ acme: { maxChannelsPerConnection: 2 } });
    const { client: c } = await connect('acme', 'joiner');
    await c.ok('join_channel', { room: 'r', channel: 'one' });
    await c.ok('join_channel', { room: 'r', channel: 'two' });
    expect(await c.ok('join_channel', { room: 'r', channel: 'one' })).toMatchObject({ joined: false });

    const refused = await c.command('join_channel', { room: 'r', channel: 'three' });
    expect(refused).toMatchObject({ status: 'error', error_code: 'CHANNEL_LIMIT', details: { max_channels: 2, scope: 'connection' } });
    expect(await c.ok('list_channels', { room: 'r' })).toMatchObject({ count: 2 }); // the refused join created nothing
    expect(await c.ok('whoami')).toMatchObject({ channels: ['r:one', 'r:two'] });

    await c.ok('leave_channel', { room: 'r', channel: 'one' });
    expect(await c.ok('join_channel', { room: 'r', channel: 'three' })).toMatchObject({ joined: true });

    // Another tenant keeps the default.
    const { client: g } = await connect('globex', 'joiner');
    for (const ch of ['one', 'two', 'three']) await g.ok('join_channel', { room: 'r', channel: ch });
  });
});

describe('tenant maxChannels', () => {
  it('refuses a new channel past the tenant limit with CHANNEL_LIMIT scope "tenant"; existing channels stay joinable', async () => {
    await start({ acme: { maxChannels: 2 } }, { tenantMaxChannels: 3 });
    const { client: a } = await connect('acme', 'a');
    const { client: b } = await connect('acme', 'b');
    await a.ok('join_channel', { room: 'r', channel: 'one' });
    await a.ok('create_channel', { room: 'r', channel: 'two' }); // created without a member: it counts too

    const tenantLimit = { status: 'error', error_code: 'CHANNEL_LIMIT', retryable: false, details: { max_channels: 2, scope: 'tenant' } };
    expect(await b.command('join_channel', { room: 'r', channel: 'three' })).toMatchObject(tenantLimit);
    expect(await a.command('create_channel', { room: 'other', channel: 'x' })).toMatchObject(tenantLimit);
    // The refusals created nothing and joined nothing.
    expect(await b.ok('list_channels')).toMatchObject({ count: 2, rooms: 1 });
    expect(await b.ok('whoami')).toMatchObject({ channels: [] });

    // The limit counts channels, not members: at the limit, existing channels are joined as usual.
    expect(await b.ok('join_channel', { room: 'r', channel: 'two' })).toMatchObject({ joined: true, created: false });
    expect(await b.ok('join_channel', { room: 'r', channel: 'one' })).toMatchObject({ joined: true, created: false });

    // Deleting a channel frees its slot.
    const { client: admin } = await RawClient.connect(srv!.url, { token: await token('acme', 'root', { admin: true }) });
    open.push(admin);
    await admin.ok('delete_channel', { room: 'r', channel: 'one' });
    expect(await a.ok('create_channel', { room: 'r', channel: 'three' })).toMatchObject({ room: 'r', channel: 'three' });
  });

  it('a tenant without an override gets tenantMaxChannels; one tenant at its limit leaves the others alone', async () => {
    await start({ acme: { maxChannels: 1 } }, { tenantMaxChannels: 3 });
    const { client: a } = await connect('acme', 'a');
    await a.ok('join_channel', { room: 'r', channel: 'one' });
    expect(await a.command('join_channel', { room: 'r', channel: 'two' })).toMatchObject({ details: { max_channels: 1, scope: 'tenant' } });

    // globex may use the same names: channels are counted per tenant.
    const { client: g } = await connect('globex', 'g');
    for (const channel of ['one', 'two', 'three']) await g.ok('join_channel', { room: 'r', channel });
    expect(await g.command('join_channel', { room: 'r', channel: 'four' })).toMatchObject({
      error_code: 'CHANNEL_LIMIT',
      details: { max_channels: 3, scope: 'tenant' },
    });
  });

  it('the per-connection limit is checked first: a connection at its own limit gets scope "connection" even in a full tenant', async () => {
    await start({ acme: { maxChannels: 1, maxChannelsPerConnection: 1 } });
    const { client: a } = await connect('acme', 'a');
    await a.ok('join_channel', { room: 'r', channel: 'one' });
    expect(await a.command('join_channel', { room: 'r', channel: 'two' })).toMatchObject({ details: { max_channels: 1, scope: 'connection' } });
    const { client: b } = await connect('acme', 'b');
    expect(await b.command('join_channel', { room: 'r', channel: 'two' })).toMatchObject({ details: { max_channels: 1, scope: 'tenant' } });
  });
});

describe('tenant maxPayloadBytes', () => {
  it('a tenant limit below the server one refuses larger frames with FRAME_TOO_LARGE for that tenant only', async () => {
    await start({ acme: { maxPayloadBytes: 1024 } });
    const { client: a } = await connect('acme', 'big');
    const { client: g } = await connect('globex', 'big');
    const { client: gm } = await connect('globex', 'member');
    await g.ok('join_channel', { room: 'lobby', channel: 'x' });
    await gm.ok('join_channel', { room: 'lobby', channel: 'x' });
    const text = 'x'.repeat(2048);

    g.send({ type: 'event', id: 'g-big', room: 'lobby', channel: 'x', payload: { text } });
    expect((await gm.next((e) => e.type === 'event' && e.id === 'g-big')).payload['text']).toBe(text);

    a.send({ type: 'event', id: 'a-big', room: 'lobby', channel: 'x', payload: { text } });
    expect(await a.next((e) => e.type === 'error')).toMatchObject({ error_code: 'FRAME_TOO_LARGE', payload: { max_payload_bytes: 1024 } });
    expect((await a.closed).code).toBe(4500);
    await g.barrier();
    await gm.barrier();
    expect(g.ws.readyState).toBe(WebSocket.OPEN);
  });
});
