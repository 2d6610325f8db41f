/**
 * The SDK against a real JWT server: static tokens, token providers, the
 * refresh before expiry, expiry itself (4003), refused connects, and replay
 * of channel history when the client id (the token's `sub`) is shared.
 *
 * The server warns 1 s before expiry (tokenExpiryWarningS: 1) but only when
 * the connection starts before that point; `exp` has 1 s granularity. So the
 * short-lived tokens here expire on the first whole second at least 1.5 s
 * away: the warning comes 0.5-1.5 s after minting (time enough to connect),
 * expiry 1 s later. The servers run with jwtClockToleranceS 0, so the close
 * comes at `exp` itself (the default tolerance would add 5 s of grace; see
 * test/identity/lifetime.int.test.ts). The slow tests run concurrently to keep
 * the file short.
 */
import { describe, it, type TestContext } from 'vitest';
import {
  ArqonClient,
  type ArqonClientError,
  type ClientOptions,
  type ConnectionStatus,
  type TokenProvider,
} from '../../src/client/index.js';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { gateWebSocket, next, record, seqOf, terminateServerSide, type Gate } from './helpers.js';

const SECRET = 'sdk-identity-tests-secret-0123456789abcdef';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };

function mint(sub: string, ttlS: number, extra: Partial<TokenClaims> = {}): Promise<string> {
  return mintToken(secretSigningKey(SECRET), { sub, permissions: ALL, ...extra }, { ttlS });
}

/** A token expiring on the first whole second at least 1.5 s from now. */
function mintShort(sub: string): Promise<string> {
  const now = Date.now();
  return mint(sub, Math.ceil((now + 1500) / 1000) - Math.floor(now / 1000));
}

/** A provider that mints a fresh short-lived token for `sub` on every call and counts the calls. */
function minting(sub: string): TokenProvider & { calls: number; tokens: string[] } {
  const provider = Object.assign(
    async () => {
      provider.calls += 1;
      const token = await mintShort(sub);
      provider.tokens.push(token);
      return token;
    },
    { calls: 0, tokens: [] as string[] },
  );
  return provider;
}

const statesOf = (statuses: ConnectionStatus[]): string[] => statuses.map((st) => st.state);
const expiresAtMs = (c: ArqonClient): number => Date.parse(c.welcome?.identity?.expires_at ?? '');

/** Per-test resources, disposed when the test ends (tests here run concurrently). */
function fixture({ onTestFinished }: TestContext): {
  server(overrides?: Record<string, unknown>): Promise<TestServer>;
  client(options: ClientOptions): ArqonClient;
  gate(): Promise<Gate>;
} {
  const cleanups: Array<() => Promise<unknown>> = [];
  onTestFinished(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async server(overrides = {}) {
      const s = await startServer({ auth: 'jwt', jwtSecret: SECRET, tokenExpiryWarningS: 1, jwtClockToleranceS: 0, ...overrides });
      cleanups.push(() => s.close());
      return s;
    },
    client(options) {
      const c = new ArqonClient({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...options });
      cleanups.push(() => c.close());
      return c;
    },
    gate: () => gateWebSocket((fn) => cleanups.push(fn)),
  };
}

