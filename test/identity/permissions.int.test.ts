/**
 * Permission checks on every hop, against a real JWT server: each denial is
 * PERMISSION_DENIED with `details.action` (or `payload.action` on an error
 * envelope), and nothing is delivered, created or stored. Absence is proven
 * with barriers on the sender and on every would-be receiver.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

const SECRET = 'permissions-test-secret-0123456789abcdef';
const TENANT = 'acme';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };

let srv: TestServer;
const open: RawClient[] = [];

function token(sub: string, extra: Partial<TokenClaims> = {}): Promise<string> {
  return mintToken(secretSigningKey(SECRET), { sub, tenant: TENANT, ...extra }, { ttlS: 600 });
}

async function connect(sub: string, extra: Partial<TokenClaims> = {}, query: Record<string, string> = {}): Promise<RawClient> {
  const { client } = await RawClient.connect(srv.url, { ...query, token: await token(sub, extra) });
  open.push(client);
  return client;
}

/** A client allowed everything in the tenant (not admin): the witness that checks nothing arrived or was stored. */
const witness = (): Promise<RawClient> => connect('witness', { permissions: ALL });

async function barrier(...clients: RawClient[]): Promise<void> {
  for (const c of clients) await c.barrier();
}

async function expectDenied(client: RawClient, command: string, params: Json, action: string): Promise<Json> {
  const res = await client.command(command, params);
  expect(res).toMatchObject({ status: 'error', error_code: 'PERMISSION_DENIED', retryable: false, details: { action } });
  expect(res).not.toHaveProperty('result');
  return res;
}

const historyIds = async (client: RawClient, room: string, channel: string): Promise<string[]> =>
  ((await client.ok('history', { room, channel }))['messages'] as Envelope[]).map((m) => m.id);
const isEvent = (e: Envelope): boolean => e.type === 'event' || e.type === 'private';
const isSystem = (e: Envelope): boolean => e.type === 'system';

