/**
 * Token lifetime on a live connection: `token_expiring` before expiry, close
 * 4003 at expiry, and `refresh_token` replacing the identity. JWT `exp` has
 * one-second granularity, so tokens here expire 2-3 s out; everything else
 * waits on events (the warning, a close, a command response), never a sleep.
 * The tests run concurrently against one server, each with its own subs.
 *
 * That server has jwtClockToleranceS 0, so the close comes at `exp` itself;
 * the grace the default tolerance adds is tested on its own server, with an
 * injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../src/protocol/codes.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { claims, nowS, secretKey, sign, SECRET } from './tokens.fixtures.js';

let srv: TestServer;
const clients: RawClient[] = [];

beforeAll(async () => {
  srv = await startServer({ auth: 'jwt', jwtSecret: SECRET, tokenExpiryWarningS: 1, jwtClockToleranceS: 0 });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await srv.close();
});

const token = (sub: string, extra: Record<string, unknown> = {}): Promise<string> => sign(secretKey(), 'HS256', claims(sub, extra));
const iso = (expS: number): string => new Date(expS * 1000).toISOString();
const isExpiring = (e: Envelope): boolean => e.type === 'system' && e.payload['event'] === 'token_expiring';

async function connect(tok: string): Promise<RawClient> {
  const { client } = await RawClient.connect(srv.url, { token: tok });
  clients.push(client);
  return client;
}

/** Resolves with the close code and the time it arrived. */
const closedAt = (c: RawClient): Promise<{ code: number; reason: string; at: number }> => c.closed.then((r) => ({ ...r, at: Date.now() }));

/** A `exp` 2-3 s from now: far enough that the 1 s warning is always still ahead. */
const soon = (): number => nowS() + 3;

// Node timers never fire early, but Date.now() and the timer clock may disagree by a millisecond or two.
const SLACK_MS = 15;

