/**
 * Tenant isolation, hop by hop (the NATS-accounts table): two tenants with the
 * same room/channel names and the same `sub` names. Whatever a client of
 * tenant acme does, a client of tenant globex sees none of it. Absence is
 * proven with barriers: a command round trip on the sender and on every
 * would-be receiver after the send.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

const SECRET = 'tenancy-test-secret-0123456789abcdef';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };
const LOBBY = { room: 'lobby', channel: 'general' };

let srv: TestServer;
const open: RawClient[] = [];

async function connect(tenant: string, sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> {
  const token = await mintToken(secretSigningKey(SECRET), { sub, tenant, permissions: ALL, ...extra }, { ttlS: 600 });
  const { client } = await RawClient.connect(srv.url, { token });
  open.push(client);
  return client;
}

/** Every client has processed everything sent before this call (and received everything addressed to it). */
async function barrier(...clients: RawClient[]): Promise<void> {
  for (const c of clients) await c.barrier();
}

const isEvent = (e: Envelope): boolean => e.type === 'event' || e.type === 'private';
const isPresence = (e: Envelope): boolean => e.type === 'system' && String(e.payload['event']).startsWith('member_');
const systemEvent = (event: string, clientId?: string) => (e: Envelope): boolean =>
  e.type === 'system' && e.payload['event'] === event &&
  (clientId === undefined || (e.payload['client'] as Json | undefined)?.['client_id'] === clientId);

