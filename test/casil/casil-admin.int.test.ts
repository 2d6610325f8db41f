/**
 * CASIL per tenant (JWT identities), the admin-only reload and status
 * commands, fail closed on an internal error (a failing detector injected
 * through the server's test seam), and the metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Detector } from '../../src/casil/types.js';
import type { ServerOptions } from '../../src/edge/server.js';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

const SECRET = 'casil-test-secret-0123456789abcdef0123';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };
const AWS_KEY = 'AKIA' + 'Q3EGRIVXNXT7HZWA';

let srv: TestServer;
const open: RawClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

async function start(overrides: Json = {}, options: ServerOptions = {}): Promise<void> {
  const all: Parameters<typeof startServer>[0] & Json = { auth: 'jwt', jwtSecret: SECRET, ...overrides };
  srv = await startServer(all, options);
}

async function connect(tenant: string, sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> {
  const token = await mintToken(secretSigningKey(SECRET), { sub, tenant, permissions: ALL, ...extra }, { ttlS: 600 });
  const { client } = await RawClient.connect(srv.url, { token });
  open.push(client);
  return client;
}

/** Two members of lobby:general in one tenant. */
async function pair(tenant: string): Promise<[RawClient, RawClient]> {
  const a = await connect(tenant, `${tenant}-a`);
  const b = await connect(tenant, `${tenant}-b`);
  for (const c of [a, b]) await c.ok('join_channel', { room: 'lobby', channel: 'general' });
  return [a, b];
}

const eventId = (id: string) => (e: Envelope): boolean => e.type === 'event' && e.id === id;
const errorFor = (id: string) => (e: Envelope): boolean => e.type === 'error' && e.request_id === id;

/** Publishes and returns what b got, or the error a got. */
async function publish(a: RawClient, b: RawClient, id: string, payload: Json): Promise<{ delivered?: Json; error?: string }> {
  a.send({ type: 'event', id, room: 'lobby', channel: 'general', payload });
  const first = await Promise.race([b.next(eventId(id)).then((e) => ({ delivered: e.payload })), a.next(errorFor(id)).then((e) => ({ error: e.error_code! }))]);
  return first;
}

describe('per-tenant policy', () => {
  it('each tenant gets its own mode and scopes; others keep the server default', async () => {
    await start({
      casil: {
        tenants: {
          acme: { scopes: [{ include: ['*'], pii: ['email'], secrets: 'redact' }] },
          lab: { mode: 'monitor' },
          sandbox: { mode: 'off' },
        },
      },
    });
    const [acmeA, acmeB] = await pair('acme');
    expect(await publish(acmeA, acmeB, 'e1', { text: `mail x@y.io key ${AWS_KEY}` })).toEqual({
      delivered: { text: 'mail [REDACTED:email] key [REDACTED:aws_access_key]' },
    });
    const [labA, labB] = await pair('lab');
    expect(await publish(labA, labB, 'e2', { text: `key ${AWS_KEY}` })).toEqual({ delivered: { text: `key ${AWS_KEY}` } });
    const [sbA, sbB] = await pair('sandbox');
    expect(await publish(sbA, sbB, 'e3', { text: `key ${AWS_KEY}` })).toEqual({ delivered: { text: `key ${AWS_KEY}` } });
    const [defA, defB] = await pair('default');
    expect(await publish(defA, defB, 'e4', { text: `key ${AWS_KEY}` })).toEqual({ error: 'CASIL_POLICY_BLOCKED_SECRET' });
    expect(await publish(defA, defB, 'e5', { text: 'mail x@y.io' })).toEqual({ delivered: { text: 'mail x@y.io' } });
  });

  it('scope include/exclude decide which channels are inspected', async () => {
    await start({ casil: { scopes: [{ include: ['secure-*'], exclude: ['secure-public:*'] }] } });
    const a = await connect('default', 'a');
    const b = await connect('default', 'b');
    for (const room of ['secure-ops', 'secure-public', 'lobby']) {
      for (const c of [a, b]) await c.ok('join_channel', { room, channel: 'x' });
    }
    const send = async (room: string, id: string): Promise<string> => {
      a.send({ type: 'event', id, room, channel: 'x', payload: { text: AWS_KEY } });
      return Promise.race([b.next(eventId(id)).then(() => 'delivered'), a.next(errorFor(id)).then((e) => e.error_code!)]);
    };
    expect(await send('secure-ops', 's1')).toBe('CASIL_POLICY_BLOCKED_SECRET');
    expect(await send('secure-public', 's2')).toBe('delivered');
    expect(await send('lobby', 's3')).toBe('delivered');
  });
});

