/**
 * Topic routing and private messages end to end: who receives what, the
 * envelope the server builds, the errors a sender gets, and per-channel order.
 * "Nothing arrived" is proven with barriers: once the sender's round trip is
 * back the server has routed the frame, and a recipient's own round trip then
 * flushes anything that was written to it before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
const open: RawClient[] = [];

async function connect(query: Record<string, string> = {}): Promise<RawClient> {
  const { client } = await RawClient.connect(srv.url, query);
  open.push(client);
  return client;
}

/** Connects `n` clients that all joined lobby:general. */
async function members(n: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connect();
    await c.ok('join_channel', { room: 'lobby', channel: 'general' });
    clients.push(c);
  }
  // Flush the member_joined notices so tests see only what they cause.
  for (const c of clients) {
    await c.barrier();
    c.received.length = 0;
  }
  return clients;
}

/** The sender's round trip, then each recipient's: everything routed before is now in `received`. */
async function settle(sender: RawClient, ...others: RawClient[]): Promise<void> {
  await sender.barrier();
  await Promise.all(others.map((c) => c.barrier()));
}

const isEvent = (id: string) => (e: Envelope) => e.type === 'event' && e.id === id;
const isError = (e: Envelope) => e.type === 'error';
const ofType = (c: RawClient, type: Envelope['type']) => c.received.filter((e) => e.type === type);

beforeEach(async () => {
  srv = await startServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await srv.close();
});