beforeEach(async () => {
  srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

describe('subscribe: join_channel, create_channel, channel_info, list_channels', () => {
  it('refuses join and create outside the subscribe patterns: no channel, no membership, no presence', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'other', channel: 'x' });
    const lobbyOnly = await connect('lobbyist', { permissions: { publish: ['lobby:*'], subscribe: ['lobby:*'], history: ['lobby:*'] } });

    const join = await expectDenied(lobbyOnly, 'join_channel', { room: 'other', channel: 'x' }, 'subscribe');
    expect(join['details']).toMatchObject({ room: 'other', channel: 'x' });
    await expectDenied(lobbyOnly, 'join_channel', { channel: 'other:y' }, 'subscribe');
    await expectDenied(lobbyOnly, 'create_channel', { room: 'other', channel: 'z' }, 'subscribe');

    await barrier(lobbyOnly, w);
    expect(w.received.filter(isSystem)).toEqual([]); // no member_joined from the refused join
    expect((await w.ok('channel_info', { room: 'other', channel: 'x' }))['member_count']).toBe(1);
    expect(await w.ok('list_channels', { room: 'other' })).toMatchObject({ count: 1, channels: [expect.objectContaining({ channel: 'x' })] });
    expect(await lobbyOnly.ok('whoami')).toMatchObject({ channels: [] });
  });

  it('`lobby:*` allows any lobby channel and nothing else; `team-*:general` only the general channel of team-… rooms', async () => {
    const c = await connect('patterned', { permissions: { subscribe: ['lobby:*', 'team-*:general'] } });
    for (const [room, channel] of [['lobby', 'x'], ['lobby', 'general'], ['team-red', 'general'], ['team-', 'general']] as const) {
      expect(await c.ok('join_channel', { room, channel })).toMatchObject({ room, channel, joined: true });
    }
    for (const [room, channel] of [['other', 'x'], ['lobbyx', 'x'], ['team-red', 'random'], ['teamred', 'general'], ['xteam-red', 'general']] as const) {
      await expectDenied(c, 'join_channel', { room, channel }, 'subscribe');
    }
    expect(((await c.ok('whoami'))['channels'] as string[]).sort()).toEqual(['lobby:general', 'lobby:x', 'team-:general', 'team-red:general']);
  });

  it('channel_info needs subscribe, and a denial does not reveal whether the channel exists', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'other', channel: 'x' });
    const c = await connect('lobbyist', { permissions: { subscribe: ['lobby:*'] } });
    await expectDenied(c, 'channel_info', { room: 'other', channel: 'x' }, 'subscribe');
    await expectDenied(c, 'channel_info', { room: 'other', channel: 'missing' }, 'subscribe');
    // Allowed and missing: the ordinary error.
    expect(await c.command('channel_info', { room: 'lobby', channel: 'missing' })).toMatchObject({ error_code: 'CHANNEL_NOT_FOUND' });
  });

  it('list_channels lists only the channels the identity may subscribe to', async () => {
    const w = await witness();
    for (const [room, channel] of [['lobby', 'a'], ['lobby', 'b'], ['other', 'x'], ['team-red', 'general'], ['team-red', 'random']]) {
      await w.ok('create_channel', { room, channel });
    }
    const c = await connect('patterned', { permissions: { subscribe: ['lobby:*', 'team-*:general'] } });
    const listed = await c.ok('list_channels');
    const names = (listed['channels'] as Json[]).map((ch) => `${String(ch['room'])}:${String(ch['channel'])}`).sort();
    expect(names).toEqual(['lobby:a', 'lobby:b', 'team-red:general']);
    expect(listed['count']).toBe(3);
    expect(await c.ok('list_channels', { room: 'other' })).toMatchObject({ channels: [], count: 0 });
  });

  it('list_channels counts only the rooms of the channels it lists; status still counts the whole tenant', async () => {
    const w = await witness();
    for (const [room, channel] of [['lobby', 'a'], ['lobby', 'b'], ['secret', 'x'], ['ops', 'alerts'], ['ops', 'log']]) {
      await w.ok('create_channel', { room, channel });
    }
    const c = await connect('roomy', { permissions: { subscribe: ['lobby:*', 'ops:alerts'] } });
    expect(await c.ok('list_channels')).toMatchObject({ count: 3, rooms: 2 });
    expect(await c.ok('list_channels', { room: 'ops' })).toMatchObject({ count: 1, rooms: 1 });
    // A room it sees nothing of is not revealed, even by name.
    expect(await c.ok('list_channels', { room: 'secret' })).toEqual({ channels: [], count: 0, rooms: 0 });
    expect(await w.ok('list_channels')).toMatchObject({ count: 5, rooms: 3 });
    expect(await c.ok('status')).toMatchObject({ channels: 5, rooms: 3 });
  });
});

describe('publish', () => {
  it('refuses a member without publish permission: error envelope with the action, nothing delivered or stored', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'other', channel: 'x' });
    const reader = await connect('reader', { permissions: { subscribe: ['*'], publish: ['lobby:*'], history: ['*'] } });
    await reader.ok('join_channel', { room: 'other', channel: 'x' });

    reader.send({ type: 'event', id: 'ev-denied', room: 'other', channel: 'x', payload: { text: 'should not land' } });
    const err = await reader.next((e) => e.type === 'error' && e.request_id === 'ev-denied');
    expect(err).toMatchObject({
      error_code: 'PERMISSION_DENIED', retryable: false, room: 'other', channel: 'x',
      payload: { reason: 'PERMISSION_DENIED', action: 'publish', room: 'other', channel: 'x' },
    });

    await barrier(reader, w);
    expect(w.received.filter(isEvent)).toEqual([]);
    expect(await historyIds(w, 'other', 'x')).toEqual([]);
    // The same identity publishes where its patterns allow it.
    await reader.ok('join_channel', { room: 'lobby', channel: 'x' });
    await w.ok('join_channel', { room: 'lobby', channel: 'x' });
    reader.send({ type: 'event', id: 'ev-ok', room: 'lobby', channel: 'x', payload: {} });
    expect(await w.next((e) => e.type === 'event' && e.id === 'ev-ok')).toMatchObject({ from: 'reader' });
  });
});