describe.concurrent('ArqonClient with JWT identity', () => {
  it('connects with a static token: client_id is the sub, the welcome carries the identity', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    const c = f.client({ url: s.url, token: await mint('alice', 600, { screen_name: 'Alice' }) });
    const welcome = await c.connect();
    expect(welcome.client_id).toBe('alice');
    expect(welcome.identity).toEqual({ admin: false, anonymous: false, expires_at: expect.any(String) });
    expect(expiresAtMs(c)).toBeGreaterThan(Date.now() + 500_000);
    expect(c.status).toEqual({ state: 'connected', clientId: 'alice', connectionId: welcome.connection_id });
    await expect(c.command('whoami')).resolves.toMatchObject({ client_id: 'alice', screen_name: 'Alice' });
  });

  it('asks a token provider for every connect; the client id stays the sub across reconnects', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    const g = await f.gate();
    const provider = minting('bob');
    const c = f.client({ url: s.url, token: provider, WebSocket: g.WebSocket });
    const first = await c.connect();
    expect(provider.calls).toBe(1);
    expect(new URL(g.urls[0]!).searchParams.get('token')).toBe(provider.tokens[0]);

    const rewelcomed = next(c, 'welcome');
    terminateServerSide(s, c);
    const second = await rewelcomed;
    expect(provider.calls).toBe(2);
    expect(new URL(g.urls[1]!).searchParams.get('token')).toBe(provider.tokens[1]);
    expect(second.client_id).toBe('bob');
    expect(first.client_id).toBe('bob');
    expect(second.connection_id).not.toBe(first.connection_id);
  });

  it('refreshes before expiry, so the connection outlives its first token without reconnecting', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    const provider = minting('carol');
    const c = f.client({ url: s.url, token: provider });
    const statuses = record(c, 'status');
    const errors = record(c, 'error');
    const refreshed = record(c, 'refreshed');
    const welcome = await c.connect();
    const firstExpiry = expiresAtMs(c);

    // The first refresh happens 1 s before the first expiry; the token it gets expires at least
    // 1.5 s later, on a whole second, so at least 1 s after the first one, and is warned for 1 s
    // before that: when the second refresh is done, the first token has expired (the server's
    // timers, not this clock, decide; a few ms of leeway cover timer rounding).
    await next(c, 'refreshed', () => refreshed.length >= 2);
    expect(Date.now()).toBeGreaterThanOrEqual(firstExpiry - 10);
    const me = await c.command<{ connection_id: string; expires_at: string }>('whoami');
    expect(me.connection_id).toBe(welcome.connection_id);
    expect(Date.parse(me.expires_at)).toBeGreaterThan(firstExpiry);
    expect(refreshed[1]).toEqual({ expires_at: me.expires_at });
    expect(statesOf(statuses)).toEqual(['connecting', 'connected']);
    expect(provider.calls).toBe(3);
    expect(errors).toEqual([]);
  });

  it('stops with closed status 4003 when a static token expires, without reconnecting', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    const g = await f.gate();
    const c = f.client({ url: s.url, token: await mintShort('dave'), WebSocket: g.WebSocket });
    const statuses = record(c, 'status');
    const warned = next(c, 'system', (env) => env.payload['event'] === 'token_expiring');
    const closed = next(c, 'status', (st) => st.state === 'closed');
    await c.connect();

    expect((await warned).payload).toMatchObject({ expires_at: c.welcome?.identity?.expires_at, expires_in_ms: expect.any(Number) });
    expect(await closed).toMatchObject({ state: 'closed', code: 4003 });
    expect(statesOf(statuses)).toEqual(['connecting', 'connected', 'closed']);
    // Closed is terminal: no reconnect timer is left, and only the one socket was ever opened.
    expect(g.sockets).toHaveLength(1);
    expect(c.status).toMatchObject({ state: 'closed', code: 4003 });
  });

  it('reports a failed refresh, lets the server close with 4003 and reconnects with a fresh token', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    let calls = 0;
    // Connect as erin, then (refresh) hand out a token for someone else, then erin again.
    const provider: TokenProvider = () => (++calls === 1 ? mintShort('erin') : mint(calls === 2 ? 'mallory' : 'erin', 600));
    const c = f.client({ url: s.url, token: provider });
    const statuses = record(c, 'status');
    const failed = next(c, 'error');
    const first = await c.connect();

    expect(await failed).toMatchObject({ code: 'AUTH_TOKEN_MISMATCH', details: { phase: 'refresh' } });
    const second = await next(c, 'welcome');
    expect(statuses.find((st) => st.state === 'reconnecting')).toMatchObject({ code: 4003 });
    expect(calls).toBe(3);
    expect(second.client_id).toBe('erin');
    expect(second.connection_id).not.toBe(first.connection_id);
    expect(c.status.state).toBe('connected');
  });

  it('does not reopen with the token that just expired when the provider hands it out again', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    const g = await f.gate();
    const token = await mintShort('frank');
    let calls = 0;
    const c = f.client({ url: s.url, WebSocket: g.WebSocket, maxReconnectAttempts: 2, token: () => (calls++, token) });
    const errors = record(c, 'error');
    const statuses = record(c, 'status');
    const closed = next(c, 'status', (st) => st.state === 'closed');
    await c.connect();

    // Expired, then two attempts refused by the client itself, then closed.
    expect(await closed).toMatchObject({ state: 'closed', code: 1006 });
    expect(g.sockets).toHaveLength(1);
    expect(statuses.map((st) => (st.state === 'reconnecting' ? st.code : st.state))).toEqual(['connecting', 'connected', 4003, 1006, 'closed']);
    expect(calls).toBe(4); // connect, refresh, two reconnect attempts
    expect(errors.map((e: ArqonClientError) => [e.code, e.details?.['phase'] ?? null])).toEqual([
      ['TOKEN_UNAVAILABLE', 'refresh'],
      ['TOKEN_UNAVAILABLE', null],
      ['TOKEN_UNAVAILABLE', null],
    ]);
  });

  it('rejects connect() with CONNECTION_FAILED when the token is refused or the provider fails', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    const badSignature = await mintToken(secretSigningKey('another-secret-of-at-least-32-characters'), { sub: 'x' }, { ttlS: 600 });
    const expired = await mint('x', -60);
    for (const token of [badSignature, expired, 'not-a-jwt']) {
      const c = f.client({ url: s.url, token });
      const err = await c.connect().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CONNECTION_FAILED', details: { close_code: 1006 } });
      expect(c.status).toMatchObject({ state: 'closed', code: 1006 });
    }
    const noToken = f.client({ url: s.url });
    await expect(noToken.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED', details: { close_reason: expect.stringMatching(/401/) } });

    const c = f.client({
      url: s.url,
      token: () => {
        throw new Error('identity provider down');
      },
    });
    const reported = next(c, 'error');
    await expect(c.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED', message: expect.stringMatching(/identity provider down/) });
    expect(await reported).toMatchObject({ code: 'TOKEN_UNAVAILABLE', details: { cause: 'identity provider down' } });
  });

  it('replays what other connections of the same sub published, but not its own messages', async (ctx) => {
    const { expect } = ctx;
    const f = fixture(ctx);
    const s = await f.server();
    const g = await f.gate();
    // Two replicas of one service: two SDK instances, one sub, one client id.
    const a = f.client({ url: s.url, token: await mint('svc', 600), WebSocket: g.WebSocket });
    const b = f.client({ url: s.url, token: await mint('svc', 600) });
    await Promise.all([a.connect(), b.connect()]);
    expect(a.welcome?.client_id).toBe(b.welcome?.client_id);
    await a.join('ops', 'feed');
    await b.join('ops', 'feed');
    const aEvents = record(a, 'event');

    // Live: the other replica gets a's message (only the sending connection is skipped).
    const atB = next(b, 'event');
    a.publish('ops', 'feed', { seq: 'a1' });
    expect(await atB).toMatchObject({ from: 'svc', payload: { seq: 'a1' } });

    g.open = false;
    const reconnecting = next(a, 'status', (st) => st.state === 'reconnecting');
    terminateServerSide(s, a);
    await reconnecting;
    b.publish('ops', 'feed', { seq: 'b1' });
    b.publish('ops', 'feed', { seq: 'b2' });
    await b.command('ping');

    const resumed = next(a, 'resumed');
    g.open = true;
    // a1 (offset 1) is in the replay too, but it is a's own message without echo.
    expect(await resumed).toEqual({ room: 'ops', channel: 'feed', recovered: true, count: 2 });
    expect(aEvents.map(seqOf)).toEqual(['b1', 'b2']);
    expect(a.position('ops', 'feed')?.offset).toBe(3);
  });
});