describe('topic routing', () => {
  it('addresses room + channel and "room:channel" alike', async () => {
    const [a, b] = (await members(2)) as [RawClient, RawClient];
    a.send({ type: 'event', id: 'split', room: 'lobby', channel: 'general', payload: { form: 'split' } });
    a.send({ type: 'event', id: 'joined', channel: 'lobby:general', payload: { form: 'joined' } });
    for (const id of ['split', 'joined']) {
      expect(await b.next(isEvent(id))).toMatchObject({ room: 'lobby', channel: 'general', from: a.clientId });
    }
  });

  it('delivers to every member except the sender, and to nobody outside the channel', async () => {
    const [a, b, c] = (await members(3)) as [RawClient, RawClient, RawClient];
    const outsider = await connect();
    await outsider.ok('join_channel', { room: 'lobby', channel: 'other' });
    a.send({ type: 'event', id: 'm1', room: 'lobby', channel: 'general', payload: { text: 'hello' } });
    for (const r of [b, c]) expect(await r.next(isEvent('m1'))).toMatchObject({ payload: { text: 'hello' }, from: a.clientId });
    await settle(a, b, c, outsider);
    expect(ofType(a, 'event')).toEqual([]);
    expect(ofType(outsider, 'event')).toEqual([]);
    expect(ofType(b, 'event')).toEqual([]); // exactly one copy each
  });

  it('echoes to the sender too when metadata.echo is true, without storing the flag', async () => {
    const [a, b] = (await members(2)) as [RawClient, RawClient];
    a.send({ type: 'event', id: 'e1', room: 'lobby', channel: 'general', payload: {}, metadata: { echo: true, trace: 't1' } });
    const own = await a.next(isEvent('e1'));
    const theirs = await b.next(isEvent('e1'));
    expect(own).toEqual(theirs);
    expect(own.metadata).toMatchObject({ trace: 't1', offset: 1 });
    expect(own.metadata).not.toHaveProperty('echo');
  });

  it('refuses a publish from a non-member with NOT_A_MEMBER and delivers nothing', async () => {
    const [b, c] = (await members(2)) as [RawClient, RawClient];
    const stranger = await connect();
    stranger.send({ type: 'event', id: 'sneaky', room: 'lobby', channel: 'general', payload: {} });
    const err = await stranger.next(isError);
    expect(err).toMatchObject({ request_id: 'sneaky', error_code: 'NOT_A_MEMBER', retryable: false, room: 'lobby', channel: 'general' });
    expect(err.payload).toMatchObject({ reason: 'NOT_A_MEMBER', room: 'lobby', channel: 'general' });
    await settle(stranger, b, c);
    expect(ofType(b, 'event')).toEqual([]);
    expect(ofType(c, 'event')).toEqual([]);
    expect((await b.ok('history', { room: 'lobby', channel: 'general' }))['messages']).toEqual([]);
  });

  it('refuses a publish to a missing channel with NOT_A_MEMBER', async () => {
    const a = await connect();
    a.send({ type: 'event', id: 'void', room: 'nowhere', channel: 'none', payload: {} });
    expect(await a.next(isError)).toMatchObject({ request_id: 'void', error_code: 'NOT_A_MEMBER' });
    expect((await a.ok('list_channels'))['channels']).toEqual([]);
  });

  it('stamps from with the real sender, whatever the frame claims', async () => {
    const [a, b] = (await members(2)) as [RawClient, RawClient];
    a.send({ type: 'event', id: 'forged', room: 'lobby', channel: 'general', from: b.clientId, sender: 'cl_admin', payload: {} });
    const got = await b.next(isEvent('forged'));
    expect(got.from).toBe(a.clientId);
    expect(got).not.toHaveProperty('sender');
    const stored = (await b.ok<{ messages: Envelope[] }>('history', { room: 'lobby', channel: 'general' })).messages;
    expect(stored.map((m) => m.from)).toEqual([a.clientId]);
  });

  it('keeps a client-supplied id and timestamp, and fills id, timestamp and version when omitted', async () => {
    const [a, b] = (await members(2)) as [RawClient, RawClient];
    a.send({ type: 'event', id: 'client-id-1', timestamp: '2024-05-01T12:00:00.000Z', room: 'lobby', channel: 'general', payload: { n: 1 } });
    expect(await b.next(isEvent('client-id-1'))).toMatchObject({ version: '1.0', timestamp: '2024-05-01T12:00:00.000Z' });

    const before = Date.now();
    a.send({ type: 'event', room: 'lobby', channel: 'general', payload: { n: 2 } });
    const filled = await b.next((e) => e.type === 'event');
    const after = Date.now();
    expect(filled.id).toMatch(/^arq_/);
    expect(filled.version).toBe('1.0');
    expect(filled.payload).toEqual({ n: 2 });
    const ts = Date.parse(filled.timestamp);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(after);
  });

  it('delivers a republished id (same sender) once, as history stores it once', async () => {
    const [a, b] = (await members(2)) as [RawClient, RawClient];
    a.send({ type: 'event', id: 'retry-me', room: 'lobby', channel: 'general', payload: { attempt: 1 } });
    a.send({ type: 'event', id: 'retry-me', room: 'lobby', channel: 'general', payload: { attempt: 2 } });
    a.send({ type: 'event', id: 'next', room: 'lobby', channel: 'general', payload: {} });
    await settle(a, b);
    const events = ofType(b, 'event');
    expect(events.map((e) => [e.id, e.payload, e.metadata?.['offset']])).toEqual([
      ['retry-me', { attempt: 1 }, 1],
      ['next', {}, 2],
    ]);
    const stored = (await b.ok<{ messages: Envelope[] }>('history', { room: 'lobby', channel: 'general' })).messages;
    expect(stored).toEqual(events);
    expect(ofType(a, 'error')).toEqual([]);
  });

  it('does not deduplicate the same id from two senders', async () => {
    const [a, b, c] = (await members(3)) as [RawClient, RawClient, RawClient];
    a.send({ type: 'event', id: 'same', room: 'lobby', channel: 'general', payload: { by: 'a' } });
    await a.barrier();
    b.send({ type: 'event', id: 'same', room: 'lobby', channel: 'general', payload: { by: 'b' } });
    await settle(b, c);
    expect(ofType(c, 'event').map((e) => [e.from, e.metadata?.['offset']])).toEqual([
      [a.clientId, 1],
      [b.clientId, 2],
    ]);
  });

  it('rejects a malformed address with INVALID_CHANNEL and the frame id', async () => {
    const [a] = (await members(1)) as [RawClient];
    a.send({ type: 'event', id: 'bad-1', room: 'lobby', channel: 'no spaces', payload: {} });
    expect(await a.next(isError)).toMatchObject({ request_id: 'bad-1', error_code: 'INVALID_CHANNEL', payload: { field: 'channel' } });
    a.send({ type: 'event', id: 'bad-2', channel: 'general', payload: {} });
    expect(await a.next(isError)).toMatchObject({ request_id: 'bad-2', error_code: 'INVALID_CHANNEL', payload: { field: 'room' } });
    a.send({ type: 'event', id: 'bad-3', payload: {} });
    expect(await a.next(isError)).toMatchObject({ request_id: 'bad-3', error_code: 'INVALID_CHANNEL' });
  });

  it('keeps per-channel order: 200 rapid events arrive in order with offsets 1..200', async () => {
    const [a, b, c] = (await members(3)) as [RawClient, RawClient, RawClient];
    const n = 200;
    for (let i = 1; i <= n; i++) a.send({ type: 'event', id: `seq-${i}`, room: 'lobby', channel: 'general', payload: { i } });
    await settle(a, b, c);
    for (const r of [b, c]) {
      const events = ofType(r, 'event');
      expect(events.map((e) => e.payload['i'])).toEqual(Array.from({ length: n }, (_, k) => k + 1));
      expect(events.map((e) => e.metadata?.['offset'])).toEqual(Array.from({ length: n }, (_, k) => k + 1));
      expect(new Set(events.map((e) => e.metadata?.['epoch'])).size).toBe(1);
    }
  });
});