describe.concurrent('token lifetime', () => {
  it('warns with token_expiring 1 s before exp, then closes 4003 at exp', async () => {
    const exp = soon();
    const c = await connect(await token('warned', { exp }));
    const closed = closedAt(c);

    const warning = await c.next(isExpiring, 5000);
    const warnedAt = Date.now();
    expect(warnedAt).toBeGreaterThanOrEqual(exp * 1000 - 1000 - SLACK_MS);
    expect(warning.payload).toMatchObject({ event: 'token_expiring', expires_at: iso(exp) });
    expect(warning.payload['expires_in_ms']).toBeGreaterThan(0);
    expect(warning.payload['expires_in_ms']).toBeLessThanOrEqual(1000);
    expect(typeof warning.payload['hint']).toBe('string');

    const { code, reason, at } = await closed;
    expect(code).toBe(4003);
    expect(reason).toBe(CLOSE_CODES.TOKEN_EXPIRED.message);
    expect(at).toBeGreaterThanOrEqual(exp * 1000 - SLACK_MS);
  });

  it('refresh_token before expiry keeps the connection open past the old exp and reschedules warning and close', async () => {
    const oldExp = soon();
    const newExp = oldExp + 2;
    const c = await connect(await token('refresher', { exp: oldExp }));
    // A witness with the same old exp and no refresh: its 4003 proves the old expiry has passed.
    const witness = await connect(await token('witness', { exp: oldExp }));
    const witnessClosed = closedAt(witness);
    const closed = closedAt(c);

    const res = await c.ok('refresh_token', { token: await token('refresher', { exp: newExp }) });
    expect(res).toMatchObject({ expires_at: iso(newExp) });

    const w = await witnessClosed;
    expect(w.code).toBe(4003);
    expect(w.at).toBeGreaterThanOrEqual(oldExp * 1000 - SLACK_MS);
    await c.barrier(); // still open after the old exp
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect(c.received.filter(isExpiring)).toEqual([]); // the old warning was cancelled

    const warning = await c.next(isExpiring, 5000);
    expect(warning.payload['expires_at']).toBe(iso(newExp));
    const { code, at } = await closed;
    expect(code).toBe(4003);
    expect(at).toBeGreaterThanOrEqual(newExp * 1000 - SLACK_MS);
    expect(c.received.filter(isExpiring)).toEqual([]); // exactly one warning in total
  });

  it('refresh_token with another sub or tenant → AUTH_TOKEN_MISMATCH; the connection still closes at the old exp', async () => {
    const exp = soon();
    const c = await connect(await token('mismatch', { exp }));
    const closed = closedAt(c);

    for (const other of [await token('someone-else', { exp: exp + 600 }), await token('mismatch', { tenant: 'acme', exp: exp + 600 })]) {
      const res = await c.command('refresh_token', { token: other });
      expect(res).toMatchObject({ status: 'error', error_code: 'AUTH_TOKEN_MISMATCH' });
    }
    expect(await c.ok('whoami')).toMatchObject({ client_id: 'mismatch', tenant: 'default', expires_at: iso(exp) });

    const warning = await c.next(isExpiring, 5000);
    expect(warning.payload['expires_at']).toBe(iso(exp));
    const { code, at } = await closed;
    expect(code).toBe(4003);
    expect(at).toBeGreaterThanOrEqual(exp * 1000 - SLACK_MS);
  });

  it('refresh_token with another client_type → AUTH_TOKEN_MISMATCH naming client_type; nothing changes', async () => {
    const all = { publish: ['*'], subscribe: ['*'], history: ['*'] };
    const exp = nowS() + 600;
    const c = await connect(await token('typed', { client_type: 'ai-agent', permissions: all, exp }));
    const before = await c.ok('whoami');
    expect(before).toMatchObject({ client_type: 'ai-agent', expires_at: iso(exp) });

    // Another type, and a token without the claim (which means human), are both refused.
    for (const other of [await token('typed', { client_type: 'service', exp: exp + 600 }), await token('typed', { exp: exp + 600 })]) {
      const res = await c.command('refresh_token', { token: other });
      expect(res).toMatchObject({ status: 'error', error_code: 'AUTH_TOKEN_MISMATCH', retryable: false });
      expect(res['error']).toMatch(/client_type/);
    }
    // The sub mismatch's text names client_type among what must stay the same.
    const bySub = await c.command('refresh_token', { token: await token('not-typed', { client_type: 'ai-agent' }) });
    expect(bySub).toMatchObject({ error_code: 'AUTH_TOKEN_MISMATCH', error: expect.stringMatching(/sub, tenant and client_type/) });
    expect(await c.ok('whoami')).toEqual({ ...before, last_activity: expect.any(String) });

    // The same client_type is accepted.
    const ok = await c.ok('refresh_token', { token: await token('typed', { client_type: 'ai-agent', permissions: all, exp: exp + 600 }) });
    expect(ok).toMatchObject({ expires_at: iso(exp + 600) });
  });

  it('refresh_token adopts a new screen_name from the token: channel peers get member_updated; the same or no screen_name changes nothing', async () => {
    const tenant = 'screen-refresh';
    const all = { publish: ['*'], subscribe: ['*'], history: ['*'] };
    const peer = await connect(await token('peer', { tenant, permissions: all }));
    await peer.ok('join_channel', { room: 'lobby', channel: 'general' });
    // No screen_name claim: the query parameter names the connection.
    const { client: c } = await RawClient.connect(srv.url, { token: await token('renamed', { tenant, permissions: all }), screen_name: 'Query' });
    clients.push(c);
    await c.ok('join_channel', { room: 'lobby', channel: 'general' });
    await c.ok('join_channel', { room: 'lobby', channel: 'solo' });
    await peer.next((e) => e.type === 'system' && e.payload['event'] === 'member_joined');

    await c.ok('refresh_token', { token: await token('renamed', { tenant, permissions: all, screen_name: 'New Name' }) });
    const updated = await peer.next((e) => e.type === 'system' && e.payload['event'] === 'member_updated');
    expect(updated).toMatchObject({ room: 'lobby', channel: 'general' });
    expect(updated.payload['client']).toMatchObject({ client_id: 'renamed', screen_name: 'New Name', client_type: 'human' });
    expect(await c.ok('whoami')).toMatchObject({ screen_name: 'New Name' });

    // The same name again, then a token without the claim: the name stays, nobody is told.
    await c.ok('refresh_token', { token: await token('renamed', { tenant, permissions: all, screen_name: 'New Name' }) });
    await c.ok('refresh_token', { token: await token('renamed', { tenant, permissions: all }) });
    c.send({ type: 'event', id: 'after-renames', room: 'lobby', channel: 'general', payload: {} });
    await peer.next((e) => e.type === 'event' && e.id === 'after-renames'); // everything sent before it has arrived
    expect(peer.received.filter((e) => e.type === 'system' && e.payload['event'] === 'member_updated')).toEqual([]);
    expect(c.received.filter((e) => e.type === 'system' && e.payload['event'] === 'member_updated')).toEqual([]);
    expect(await c.ok('whoami')).toMatchObject({ screen_name: 'New Name' });
  });

  it('refresh_token with an unusable token fails with its AUTH_* code and changes nothing', async () => {
    const c = await connect(await token('garbage-refresh'));
    const before = await c.ok('whoami');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ token: 'garbage' }, 'AUTH_TOKEN_MALFORMED'],
      [{ token: 'a.b.c.d' }, 'AUTH_TOKEN_MALFORMED'],
      [{ token: await token('garbage-refresh', { exp: nowS() - 60 }) }, 'AUTH_TOKEN_EXPIRED'],
      [{ token: await sign(secretKey('a-different-secret-that-is-32-chars-long'), 'HS256', claims('garbage-refresh')) }, 'AUTH_BAD_SIGNATURE'],
      [{ token: 'x'.repeat(9000) }, 'AUTH_TOKEN_TOO_LARGE'],
      [{}, 'INVALID_PARAMETERS'],
      [{ token: 42 }, 'INVALID_PARAMETERS'],
    ];
    for (const [params, code] of cases) {
      const res = await c.command('refresh_token', params);
      expect(res, JSON.stringify(params).slice(0, 60)).toMatchObject({ status: 'error', error_code: code });
    }
    expect(await c.ok('whoami')).toEqual({ ...before, last_activity: expect.any(String) });
  });

  it('permissions from the refreshed token apply to later actions', async () => {
    const tenant = 'perm-refresh';
    const all = { publish: ['*'], subscribe: ['*'], history: ['*'] };
    const peer = await connect(await token('peer', { tenant, permissions: all }));
    const observer = await connect(await token('observer', { tenant, permissions: all }));
    await peer.ok('join_channel', { room: 'lobby', channel: 'general' });
    await observer.ok('join_channel', { room: 'lobby', channel: 'general' });
    const c = await connect(await token('limited', { tenant, permissions: { subscribe: ['lobby:*'] } }));
    await c.ok('join_channel', { room: 'lobby', channel: 'general' });

    c.send({ type: 'event', id: 'e-denied', room: 'lobby', channel: 'general', payload: { n: 1 } });
    const denied = await c.next((e) => e.type === 'error' && e.request_id === 'e-denied');
    expect(denied.error_code).toBe('PERMISSION_DENIED');

    // Grant publish on lobby:*.
    await c.ok('refresh_token', { token: await token('limited', { tenant, permissions: { subscribe: ['lobby:*'], publish: ['lobby:*'] } }) });
    c.send({ type: 'event', id: 'e-allowed', room: 'lobby', channel: 'general', payload: { n: 2 } });
    const got = await peer.next((e) => e.type === 'event' && e.id === 'e-allowed');
    expect(got.from).toBe('limited');
    expect(got.payload).toEqual({ n: 2 });

    // Withdraw subscribe: joining is denied, whoami shows the new grants, and events stop arriving.
    await c.ok('refresh_token', { token: await token('limited', { tenant, permissions: { publish: ['lobby:*'] } }) });
    expect(await c.command('join_channel', { room: 'lobby', channel: 'random' })).toMatchObject({
      status: 'error',
      error_code: 'PERMISSION_DENIED',
    });
    expect(await c.ok('whoami')).toMatchObject({ permissions: { publish: ['lobby:*'], subscribe: [], history: [] } });
    peer.send({ type: 'event', id: 'e-after', room: 'lobby', channel: 'general', payload: { n: 3 } });
    await observer.next((e) => e.type === 'event' && e.id === 'e-after'); // the fan-out has happened
    await c.barrier(); // anything sent to c before it has arrived
    expect(c.received.filter((e) => e.type === 'event' && e.id === 'e-after')).toEqual([]);
    expect(peer.received.filter((e) => e.type === 'event' && e.id === 'e-denied')).toEqual([]);
  });
});