describe('history', () => {
  it('refuses history without history permission, whether or not the channel exists', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'lobby', channel: 'x' });
    w.send({ type: 'event', id: 'm1', room: 'lobby', channel: 'x', payload: {} });
    await w.barrier();
    const member = await connect('member', { permissions: { subscribe: ['*'], publish: ['*'] } });
    await member.ok('join_channel', { room: 'lobby', channel: 'x' });

    const res = await expectDenied(member, 'history', { room: 'lobby', channel: 'x' }, 'history');
    expect(res['details']).toMatchObject({ room: 'lobby', channel: 'x' });
    await expectDenied(member, 'history', { room: 'lobby', channel: 'missing' }, 'history');
    expect(await historyIds(w, 'lobby', 'x')).toEqual(['m1']);
  });
});

describe('delete_channel', () => {
  it('needs admin; a refusal leaves channel, members and history intact; an admin deletes', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'lobby', channel: 'x' });
    w.send({ type: 'event', id: 'm1', room: 'lobby', channel: 'x', payload: {} });
    await w.barrier();

    await expectDenied(w, 'delete_channel', { room: 'lobby', channel: 'x' }, 'admin');
    await w.barrier();
    expect(w.received.filter(isSystem)).toEqual([]);
    expect(await w.ok('channel_info', { room: 'lobby', channel: 'x' })).toMatchObject({ member_count: 1, offset: 1 });
    expect(await historyIds(w, 'lobby', 'x')).toEqual(['m1']);

    const admin = await connect('root', { admin: true });
    expect(await admin.ok('delete_channel', { room: 'lobby', channel: 'x' })).toMatchObject({ deleted: true, members_removed: 1 });
    expect((await w.next((e) => e.type === 'system' && e.payload['event'] === 'channel_deleted')).payload).toMatchObject({ by: 'root' });
    expect(await w.command('channel_info', { room: 'lobby', channel: 'x' })).toMatchObject({ error_code: 'CHANNEL_NOT_FOUND' });
  });
});

describe('set_metadata', () => {
  it('cannot change client_type (it comes from the token) but may change screen_name', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'lobby', channel: 'x' });
    const c = await connect('agent', { client_type: 'ai-agent', permissions: ALL });
    await c.ok('join_channel', { room: 'lobby', channel: 'x' });

    await expectDenied(c, 'set_metadata', { client_type: 'dashboard', screen_name: 'sneaky' }, 'client_type');
    await barrier(c, w);
    expect(w.received.filter((e) => e.type === 'system' && e.payload['event'] === 'member_updated')).toEqual([]);
    expect(await c.ok('whoami')).toMatchObject({ client_type: 'ai-agent', screen_name: null });

    // Restating the token's own type is not a change.
    expect(await c.ok('set_metadata', { client_type: 'ai-agent', screen_name: 'Ada' })).toMatchObject({ client_type: 'ai-agent', screen_name: 'Ada' });
    const updated = await w.next((e) => e.type === 'system' && e.payload['event'] === 'member_updated');
    expect(updated.payload['client']).toMatchObject({ client_id: 'agent', client_type: 'ai-agent', screen_name: 'Ada' });
  });

  it('the upgrade query cannot choose client_type either: the token decides', async () => {
    const c = await connect('plain', { permissions: ALL }, { client_type: 'dashboard', screen_name: 'from-query' });
    expect(await c.ok('whoami')).toMatchObject({ client_type: 'human', screen_name: 'from-query' });
  });
});