describe('presence on disconnect', () => {
  it('emits member_left to the others in every channel and removes the member from channel_info', async () => {
    const [a, b, c] = (await members(3)) as [RawClient, RawClient, RawClient];
    await b.ok('join_channel', { room: 'lobby', channel: 'side' });
    await c.ok('join_channel', { room: 'lobby', channel: 'side' });
    await b.next((e) => e.type === 'system' && e.payload['event'] === 'member_joined');
    const gone = b.clientId;
    await b.close();
    const leftOf = (channel: string) => (e: Envelope) =>
      e.type === 'system' && e.payload['event'] === 'member_left' && e.channel === channel;
    for (const [r, channel] of [[a, 'general'], [c, 'general'], [c, 'side']] as const) {
      const left = await r.next(leftOf(channel));
      expect(left).toMatchObject({ room: 'lobby', channel, payload: { client: { client_id: gone } } });
    }
    const info = await a.ok('channel_info', { room: 'lobby', channel: 'general' });
    expect(info['member_count']).toBe(2);
    expect((info['members'] as Array<Record<string, unknown>>).map((m) => m['client_id']).sort()).toEqual([a.clientId, c.clientId].sort());
    const side = await a.ok('channel_info', { room: 'lobby', channel: 'side' });
    expect((side['members'] as Array<Record<string, unknown>>).map((m) => m['client_id'])).toEqual([c.clientId]);
  });
});

describe('private messages', () => {
  it('reaches one target without channel membership, and nobody else', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    a.send({ type: 'private', id: 'p1', payload: { target: b.clientId, text: 'psst' } });
    const got = await b.next((e) => e.type === 'private');
    expect(got).toMatchObject({ id: 'p1', from: a.clientId, version: '1.0', payload: { target: b.clientId, text: 'psst' } });
    await settle(a, b, c);
    expect(ofType(c, 'private')).toEqual([]);
    expect(ofType(a, 'private')).toEqual([]);
    expect(ofType(a, 'error')).toEqual([]);
  });

  it('reaches every target of a list', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    const d = await connect();
    a.send({ type: 'private', id: 'p-list', payload: { target: [b.clientId, c.clientId], text: 'both' } });
    for (const r of [b, c]) expect(await r.next((e) => e.type === 'private')).toMatchObject({ id: 'p-list', from: a.clientId });
    await settle(a, d);
    expect(ofType(d, 'private')).toEqual([]);
    expect(ofType(a, 'error')).toEqual([]);
  });

  it('answers UNKNOWN_TARGET listing an unknown target', async () => {
    const a = await connect();
    a.send({ type: 'private', id: 'p-unknown', payload: { target: 'cl_nobody', text: '?' } });
    const err = await a.next(isError);
    expect(err).toMatchObject({ request_id: 'p-unknown', error_code: 'UNKNOWN_TARGET', retryable: true });
    expect(err.payload['unknown_targets']).toEqual(['cl_nobody']);
  });

  it('delivers to the known targets of a mixed list and reports the unknown ones', async () => {
    const a = await connect();
    const b = await connect();
    a.send({ type: 'private', id: 'p-mixed', payload: { target: [b.clientId, 'cl_ghost'], text: 'hi' } });
    expect(await b.next((e) => e.type === 'private')).toMatchObject({ id: 'p-mixed', from: a.clientId });
    const err = await a.next(isError);
    expect(err).toMatchObject({ request_id: 'p-mixed', error_code: 'UNKNOWN_TARGET' });
    expect(err.payload).toMatchObject({ unknown_targets: ['cl_ghost'], delivered: 1 });
  });

  it('answers MISSING_TARGET when payload.target is absent or empty', async () => {
    const a = await connect();
    a.send({ type: 'private', id: 'p-none', payload: { text: 'to whom?' } });
    expect(await a.next(isError)).toMatchObject({ request_id: 'p-none', error_code: 'MISSING_TARGET' });
    a.send({ type: 'private', id: 'p-empty', payload: { target: [] } });
    expect(await a.next(isError)).toMatchObject({ request_id: 'p-empty', error_code: 'MISSING_TARGET' });
  });

  it('stamps from with the real sender', async () => {
    const a = await connect();
    const b = await connect();
    a.send({ type: 'private', from: 'cl_admin', sender: 'cl_admin', payload: { target: b.clientId } });
    const got = await b.next((e) => e.type === 'private');
    expect(got.from).toBe(a.clientId);
    expect(got.id).toMatch(/^arq_/);
  });

  it('treats a closed connection as an unknown target', async () => {
    const a = await connect();
    const b = await connect();
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { room: 'lobby', channel: 'general' });
    const gone = b.clientId;
    await b.close();
    // member_left proves the server has processed the close.
    await a.next((e) => e.type === 'system' && e.payload['event'] === 'member_left');
    a.send({ type: 'private', id: 'p-gone', payload: { target: gone } });
    const err = await a.next(isError);
    expect(err).toMatchObject({ request_id: 'p-gone', error_code: 'UNKNOWN_TARGET' });
    expect(err.payload['unknown_targets']).toEqual([gone]);
  });
});
