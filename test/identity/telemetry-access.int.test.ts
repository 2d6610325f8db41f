/**
 * Who may watch /telemetry on a JWT server, and what they see: no token →
 * 401; a human token → 403; a dashboard token → its own tenant's events only,
 * no server-wide stats; an admin token → every tenant and the stats.
 *
 * Observers cannot send commands, so absence is proven by order: the hub
 * writes events to an observer in emit order, so once an observer has an event
 * emitted after the one it must not see, that one would already have arrived.
 *
 * Also: the observer limit (maxTelemetryObservers) and the end of an
 * observer's stream when its token expires.
 */
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import { CLOSE_CODES } from '../../src/protocol/codes.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { refusedUpgrade as refused } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

const SECRET = 'telemetry-access-secret-0123456789abcdef';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };

let srv: TestServer;
const open: RawClient[] = [];

beforeEach(async () => {
  srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

function token(tenant: string, sub: string, extra: Partial<TokenClaims> = {}): Promise<string> {
  return mintToken(secretSigningKey(SECRET), { sub, tenant, permissions: ALL, ...extra }, { ttlS: 600 });
}

async function connectTo(url: string, tenant: string, sub: string, extra: Partial<TokenClaims> = {}, query: Record<string, string> = {}): Promise<RawClient> {
  const { client } = await RawClient.connect(url, { ...query, token: await token(tenant, sub, extra) });
  open.push(client);
  return client;
}

const bus = (tenant: string, sub: string): Promise<RawClient> => connectTo(srv.url, tenant, sub);
const observe = (tenant: string, sub: string, extra: Partial<TokenClaims>): Promise<RawClient> => connectTo(srv.telemetryUrl, tenant, sub, extra);


const telemetry = (event: string, tenant?: string, clientId?: string) => (e: Envelope): boolean =>
  e.type === 'telemetry' && e.payload['event'] === event &&
  (tenant === undefined || e.payload['tenant'] === tenant) && (clientId === undefined || e.payload['client_id'] === clientId);

describe('telemetry access', () => {
  it('refuses an upgrade without a token with 401', async () => {
    expect(await refused(srv.telemetryUrl)).toMatchObject({ status: 401, body: { error_code: 'AUTH_TOKEN_MISSING' } });
    expect(await refused(`${srv.telemetryUrl}?token=not.a.jwt`)).toMatchObject({ status: 401 });
  });

  it('refuses a human token with 403 TELEMETRY_FORBIDDEN, even when the query asks for client_type=dashboard', async () => {
    const human = await token('acme', 'alice');
    expect(await refused(`${srv.telemetryUrl}?token=${human}`)).toEqual({ status: 403, body: { error: expect.any(String), error_code: 'TELEMETRY_FORBIDDEN' } });
    expect(await refused(`${srv.telemetryUrl}?token=${human}&client_type=dashboard`)).toMatchObject({ status: 403 });
    const agent = await token('acme', 'bot', { client_type: 'ai-agent' });
    expect((await refused(`${srv.telemetryUrl}?token=${agent}`)).status).toBe(403);
    expect(srv.server.bus.telemetry.observerCount).toBe(0);
  });

  it("a dashboard sees its own tenant's events only and no server-wide stats; an admin sees every tenant and the stats", async () => {
    const dashboard = await observe('acme', 'wallboard', { client_type: 'dashboard' });
    const admin = await observe('ops', 'root', { admin: true });

    // globex activity first…
    const globex = await bus('globex', 'alice');
    await globex.ok('join_channel', { room: 'lobby', channel: 'general' });
    expect(await globex.command('history', { room: 'nowhere', channel: 'x' })).toMatchObject({ error_code: 'CHANNEL_NOT_FOUND' });
    globex.send({ type: 'shout', id: 'bad-globex' });
    await globex.next((e) => e.type === 'error');
    // …then acme's: the same names, the same sub.
    const acme = await bus('acme', 'alice');
    await acme.ok('join_channel', { room: 'lobby', channel: 'general' });

    for (const observer of [dashboard, admin]) {
      expect((await observer.next(telemetry('connect', 'acme', 'alice'))).payload).toMatchObject({ client_type: 'human' });
      expect((await observer.next(telemetry('join', 'acme', 'alice'))).payload).toMatchObject({ room: 'lobby', channel: 'general' });
    }
    // The admin got globex's events, emitted before acme's join…
    for (const event of ['connect', 'join', 'command', 'error']) await admin.next(telemetry(event, 'globex', 'alice'));
    // …and so would the dashboard have, by now.
    const tenantsSeen = (o: RawClient): unknown[] => o.received.filter((e) => e.type === 'telemetry').map((e) => e.payload['tenant']);
    expect(tenantsSeen(dashboard).every((t) => t === 'acme')).toBe(true);

    // Stats: wait for a tick on the admin stream, then for a later acme event on the dashboard.
    const stats = await admin.next((e) => telemetry('stats')(e) && e.payload['connections'] === 2, 2500);
    expect(stats.payload).toMatchObject({ connections: 2, channels: 2 }); // both tenants' lobby:general
    expect(stats.payload).not.toHaveProperty('tenant');
    await globex.close();
    await admin.next(telemetry('disconnect', 'globex', 'alice'));
    await acme.ok('ping');
    await dashboard.next(telemetry('command', 'acme', 'alice'));
    expect(dashboard.received.filter(telemetry('stats'))).toEqual([]);
    expect(tenantsSeen(dashboard).every((t) => t === 'acme')).toBe(true);
    expect(dashboard.received.some(telemetry('disconnect'))).toBe(false);
  });
});

describe('observer limit and lifetime', () => {
  it('refuses observers beyond maxTelemetryObservers with 503 MAX_CONNECTIONS; a closed observer frees its slot; the bus is unaffected', async ({ onTestFinished }) => {
    const s = await startServer({ auth: 'jwt', jwtSecret: SECRET, maxTelemetryObservers: 2, maxConnections: 1 });
    onTestFinished(() => s.close());
    await connectTo(s.telemetryUrl, 'ops', 'root', { admin: true });
    const wallboard = await connectTo(s.telemetryUrl, 'acme', 'wallboard', { client_type: 'dashboard' });

    const third = `${s.telemetryUrl}?token=${await token('ops', 'root-2', { admin: true })}`;
    expect(await refused(third)).toEqual({ status: 503, body: { error: expect.any(String), error_code: 'MAX_CONNECTIONS' } });
    // The role is checked first: a human at a full stream is still told 403.
    expect((await refused(`${s.telemetryUrl}?token=${await token('acme', 'alice')}`)).status).toBe(403);
    // Observers do not count against the bus limit (maxConnections 1), nor the bus against them.
    const alice = await connectTo(s.url, 'acme', 'alice');
    await alice.barrier();

    // The server forgets the wallboard when its side of the socket closes; then a new observer fits.
    const [, serverSide] = [...s.server.bus.telemetry['observers']].map((o) => o.socket);
    const forgotten = new Promise((resolve) => serverSide!.once('close', resolve));
    await wallboard.close();
    await forgotten;
    expect(s.server.bus.telemetry.observerCount).toBe(1);
    await connectTo(s.telemetryUrl, 'ops', 'root-2', { admin: true });
    expect(s.server.bus.telemetry.observerCount).toBe(2);
  });

  it("closes an observer with 4003 when its token expires (tolerance 0); an observer with a longer token keeps its stream", async ({ onTestFinished }) => {
    const exp = 1_900_000_000; // seconds; the injected clock makes this 1.5 s away
    let skew = 0;
    const clock = (): number => Date.now() + skew;
    const s = await startServer({ auth: 'jwt', jwtSecret: SECRET, jwtClockToleranceS: 0 }, { clock });
    onTestFinished(() => s.close());
    const signing = secretSigningKey(SECRET);
    const now = exp * 1000 - 1500;
    const short = await mintToken(signing, { sub: 'short', tenant: 'ops', admin: true }, { ttlS: 60, now: now - 58_500 });
    const long = await mintToken(signing, { sub: 'long', tenant: 'ops', admin: true }, { ttlS: 3600, now });
    skew = now - Date.now();

    const { client: shortLived } = await RawClient.connect(s.telemetryUrl, { token: short });
    const { client: longLived } = await RawClient.connect(s.telemetryUrl, { token: long });
    open.push(shortLived, longLived);
    const closed = shortLived.closed.then((r) => ({ ...r, at: clock() }));

    const { code, reason, at } = await closed;
    expect(code).toBe(CLOSE_CODES.TOKEN_EXPIRED.code);
    expect(reason).toBe(CLOSE_CODES.TOKEN_EXPIRED.message);
    expect(at).toBeGreaterThanOrEqual(exp * 1000 - 15);

    // The other observer still gets events emitted after the close.
    const alice = await mintToken(signing, { sub: 'alice', tenant: 'acme' }, { ttlS: 3600, now });
    open.push((await RawClient.connect(s.url, { token: alice })).client);
    expect((await longLived.next(telemetry('connect', 'acme', 'alice'))).payload).toMatchObject({ client_type: 'human' });
    expect(longLived.ws.readyState).toBe(WebSocket.OPEN);
  });
});