describe('a token without a permissions claim', () => {
  it('can do nothing channel-related (fail closed) but can ping, whoami and send private messages', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'lobby', channel: 'x' });
    w.send({ type: 'event', id: 'm1', room: 'lobby', channel: 'x', payload: {} });
    await w.barrier();
    const bare = await connect('bare');

    await expectDenied(bare, 'join_channel', { room: 'lobby', channel: 'x' }, 'subscribe');
    await expectDenied(bare, 'create_channel', { room: 'lobby', channel: 'new' }, 'subscribe');
    await expectDenied(bare, 'channel_info', { room: 'lobby', channel: 'x' }, 'subscribe');
    await expectDenied(bare, 'history', { room: 'lobby', channel: 'x' }, 'history');
    await expectDenied(bare, 'delete_channel', { room: 'lobby', channel: 'x' }, 'admin');
    await expectDenied(bare, 'status', { scope: 'server' }, 'admin');
    expect(await bare.ok('list_channels')).toMatchObject({ channels: [], count: 0 });
    bare.send({ type: 'event', id: 'ev-bare', room: 'lobby', channel: 'x', payload: {} });
    expect(await bare.next((e) => e.type === 'error' && e.request_id === 'ev-bare')).toMatchObject({
      error_code: 'PERMISSION_DENIED', payload: { action: 'publish' },
    });

    expect(await bare.ok('ping')).toMatchObject({ pong: true });
    expect(await bare.ok('whoami')).toMatchObject({
      client_id: 'bare', tenant: TENANT, admin: false, channels: [],
      permissions: { publish: [], subscribe: [], history: [] },
    });
    bare.send({ type: 'private', id: 'pm-1', payload: { target: 'witness', text: 'hello' } });
    expect(await w.next((e) => e.type === 'private' && e.id === 'pm-1')).toMatchObject({ from: 'bare', payload: { text: 'hello' } });

    await barrier(bare, w);
    expect(w.received.filter((e) => isEvent(e) || isSystem(e))).toEqual([]);
    expect(await historyIds(w, 'lobby', 'x')).toEqual(['m1']);
    expect(await w.ok('list_channels', { room: 'lobby' })).toMatchObject({ count: 1 });
  });
});

describe('sender fields are set by the server', () => {
  it('ignores a client-supplied from, sender, tenant or client_type: delivered and stored `from` is the token sub', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'lobby', channel: 'x' });
    const c = await connect('mallory', { permissions: ALL });
    await c.ok('join_channel', { room: 'lobby', channel: 'x' });
    const forged = { from: 'witness', sender: 'root', tenant: 'globex', client_type: 'service' };

    c.send({ type: 'event', id: 'forged-ev', room: 'lobby', channel: 'x', ...forged, payload: { text: 'hi' } });
    const ev = await w.next((e) => e.type === 'event' && e.id === 'forged-ev');
    expect(ev.from).toBe('mallory');
    expect(ev).not.toHaveProperty('sender');
    expect(ev).not.toHaveProperty('tenant');
    expect(ev).not.toHaveProperty('client_type');
    const stored = ((await w.ok('history', { room: 'lobby', channel: 'x' }))['messages'] as Envelope[])[0]!;
    expect(stored).toMatchObject({ id: 'forged-ev', from: 'mallory' });
    expect(stored).not.toHaveProperty('sender');

    c.send({ type: 'private', id: 'forged-pm', ...forged, payload: { target: 'witness' } });
    const pm = await w.next((e) => e.type === 'private' && e.id === 'forged-pm');
    expect(pm.from).toBe('mallory');
    expect(pm).not.toHaveProperty('sender');

    // A forged command frame changes nothing about who the caller is.
    c.send({ type: 'command', id: 'forged-cmd', ...forged, payload: { command: 'whoami', parameters: {} } });
    const who = await c.next((e) => e.type === 'command_response' && e.payload['request_id'] === 'forged-cmd');
    expect(who.payload['result']).toMatchObject({ client_id: 'mallory', tenant: TENANT, client_type: 'human' });
  });
});

describe('refresh_token', () => {
  it('narrower permissions apply to channels already joined: they are left and deliver nothing more', async () => {
    const w = await witness();
    await w.ok('join_channel', { room: 'other', channel: 'x' });
    const c = await connect('shrinking', { permissions: ALL });
    await c.ok('join_channel', { room: 'other', channel: 'x' });
    await c.ok('join_channel', { room: 'lobby', channel: 'x' });

    const narrower = await token('shrinking', { permissions: { subscribe: ['lobby:*'], publish: ['lobby:*'] } });
    const res = await c.ok('refresh_token', { token: narrower });
    expect(res['revoked_channels']).toEqual(['other:x']);
    expect((await w.next((e) => e.type === 'system' && e.payload['event'] === 'member_left')).payload['client']).toMatchObject({
      client_id: 'shrinking',
    });
    expect(await c.ok('whoami')).toMatchObject({ channels: ['lobby:x'] });

    w.send({ type: 'event', id: 'after-refresh', room: 'other', channel: 'x', payload: {} });
    await barrier(w, c);
    expect(c.received.filter(isEvent)).toEqual([]);
    expect(await w.ok('channel_info', { room: 'other', channel: 'x' })).toMatchObject({ member_count: 1 });
  });
});
