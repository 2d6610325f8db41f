/**
 * Every built-in command against a real server over real WebSockets: its
 * result, the system events other members see, and the typed errors.
 */
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { VERSION } from '../../src/version.js';
import { RawClient } from '../helpers/raw-client.js';
import { refusedUpgrade } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

let srv: TestServer;
const open: RawClient[] = [];

async function connect(query: Record<string, string> = {}): Promise<RawClient> {
  const { client } = await RawClient.connect(srv.url, query);
  open.push(client);
  return client;
}

beforeEach(async () => {
  srv = await startServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

const systemEvent = (event: string) => (e: Envelope) => e.type === 'system' && e.payload['event'] === event;
const systemEvents = (c: RawClient, event: string) => c.received.filter(systemEvent(event));


describe('status', () => {
  it('reports version, tenant and counts for the caller tenant', async () => {
    const a = await connect();
    await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await a.ok('create_channel', { room: 'lab', channel: 'bench' });
    const res = await a.ok('status');
    expect(res).toMatchObject({ status: 'ok', version: VERSION, tenant: 'default', connections: 2, channels: 2, rooms: 2 });
    expect(res['uptime_s']).toEqual(expect.any(Number));
  });
});

describe('ping', () => {
  it('answers with pong and the server time', async () => {
    const a = await connect();
    const before = Date.now();
    const res = await a.ok('ping');
    const after = Date.now();
    expect(res['pong']).toBe(true);
    const serverTime = Date.parse(res['server_time'] as string);
    expect(serverTime).toBeGreaterThanOrEqual(before);
    expect(serverTime).toBeLessThanOrEqual(after);
  });
});

describe('whoami', () => {
  it('returns the profile given in the upgrade query and the joined channels', async () => {
    const { client: a, welcome } = await RawClient.connect(srv.url, {
      client_type: 'ai-agent',
      screen_name: 'Marvin',
      avatar: 'https://example.com/marvin.png',
      personality: 'gloomy',
    });
    open.push(a);
    const me = await a.ok('whoami');
    expect(me).toMatchObject({
      client_id: welcome.payload['client_id'],
      connection_id: welcome.payload['connection_id'],
      tenant: 'default',
      client_type: 'ai-agent',
      screen_name: 'Marvin',
      avatar: 'https://example.com/marvin.png',
      personality: 'gloomy',
      metadata: {},
      channels: [],
    });
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    expect((await a.ok('whoami'))['channels']).toEqual(['lobby:general']);
  });

  it('defaults to a human with no profile fields', async () => {
    const a = await connect();
    expect(await a.ok('whoami')).toMatchObject({ client_type: 'human', screen_name: null, avatar: null, personality: null });
  });

  it('refuses an invalid client_type at the upgrade with HTTP 400', async () => {
    const a = await connect();
    const { status, body } = await refusedUpgrade(`${srv.url}/?client_type=robot`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error_code: 'INVALID_PARAMETERS' });
    expect(body['error']).toMatch(/client_type/);
    // The refused attempt never became a connection.
    expect((await a.ok('status'))['connections']).toBe(1);
  });

  it('refuses an over-long screen_name at the upgrade with HTTP 400', async () => {
    const { status, body } = await refusedUpgrade(`${srv.url}/?screen_name=${'n'.repeat(129)}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error_code: 'INVALID_PARAMETERS' });
    expect(body['error']).toMatch(/screen_name/);
  });
});

describe('set_metadata', () => {
  it('updates the profile and tells the other members of joined channels', async () => {
    const a = await connect({ screen_name: 'alice' });
    const b = await connect();
    const outsider = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { room: 'lobby', channel: 'general' });
    await outsider.ok('join_channel', { room: 'lobby', channel: 'other' });

    const result = await a.ok('set_metadata', {
      screen_name: 'alice2',
      avatar: 'a.png',
      personality: 'curious',
      client_type: 'service',
      metadata: { mood: 'happy', level: 3 },
    });
    const profile = { client_id: a.clientId, screen_name: 'alice2', avatar: 'a.png', personality: 'curious', client_type: 'service', metadata: { mood: 'happy', level: 3 } };
    expect(result).toMatchObject(profile);
    expect(await a.ok('whoami')).toMatchObject(profile);

    const updated = await b.next(systemEvent('member_updated'));
    expect(updated).toMatchObject({ room: 'lobby', channel: 'general', payload: { room: 'lobby', channel: 'general', client: profile } });

    // Neither the caller nor a client in no shared channel is told.
    await outsider.barrier();
    expect(systemEvents(outsider, 'member_updated')).toEqual([]);
    expect(systemEvents(a, 'member_updated')).toEqual([]);
  });

  it('keeps fields that are not given', async () => {
    const a = await connect({ screen_name: 'alice', client_type: 'dashboard' });
    await a.ok('set_metadata', { metadata: { k: 1 } });
    expect(await a.ok('whoami')).toMatchObject({ screen_name: 'alice', client_type: 'dashboard', metadata: { k: 1 } });
  });

  it('rejects an invalid client_type and leaves the profile unchanged', async () => {
    const a = await connect({ screen_name: 'alice' });
    const res = await a.command('set_metadata', { client_type: 'robot', screen_name: 'mallory' });
    expect(res).toMatchObject({ status: 'error', error_code: 'INVALID_PARAMETERS', details: { parameter: 'client_type' } });
    expect(await a.ok('whoami')).toMatchObject({ screen_name: 'alice', client_type: 'human' });
  });

  it('rejects metadata over 16 KiB', async () => {
    const a = await connect();
    const res = await a.command('set_metadata', { metadata: { blob: 'x'.repeat(17 * 1024) } });
    expect(res).toMatchObject({ status: 'error', error_code: 'INVALID_PARAMETERS', details: { parameter: 'metadata' } });
    expect((await a.ok('whoami'))['metadata']).toEqual({});
  });
});

describe('create_channel', () => {
  it('creates a channel once, then answers CHANNEL_EXISTS', async () => {
    const a = await connect();
    const created = await a.ok('create_channel', { room: 'lobby', channel: 'general' });
    expect(created).toMatchObject({ room: 'lobby', channel: 'general' });
    expect(Number.isNaN(Date.parse(created['created_at'] as string))).toBe(false);

    const { channels } = await a.ok<{ channels: Json[] }>('list_channels');
    expect(channels).toEqual([expect.objectContaining({ room: 'lobby', channel: 'general', members: 0, joined: false })]);

    const again = await a.command('create_channel', { channel: 'lobby:general' });
    expect(again).toMatchObject({ status: 'error', error_code: 'CHANNEL_EXISTS', retryable: false });
  });
});

describe('delete_channel', () => {
  it('tells the members, drops the history, and answers CHANNEL_NOT_FOUND on repeat', async () => {
    const a = await connect();
    const b = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { room: 'lobby', channel: 'general' });
    a.send({ type: 'event', id: 'before-delete', room: 'lobby', channel: 'general', payload: { n: 1 } });
    await b.next((e) => e.type === 'event' && e.id === 'before-delete');

    const res = await a.ok('delete_channel', { room: 'lobby', channel: 'general' });
    expect(res).toMatchObject({ room: 'lobby', channel: 'general', deleted: true, members_removed: 2 });
    for (const c of [a, b]) {
      const deleted = await c.next(systemEvent('channel_deleted'));
      expect(deleted).toMatchObject({ room: 'lobby', channel: 'general', payload: { room: 'lobby', channel: 'general', by: a.clientId } });
    }

    expect(await a.command('history', { room: 'lobby', channel: 'general' })).toMatchObject({ status: 'error', error_code: 'CHANNEL_NOT_FOUND' });
    expect((await a.ok('list_channels'))['channels']).toEqual([]);
    expect((await b.ok('whoami'))['channels']).toEqual([]);
    expect(await a.command('delete_channel', { room: 'lobby', channel: 'general' })).toMatchObject({
      status: 'error',
      error_code: 'CHANNEL_NOT_FOUND',
    });

    // Recreated, the channel starts without the old history.
    await b.ok('join_channel', { room: 'lobby', channel: 'general' });
    expect((await b.ok('history', { room: 'lobby', channel: 'general' }))['messages']).toEqual([]);
  });
});

describe('join_channel', () => {
  it('accepts room + channel and "room:channel", returns members and position, and tells the others', async () => {
    const a = await connect({ screen_name: 'alice' });
    const b = await connect({ screen_name: 'bob' });

    const first = await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    expect(first).toMatchObject({ room: 'lobby', channel: 'general', joined: true, created: true, offset: 0 });
    expect(first['epoch']).toEqual(expect.any(String));
    expect(first['members']).toEqual([expect.objectContaining({ client_id: a.clientId, screen_name: 'alice' })]);

    a.send({ type: 'event', id: 'e1', room: 'lobby', channel: 'general', payload: {} });
    await a.barrier();

    const second = await b.ok('join_channel', { channel: 'lobby:general' });
    expect(second).toMatchObject({ room: 'lobby', channel: 'general', joined: true, created: false, offset: 1, epoch: first['epoch'] });
    const members = second['members'] as Json[];
    expect(members.map((m) => m['client_id']).sort()).toEqual([a.clientId, b.clientId].sort());

    const joined = await a.next(systemEvent('member_joined'));
    expect(joined).toMatchObject({
      room: 'lobby',
      channel: 'general',
      payload: { room: 'lobby', channel: 'general', client: { client_id: b.clientId, screen_name: 'bob' } },
    });
    await b.barrier();
    expect(systemEvents(b, 'member_joined')).toEqual([]);
  });

  it('is idempotent: a second join reports joined false and tells no one', async () => {
    const a = await connect();
    const b = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { room: 'lobby', channel: 'general' });
    await a.next(systemEvent('member_joined'));

    expect(await b.ok('join_channel', { channel: 'lobby:general' })).toMatchObject({ joined: false, created: false });
    await b.barrier();
    await a.barrier();
    expect(systemEvents(a, 'member_joined')).toEqual([]);
    expect((await a.ok('channel_info', { room: 'lobby', channel: 'general' }))['member_count']).toBe(2);
  });
});

describe('leave_channel', () => {
  it('tells the remaining members, and answers NOT_A_MEMBER when not joined', async () => {
    const a = await connect();
    const b = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { room: 'lobby', channel: 'general' });

    expect(await b.ok('leave_channel', { channel: 'lobby:general' })).toMatchObject({ room: 'lobby', channel: 'general', left: true });
    const left = await a.next(systemEvent('member_left'));
    expect(left).toMatchObject({ room: 'lobby', channel: 'general', payload: { client: { client_id: b.clientId } } });
    await b.barrier();
    expect(systemEvents(b, 'member_left')).toEqual([]);
    expect((await b.ok('whoami'))['channels']).toEqual([]);

    const again = await b.command('leave_channel', { room: 'lobby', channel: 'general' });
    expect(again).toMatchObject({ status: 'error', error_code: 'NOT_A_MEMBER' });
    const missing = await b.command('leave_channel', { room: 'nowhere', channel: 'none' });
    expect(missing).toMatchObject({ status: 'error', error_code: 'NOT_A_MEMBER' });
  });
});

describe('list_channels', () => {
  it('lists channels with member counts, optionally of one room', async () => {
    const a = await connect();
    const b = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { room: 'lobby', channel: 'random' });
    await a.ok('create_channel', { room: 'lab', channel: 'bench' });

    const all = await a.ok<{ channels: Json[]; count: number; rooms: number }>('list_channels');
    expect(all.count).toBe(3);
    expect(all.rooms).toBe(2);
    const byKey = new Map(all.channels.map((c) => [`${String(c['room'])}:${String(c['channel'])}`, c]));
    expect(byKey.get('lobby:general')).toMatchObject({ members: 2, joined: true });
    expect(byKey.get('lobby:random')).toMatchObject({ members: 1, joined: false });
    expect(byKey.get('lab:bench')).toMatchObject({ members: 0, joined: false });

    const lobby = await a.ok<{ channels: Json[]; count: number }>('list_channels', { room: 'lobby' });
    expect(lobby.count).toBe(2);
    expect(lobby.channels.map((c) => c['channel']).sort()).toEqual(['general', 'random']);

    expect(await a.ok('list_channels', { room: 'nowhere' })).toMatchObject({ channels: [], count: 0 });
  });
});

describe('channel_info', () => {
  it('lists members with their metadata and the history position', async () => {
    const a = await connect({ screen_name: 'alice', client_type: 'ai-agent' });
    const b = await connect({ screen_name: 'bob' });
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    const joined = await b.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('set_metadata', { metadata: { role: 'reviewer' } });
    a.send({ type: 'event', room: 'lobby', channel: 'general', payload: {} });
    await a.barrier();

    const info = await b.ok('channel_info', { channel: 'lobby:general' });
    expect(info).toMatchObject({ room: 'lobby', channel: 'general', created_by: a.clientId, member_count: 2, offset: 1, epoch: joined['epoch'] });
    const members = info['members'] as Json[];
    expect(members).toHaveLength(2);
    expect(members.find((m) => m['client_id'] === a.clientId)).toMatchObject({ screen_name: 'alice', client_type: 'ai-agent', metadata: {} });
    expect(members.find((m) => m['client_id'] === b.clientId)).toMatchObject({ screen_name: 'bob', metadata: { role: 'reviewer' } });

    expect(await b.command('channel_info', { room: 'lobby', channel: 'nope' })).toMatchObject({ status: 'error', error_code: 'CHANNEL_NOT_FOUND' });
  });
});

describe('history', () => {
  it('returns the published events oldest first', async () => {
    const a = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    a.send({ type: 'event', id: 'h1', room: 'lobby', channel: 'general', payload: { n: 1 } });
    a.send({ type: 'event', id: 'h2', room: 'lobby', channel: 'general', payload: { n: 2 } });
    await a.barrier();
    const res = await a.ok<{ messages: Envelope[]; has_more: boolean; recovered: boolean; latest_offset: number }>('history', {
      channel: 'lobby:general',
    });
    expect(res.messages.map((m) => [m.id, m.payload, m.from])).toEqual([
      ['h1', { n: 1 }, a.clientId],
      ['h2', { n: 2 }, a.clientId],
    ]);
    expect(res).toMatchObject({ has_more: false, recovered: true, latest_offset: 2 });
  });
});

describe('command dispatch', () => {
  it('answers an unknown command with UNKNOWN_COMMAND and the request id', async () => {
    const a = await connect();
    a.send({ type: 'command', id: 'cmd-42', payload: { command: 'fly_to_the_moon', parameters: {} } });
    const res = await a.next((e) => e.type === 'command_response');
    expect(res.payload).toMatchObject({
      request_id: 'cmd-42',
      command: 'fly_to_the_moon',
      status: 'error',
      error_code: 'UNKNOWN_COMMAND',
      retryable: false,
    });
  });

  it('accepts the v1 top-level form with args', async () => {
    const a = await connect();
    a.send({ type: 'command', id: 'v1-ping', command: 'ping', args: {} });
    const pong = await a.next((e) => e.type === 'command_response' && e.payload['request_id'] === 'v1-ping');
    expect(pong.payload).toMatchObject({ command: 'ping', status: 'success', result: { pong: true } });

    a.send({ type: 'command', id: 'v1-join', command: 'join_channel', args: { room: 'lobby', channel: 'general' } });
    const join = await a.next((e) => e.type === 'command_response' && e.payload['request_id'] === 'v1-join');
    expect(join.payload).toMatchObject({ status: 'success', result: { room: 'lobby', channel: 'general', joined: true } });
  });

  it('accepts a top-level command without type, and fills a request id when none is given', async () => {
    const a = await connect();
    a.send({ command: 'ping' });
    const pong = await a.next((e) => e.type === 'command_response');
    expect(pong.payload).toMatchObject({ command: 'ping', status: 'success', result: { pong: true } });
    expect(pong.payload['request_id']).toMatch(/^arq_/);
  });
});

describe('parameter validation', () => {
  const cases: Array<[string, string, Json, string]> = [
    ['join_channel without room', 'join_channel', { channel: 'general' }, 'room'],
    ['join_channel without channel', 'join_channel', { room: 'lobby' }, 'channel'],
    ['join_channel with no parameters', 'join_channel', {}, 'room'],
    ['join_channel with a bad room name', 'join_channel', { room: 'bad room', channel: 'general' }, 'room'],
    ['join_channel with a bad channel name', 'join_channel', { room: 'lobby', channel: 'a/b' }, 'channel'],
    ['join_channel with a non-string room', 'join_channel', { room: 7, channel: 'general' }, 'room'],
    ['join_channel with "room:" and no channel', 'join_channel', { channel: 'lobby:' }, 'channel'],
    ['join_channel with ":channel" and no room', 'join_channel', { channel: ':general' }, 'room'],
    ['create_channel with a 129-character channel', 'create_channel', { room: 'lobby', channel: 'c'.repeat(129) }, 'channel'],
    ['channel_info without room', 'channel_info', { channel: 'general' }, 'room'],
    ['history with limit 0', 'history', { room: 'lobby', channel: 'general', limit: 0 }, 'limit'],
    ['history with limit 1001', 'history', { room: 'lobby', channel: 'general', limit: 1001 }, 'limit'],
    ['history with a fractional limit', 'history', { room: 'lobby', channel: 'general', limit: 2.5 }, 'limit'],
    ['history with a string limit', 'history', { room: 'lobby', channel: 'general', limit: '10' }, 'limit'],
    ['history with a negative since_offset', 'history', { room: 'lobby', channel: 'general', since_offset: -1 }, 'since_offset'],
    ['history with a non-ISO since', 'history', { room: 'lobby', channel: 'general', since: 'yesterday' }, 'since'],
    ['history with a date-only since', 'history', { room: 'lobby', channel: 'general', since: '2024-01-01' }, 'since'],
    ['history with a numeric until', 'history', { room: 'lobby', channel: 'general', until: 1700000000000 }, 'until'],
    [
      'history with since after until',
      'history',
      { room: 'lobby', channel: 'general', since: '2024-01-02T00:00:00Z', until: '2024-01-01T00:00:00Z' },
      'until',
    ],
    ['set_metadata with a numeric screen_name', 'set_metadata', { screen_name: 42 }, 'screen_name'],
    ['set_metadata with non-object metadata', 'set_metadata', { metadata: 'hello' }, 'metadata'],
    ['list_channels with a numeric room', 'list_channels', { room: 42 }, 'room'],
  ];

  it.each(cases)('%s → INVALID_PARAMETERS naming the parameter', async (_label, command, params, parameter) => {
    const a = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    const res = await a.command(command, params);
    expect(res).toMatchObject({ status: 'error', command, error_code: 'INVALID_PARAMETERS', retryable: false, details: { parameter } });
    expect(res['error']).toEqual(expect.any(String));
  });
});