beforeEach(async () => {
  srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

describe('tenant isolation', () => {
  it('event fan-out: a publication reaches its own tenant only, though room, channel and sub names are shared', async () => {
    const acmeAlice = await connect('acme', 'alice');
    const acmeCarol = await connect('acme', 'carol');
    const globexAlice = await connect('globex', 'alice');
    const globexBob = await connect('globex', 'bob');
    for (const c of [acmeAlice, acmeCarol, globexAlice, globexBob]) await c.ok('join_channel', LOBBY);

    acmeAlice.send({ type: 'event', id: 'acme-1', ...LOBBY, payload: { text: 'for acme' } });
    const got = await acmeCarol.next((e) => e.type === 'event' && e.id === 'acme-1');
    expect(got).toMatchObject({ from: 'alice', ...LOBBY, payload: { text: 'for acme' } });

    globexBob.send({ type: 'event', id: 'globex-1', ...LOBBY, payload: { text: 'for globex' } });
    expect(await globexAlice.next((e) => e.type === 'event' && e.id === 'globex-1')).toMatchObject({ from: 'bob' });

    await barrier(acmeAlice, globexBob, acmeCarol, globexAlice);
    expect(globexAlice.received.filter(isEvent)).toEqual([]);
    expect(globexBob.received.filter(isEvent)).toEqual([]);
    expect(acmeAlice.received.filter(isEvent)).toEqual([]);
    expect(acmeCarol.received.filter(isEvent)).toEqual([]);
  });

  it('private messages: a target sub resolves in the sender tenant only', async () => {
    const acmeAlice = await connect('acme', 'alice');
    const acmeCarol = await connect('acme', 'carol');
    const globexAlice = await connect('globex', 'alice');
    const globexBob = await connect('globex', 'bob');

    // acme has no bob: globex's bob is not reachable from acme.
    acmeAlice.send({ type: 'private', id: 'pm-bob', payload: { target: 'bob', text: 'hi bob' } });
    const err = await acmeAlice.next((e) => e.type === 'error' && e.request_id === 'pm-bob');
    expect(err).toMatchObject({ error_code: 'UNKNOWN_TARGET', payload: { unknown_targets: ['bob'] } });

    // alice exists in both tenants: only acme's alice gets acme's message.
    acmeCarol.send({ type: 'private', id: 'pm-alice', payload: { target: 'alice', text: 'hi alice' } });
    expect(await acmeAlice.next((e) => e.type === 'private' && e.id === 'pm-alice')).toMatchObject({
      from: 'carol', payload: { target: 'alice', text: 'hi alice' },
    });

    await barrier(acmeAlice, acmeCarol, globexAlice, globexBob);
    expect(globexAlice.received.filter(isEvent)).toEqual([]);
    expect(globexBob.received.filter(isEvent)).toEqual([]);
    expect(acmeCarol.received.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('presence: member_joined, member_updated and member_left never cross tenants', async () => {
    const acmeCarol = await connect('acme', 'carol');
    const globexBob = await connect('globex', 'bob');
    await acmeCarol.ok('join_channel', LOBBY);
    await globexBob.ok('join_channel', LOBBY);

    const acmeAlice = await connect('acme', 'alice');
    const joined = await acmeAlice.ok('join_channel', LOBBY);
    // The member list is the tenant's own.
    expect((joined['members'] as Json[]).map((m) => m['client_id']).sort()).toEqual(['alice', 'carol']);
    await acmeAlice.ok('set_metadata', { screen_name: 'Alice of Acme' });
    await acmeAlice.ok('leave_channel', LOBBY);
    await acmeAlice.ok('join_channel', LOBBY);
    await acmeAlice.close(); // member_left again, from the disconnect

    // acme's other member saw all of it, in order…
    await acmeCarol.next(systemEvent('member_joined', 'alice'));
    await acmeCarol.next(systemEvent('member_updated', 'alice'));
    await acmeCarol.next(systemEvent('member_left', 'alice'));
    await acmeCarol.next(systemEvent('member_joined', 'alice'));
    await acmeCarol.next(systemEvent('member_left', 'alice'));
    // …globex's member of the same-named channel saw none of it.
    await barrier(acmeCarol, globexBob);
    expect(globexBob.received.filter(isPresence)).toEqual([]);
  });

  it('history: same-named channels keep separate streams, offsets and epochs', async () => {
    const acmeAlice = await connect('acme', 'alice');
    const globexAlice = await connect('globex', 'alice');
    const acmeJoin = await acmeAlice.ok('join_channel', LOBBY);
    for (let i = 1; i <= 3; i++) acmeAlice.send({ type: 'event', id: `a${i}`, ...LOBBY, payload: { i } });
    await acmeAlice.barrier();

    // globex's lobby:general is a different channel: created by globex's join, empty.
    const globexJoin = await globexAlice.ok('join_channel', LOBBY);
    expect(globexJoin).toMatchObject({ created: true, offset: 0 });
    expect(globexJoin['epoch']).not.toBe(acmeJoin['epoch']);
    const empty = await globexAlice.ok('history', LOBBY);
    expect(empty).toMatchObject({ messages: [], latest_offset: 0, epoch: globexJoin['epoch'] });

    globexAlice.send({ type: 'event', id: 'g1', ...LOBBY, payload: { i: 'g' } });
    await globexAlice.barrier();
    const globexHistory = await globexAlice.ok('history', LOBBY);
    expect((globexHistory['messages'] as Envelope[]).map((m) => [m.id, m.metadata?.['offset']])).toEqual([['g1', 1]]);

    const acmeHistory = await acmeAlice.ok('history', LOBBY);
    expect(acmeHistory['epoch']).toBe(acmeJoin['epoch']);
    expect((acmeHistory['messages'] as Envelope[]).map((m) => [m.id, m.metadata?.['offset']])).toEqual([['a1', 1], ['a2', 2], ['a3', 3]]);
    // An offset and epoch from one tenant mean nothing in the other.
    const resumed = await globexAlice.ok('history', { ...LOBBY, since_offset: 0, epoch: acmeJoin['epoch'] });
    expect(resumed).toMatchObject({ epoch: globexJoin['epoch'], recovered: false });
    expect((resumed['messages'] as Envelope[]).map((m) => m.id)).toEqual(['g1']);
  });

  it('list_channels, channel_info, status and whoami describe the caller tenant only', async () => {
    const acmeAlice = await connect('acme', 'alice');
    const acmeCarol = await connect('acme', 'carol');
    const globexAlice = await connect('globex', 'alice');
    await acmeAlice.ok('join_channel', LOBBY);
    await acmeCarol.ok('join_channel', LOBBY);
    await acmeAlice.ok('create_channel', { room: 'acme-only', channel: 'secret' });
    await globexAlice.ok('join_channel', LOBBY);

    const listed = await globexAlice.ok('list_channels');
    expect(listed).toMatchObject({ count: 1, rooms: 1 });
    expect(listed['channels']).toEqual([expect.objectContaining({ ...LOBBY, members: 1, joined: true })]);
    expect(await globexAlice.ok('list_channels', { room: 'acme-only' })).toMatchObject({ channels: [], count: 0 });
    expect(await acmeAlice.ok('list_channels')).toMatchObject({ count: 2, rooms: 2 });

    const info = await globexAlice.ok('channel_info', LOBBY);
    expect(info).toMatchObject({ member_count: 1, created_by: 'alice' });
    expect((info['members'] as Json[]).map((m) => m['connection_id'])).toEqual([
      (await globexAlice.ok('whoami'))['connection_id'],
    ]);
    const missing = await globexAlice.command('channel_info', { room: 'acme-only', channel: 'secret' });
    expect(missing).toMatchObject({ status: 'error', error_code: 'CHANNEL_NOT_FOUND' });
    // Nor can another tenant's channel be used by name: history, deletion.
    expect(await globexAlice.command('history', { room: 'acme-only', channel: 'secret' })).toMatchObject({ error_code: 'CHANNEL_NOT_FOUND' });

    expect(await globexAlice.ok('status')).toMatchObject({ scope: 'tenant', tenant: 'globex', connections: 1, channels: 1, rooms: 1 });
    expect(await acmeAlice.ok('status')).toMatchObject({ scope: 'tenant', tenant: 'acme', connections: 2, channels: 2, rooms: 2 });

    const me = await globexAlice.ok('whoami');
    expect(me).toMatchObject({ client_id: 'alice', tenant: 'globex', channels: ['lobby:general'], admin: false });
  });

  it('delete_channel by a tenant admin deletes its own tenant channel, never the same-named one of another tenant', async () => {
    const acmeAdmin = await connect('acme', 'root', { admin: true });
    const acmeAlice = await connect('acme', 'alice');
    const globexAlice = await connect('globex', 'alice');
    await acmeAlice.ok('join_channel', LOBBY);
    await globexAlice.ok('join_channel', LOBBY);
    globexAlice.send({ type: 'event', id: 'keep', ...LOBBY, payload: {} });
    await globexAlice.barrier();

    expect(await acmeAdmin.ok('delete_channel', LOBBY)).toMatchObject({ deleted: true, members_removed: 1 });
    await acmeAlice.next(systemEvent('channel_deleted'));
    await barrier(acmeAdmin, globexAlice);
    expect(globexAlice.received.filter((e) => e.type === 'system')).toEqual([]);
    expect(await globexAlice.ok('whoami')).toMatchObject({ channels: ['lobby:general'] });
    expect(((await globexAlice.ok('history', LOBBY))['messages'] as Envelope[]).map((m) => m.id)).toEqual(['keep']);
  });

  it('status with scope "server" is admin-only and then counts every tenant', async () => {
    const acmeAlice = await connect('acme', 'alice');
    await connect('acme', 'carol');
    const globexAlice = await connect('globex', 'alice');
    await globexAlice.ok('join_channel', LOBBY);

    const denied = await acmeAlice.command('status', { scope: 'server' });
    expect(denied).toMatchObject({ status: 'error', error_code: 'PERMISSION_DENIED', details: { action: 'admin' } });
    expect(denied).not.toHaveProperty('result');

    const admin = await connect('ops', 'root', { admin: true });
    const server = await admin.ok('status', { scope: 'server' });
    expect(server).toMatchObject({ scope: 'server', connections: 4, channels: 1, tenants: { acme: 2, globex: 1, ops: 1 } });
    // Without the scope, an admin too gets its own tenant's counts.
    expect(await admin.ok('status')).toMatchObject({ scope: 'tenant', tenant: 'ops', connections: 1, channels: 0 });
  });
});