describe('casil_reload and casil_status', () => {
  it('is admin-only', async () => {
    await start();
    const user = await connect('default', 'user');
    for (const command of ['casil_reload', 'casil_status']) {
      expect(await user.command(command, { policy: {} })).toMatchObject({ status: 'error', error_code: 'PERMISSION_DENIED', details: { action: 'admin' } });
    }
  });

  it('refuses an invalid policy with CASIL_POLICY_INVALID naming the path, and keeps the old one', async () => {
    await start();
    const admin = await connect('default', 'root', { admin: true });
    const [a, b] = await pair('default');
    const bad = await admin.command('casil_reload', { policy: { scopes: [{ include: ['*'], secrets: 'shred' }] } });
    expect(bad).toMatchObject({
      status: 'error', error_code: 'CASIL_POLICY_INVALID', retryable: false,
      error: 'policy.scopes[0].secrets: expected one of block, redact, allow',
    });
    expect(await admin.command('casil_reload', {})).toMatchObject({ status: 'error', error_code: 'INVALID_PARAMETERS', details: { parameter: 'policy' } });
    expect(await publish(a, b, 'k1', { text: AWS_KEY })).toEqual({ error: 'CASIL_POLICY_BLOCKED_SECRET' });
    expect(await admin.ok('casil_status')).toMatchObject({ version: 1, mode: 'enforce', default_decision: 'block', policy: null });
  });

  it('applies a valid policy at once; null restores the built-in default', async () => {
    await start();
    const admin = await connect('default', 'root', { admin: true });
    const [a, b] = await pair('default');
    const policy = { scopes: [{ name: 'soft', include: ['*'], secrets: 'redact' }] };
    expect(await admin.ok('casil_reload', { policy })).toMatchObject({ reloaded: true, version: 2, scopes: [{ name: 'soft', secrets: 'redact' }] });
    expect(await publish(a, b, 'k2', { text: AWS_KEY })).toEqual({ delivered: { text: '[REDACTED:aws_access_key]' } });
    expect(await admin.ok('casil_status')).toMatchObject({ version: 2, policy });
    expect(await admin.ok('casil_reload', { policy: null })).toMatchObject({ version: 3, scopes: [{ name: 'default', secrets: 'block' }] });
    expect(await publish(a, b, 'k3', { text: AWS_KEY })).toEqual({ error: 'CASIL_POLICY_BLOCKED_SECRET' });
  });
});

describe('fail closed', () => {
  const broken: Detector = {
    name: 'broken', category: 'secret',
    detect(text) {
      if (text.includes('trigger')) throw new RangeError('detector failure');
      return [];
    },
  };

  it('blocks with CASIL_INTERNAL_ERROR when inspection fails', async () => {
    await start({}, { casilDetectors: [broken] });
    const [a, b] = await pair('default');
    a.send({ type: 'event', id: 'f1', room: 'lobby', channel: 'general', payload: { text: 'trigger' } });
    const err = await a.next(errorFor('f1'));
    expect(err).toMatchObject({ error: 'CASIL blocked message', error_code: 'CASIL_INTERNAL_ERROR', retryable: true, payload: { reason: 'CASIL_INTERNAL_ERROR' } });
    expect(await publish(a, b, 'f2', { text: 'fine' })).toEqual({ delivered: { text: 'fine' } });
    expect(b.received.filter(eventId('f1'))).toEqual([]);
  });

  it('lets the message through when the default decision is allow', async () => {
    await start({ casilDefaultDecision: 'allow' }, { casilDetectors: [broken] });
    const [a, b] = await pair('default');
    expect(await publish(a, b, 'f3', { text: 'trigger' })).toEqual({ delivered: { text: 'trigger' } });
  });
});

describe('metrics', () => {
  it('counts decisions by outcome, reason, tenant and mode, and times inspections', async () => {
    await start();
    const [a, b] = await pair('acme');
    expect(await publish(a, b, 'x1', { text: AWS_KEY })).toEqual({ error: 'CASIL_POLICY_BLOCKED_SECRET' });
    expect(await publish(a, b, 'x2', { text: 'hi' })).toEqual({ delivered: { text: 'hi' } });
    expect(await publish(a, b, 'x3', { text: 'hi again' })).toEqual({ delivered: { text: 'hi again' } });
    const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    expect(text).toContain('arqon_casil_decisions_total{outcome="BLOCK",reason="CASIL_POLICY_BLOCKED_SECRET",tenant="acme",mode="enforce"} 1');
    expect(text).toContain('arqon_casil_decisions_total{outcome="ALLOW",reason="none",tenant="acme",mode="enforce"} 2');
    expect(text).toContain('arqon_casil_inspection_seconds_count{mode="enforce"} 3');
  });
});