describe('clock tolerance on a live connection (injected server clock)', () => {
  it('a token accepted 3 s after exp (default 5 s tolerance) is not closed at the welcome, and is closed 4003 at exp + 5 s', async ({ onTestFinished }) => {
    const exp = 1_900_000_000; // seconds, far from the real clock: only the injected one makes the token current
    let skew = 0;
    const clock = (): number => Date.now() + skew;
    const s = await startServer({ auth: 'jwt', jwtSecret: SECRET, tokenExpiryWarningS: 1 }, { clock });
    onTestFinished(() => s.close());
    const late = await token('late', { iat: exp - 60, exp });
    skew = exp * 1000 + 3000 - Date.now(); // the server's now is 3 s past exp

    const { client: c, welcome } = await RawClient.connect(s.url, { token: late });
    clients.push(c);
    const closed = c.closed.then((r) => ({ ...r, at: clock() }));
    expect(welcome.payload['identity']).toMatchObject({ expires_at: iso(exp) });
    await c.barrier(); // answered after the welcome: the connection was not closed at once
    expect(c.ws.readyState).toBe(c.ws.OPEN);

    const { code, reason, at } = await closed;
    expect(code).toBe(4003);
    expect(reason).toBe(CLOSE_CODES.TOKEN_EXPIRED.message);
    expect(at).toBeGreaterThanOrEqual(exp * 1000 + 5000 - SLACK_MS);
    expect(at).toBeLessThan(exp * 1000 + 5000 + 1000);
    expect(c.received.filter(isExpiring)).toEqual([]); // already past exp when it connected: no warning
  });
});
