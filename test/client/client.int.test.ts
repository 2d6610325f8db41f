/**
 * The SDK against the real server (started on port 0 by test/helpers/server.ts),
 * plus two tiny real `ws` servers for behaviour the real server never shows
 * (a server that never answers, one that never says welcome).
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ArqonClient,
  ArqonClientError,
  type ClientOptions,
  type ConnectionStatus,
  type ResumedEvent,
} from '../../src/client/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { gateWebSocket, next, offsetOf, record, seqOf, terminateServerSide } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Clients first, then servers (registered earlier).
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startServer(overrides);
  cleanups.push(() => s.close());
  return s;
}

function client(options: ClientOptions): ArqonClient {
  const c = new ArqonClient({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...options });
  cleanups.push(() => c.close());
  return c;
}

async function connected(options: ClientOptions): Promise<ArqonClient> {
  const c = client(options);
  await c.connect();
  return c;
}

const gate = (): ReturnType<typeof gateWebSocket> => gateWebSocket((fn) => cleanups.push(fn));

describe('ArqonClient against the real server', () => {
  it('connects, resolves with the welcome and reports its status', async () => {
    const s = await server();
    const c = client({ url: s.url, clientType: 'ai-agent', screenName: 'Ada', personality: 'curious' });
    const statuses = record(c, 'status');
    const welcome = await c.connect();

    expect(welcome.event).toBe('welcome');
    expect(welcome.client_id).toMatch(/\S/);
    expect(typeof welcome.server_version).toBe('string');
    expect(welcome.limits).toMatchObject({ max_payload_bytes: expect.any(Number) });
    expect(welcome.client).toMatchObject({ client_type: 'ai-agent', screen_name: 'Ada', personality: 'curious' });
    expect(welcome.connection_id).toMatch(/\S/);
    expect(welcome.identity).toEqual({ admin: true, anonymous: true, expires_at: null });
    expect(c.status).toEqual({ state: 'connected', clientId: welcome.client_id, connectionId: welcome.connection_id });
    expect(statuses.map((st) => st.state)).toEqual(['connecting', 'connected']);
    expect(await c.connect()).toBe(welcome); // already connected: same welcome

    await c.close();
    expect(c.status).toEqual({ state: 'closed', code: 1000, reason: 'client closed' });
    expect(() => c.publish('r', 'c', {})).toThrow(ArqonClientError);
  });

  it('fails connect() when the first attempt is refused', async () => {
    const s = await server();
    const c = client({ url: `${s.url}/no-such-path` });
    await expect(c.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(c.status.state).toBe('closed');
  });

  it('joins and publishes between two clients, with offsets and epoch', async () => {
    const s = await server();
    const a = await connected({ url: s.url, screenName: 'a' });
    const b = await connected({ url: s.url, screenName: 'b' });
    const joinA = await a.join('lab', 'chat');
    expect(joinA).toMatchObject({ room: 'lab', channel: 'chat', offset: 0, epoch: expect.any(String) });
    const joinB = await b.join('lab', 'chat');
    expect(joinB.members).toHaveLength(2);
    expect(joinB.epoch).toBe(joinA.epoch);

    const bEvents = record(b, 'event');
    const got = next(a, 'event');
    const id = b.publish('lab', 'chat', { text: 'hello' }, { metadata: { lang: 'en' } });
    const event = await got;
    expect(event).toMatchObject({
      type: 'event',
      id,
      room: 'lab',
      channel: 'chat',
      from: b.welcome?.client_id,
      payload: { text: 'hello' },
      metadata: { lang: 'en', offset: 1, epoch: joinA.epoch },
    });
    expect(a.position('lab', 'chat')).toEqual({ offset: 1, epoch: joinA.epoch });

    // Without echo the sender does not get its own event; with echo it does.
    const echoed = next(b, 'event');
    const echoId = b.publish('lab', 'chat', { text: 'again' }, { echo: true });
    expect((await echoed).id).toBe(echoId);
    expect(bEvents.map((e) => e.id)).toEqual([echoId]);

    // Leaving stops delivery and forgets the channel.
    await a.leave('lab', 'chat');
    expect(a.position('lab', 'chat')).toBeUndefined();
    const aEvents = record(a, 'event');
    const third = next(b, 'event');
    b.publish('lab', 'chat', { text: 'third' }, { echo: true });
    await third;
    await a.command('ping'); // a's own round trip: anything for it would have arrived
    expect(aEvents).toEqual([]);
  });

  it('resolves command results and rejects server errors with their registry code', async () => {
    const s = await server();
    const c = await connected({ url: s.url });

    await expect(c.command('ping')).resolves.toMatchObject({ pong: true });
    await expect(c.command('whoami')).resolves.toMatchObject({ client_id: c.welcome?.client_id });

    const notMember = await c.leave('nowhere', 'none').catch((e: unknown) => e);
    expect(notMember).toBeInstanceOf(ArqonClientError);
    expect(notMember).toMatchObject({ code: 'NOT_A_MEMBER', retryable: false, requestId: expect.any(String) });

    await expect(c.command('no_such_command')).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND' });
    await c.join('r', 'c');
    await expect(c.history('r', 'c', { sinceOffset: -1 })).rejects.toMatchObject({
      code: 'INVALID_PARAMETERS',
      details: { parameter: 'since_offset' },
    });

    // A failed publish comes back as an 'error' event carrying the publish id.
    const failed = next(c, 'error');
    const id = c.publish('r', 'not-joined', { x: 1 });
    await expect(failed).resolves.toMatchObject({ code: 'NOT_A_MEMBER', requestId: id });
  });

  it('delivers private messages to one or several client ids', async () => {
    const s = await server();
    const a = await connected({ url: s.url });
    const b = await connected({ url: s.url });
    const c = await connected({ url: s.url });

    const toB = next(b, 'private');
    a.sendPrivate(b.welcome!.client_id, { text: 'psst' });
    expect(await toB).toMatchObject({ type: 'private', from: a.welcome?.client_id, payload: { text: 'psst' } });

    const both = Promise.all([next(b, 'private'), next(c, 'private')]);
    a.sendPrivate([b.welcome!.client_id, c.welcome!.client_id], { text: 'all' });
    for (const env of await both) expect(env.payload).toMatchObject({ text: 'all' });

    const unknown = next(a, 'error');
    const id = a.sendPrivate('cl_nobody', { text: '?' });
    await expect(unknown).resolves.toMatchObject({ code: 'UNKNOWN_TARGET', retryable: true, requestId: id });
  });

  it('reads history with offsets and paging', async () => {
    const s = await server();
    const c = await connected({ url: s.url });
    const { epoch } = await c.join('h', 'log');
    for (let i = 1; i <= 5; i++) c.publish('h', 'log', { seq: i });
    const page = await c.history('h', 'log', { sinceOffset: 1, epoch, limit: 2 });
    expect(page).toMatchObject({ epoch, recovered: true, earliest_offset: 1, latest_offset: 5, has_more: true });
    expect(page.messages.map((m) => m.metadata?.['offset'])).toEqual([2, 3]);
    expect(page.messages.map((m) => m.payload['seq'])).toEqual([2, 3]);
  });

  it('does not reconnect after a close code outside the reconnect range (4500)', async () => {
    const s = await server({ maxPayloadBytes: 256 });
    const c = await connected({ url: s.url });
    await c.join('r', 'c');
    const closed = next(c, 'status', (st) => st.state === 'closed');
    const err = next(c, 'error');
    c.publish('r', 'c', { blob: 'x'.repeat(400) });
    await expect(err).resolves.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    expect(await closed).toMatchObject({ state: 'closed', code: 4500 });
  });

  it('reconnects after a drop, rejoins and replays the missed messages exactly once, in order', async () => {
    const s = await server();
    const g = await gate();
    const a = await connected({ url: s.url, WebSocket: g.WebSocket });
    const b = await connected({ url: s.url });
    const { epoch } = await a.join('ops', 'feed');
    await b.join('ops', 'feed');

    const aEvents = record(a, 'event');
    const resumed = record(a, 'resumed');
    const first = next(a, 'event');
    b.publish('ops', 'feed', { seq: 1 });
    await first;

    // Drop A on the server side and keep it out until B has published.
    g.open = false;
    const reconnecting = next(a, 'status', (st) => st.state === 'reconnecting');
    terminateServerSide(s, a);
    const status = (await reconnecting) as Extract<ConnectionStatus, { state: 'reconnecting' }>;
    expect(status).toMatchObject({ attempt: 1, code: 1006 });
    expect(() => a.publish('ops', 'feed', {})).toThrow(expect.objectContaining({ code: 'NOT_CONNECTED' }));
    await expect(a.command('ping')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });

    for (let i = 2; i <= 4; i++) b.publish('ops', 'feed', { seq: i });
    expect((await b.history('ops', 'feed', { sinceOffset: 0 })).latest_offset).toBe(4);
    // At least one attempt was refused while the gate was shut.
    await next(a, 'status', (st) => st.state === 'reconnecting' && st.attempt >= 2);

    const oldId = a.welcome!.client_id;
    const done = next(a, 'resumed');
    g.open = true;
    expect(await done).toEqual({ room: 'ops', channel: 'feed', recovered: true, count: 3 });
    expect(a.welcome!.client_id).not.toBe(oldId);
    expect(a.status.state).toBe('connected');

    // Live delivery goes on after the resume.
    const live = next(a, 'event', (e) => seqOf(e) === 5);
    b.publish('ops', 'feed', { seq: 5 });
    await live;

    expect(aEvents.map(seqOf)).toEqual([1, 2, 3, 4, 5]);
    expect(aEvents.map(offsetOf)).toEqual([1, 2, 3, 4, 5]);
    expect(resumed).toHaveLength(1);
    expect(a.position('ops', 'feed')).toEqual({ offset: 5, epoch });
    // The server sees A as a member again.
    const info = await b.command<{ members: Array<{ client_id: string }> }>('channel_info', { room: 'ops', channel: 'feed' });
    expect(info.members.map((m) => m.client_id)).toContain(a.welcome!.client_id);
  });

  it('keeps events published during the resume in order and without duplicates', async () => {
    const s = await server();
    const g = await gate();
    const a = await connected({ url: s.url, WebSocket: g.WebSocket, resumeBufferLimit: 4 });
    const b = await connected({ url: s.url });
    await a.join('ops', 'busy');
    await b.join('ops', 'busy');
    const aEvents = record(a, 'event');
    const first = next(a, 'event');
    let seq = 0;
    b.publish('ops', 'busy', { seq: ++seq });
    await first;

    g.open = false;
    const reconnecting = next(a, 'status', (st) => st.state === 'reconnecting');
    terminateServerSide(s, a);
    await reconnecting;
    for (let i = 0; i < 20; i++) b.publish('ops', 'busy', { seq: ++seq });

    // B keeps publishing while A reconnects, rejoins and replays (live events race the replay).
    let resumedEvent: ResumedEvent | undefined;
    const resumed = next(a, 'resumed').then((r) => (resumedEvent = r));
    g.open = true;
    while (resumedEvent === undefined && seq < 5000) {
      // Bursts larger than the buffer limit make the resume drop held events and read history again.
      for (let i = 0; i < 3; i++) b.publish('ops', 'busy', { seq: ++seq });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await resumed;
    for (let i = 0; i < 20; i++) b.publish('ops', 'busy', { seq: ++seq });
    const last = seq;
    if (offsetOf(aEvents.at(-1)!) !== last) await next(a, 'event', (e) => offsetOf(e) === last);

    expect(resumedEvent).toMatchObject({ recovered: true });
    const offsets = aEvents.map(offsetOf);
    expect(offsets).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(aEvents.map(seqOf)).toEqual(offsets);
  });

  it('reports recovered=false when the gap was evicted from history', async () => {
    const s = await server({ historyMaxMessages: 3 });
    const g = await gate();
    const a = await connected({ url: s.url, WebSocket: g.WebSocket });
    const b = await connected({ url: s.url });
    await a.join('ops', 'small');
    await b.join('ops', 'small');
    const aEvents = record(a, 'event');
    const first = next(a, 'event');
    b.publish('ops', 'small', { seq: 1 });
    await first;

    g.open = false;
    const reconnecting = next(a, 'status', (st) => st.state === 'reconnecting');
    terminateServerSide(s, a);
    await reconnecting;
    for (let i = 2; i <= 7; i++) b.publish('ops', 'small', { seq: i });
    const h = await b.history('ops', 'small');
    expect([h.earliest_offset, h.latest_offset]).toEqual([5, 7]);

    const done = next(a, 'resumed');
    g.open = true;
    expect(await done).toEqual({ room: 'ops', channel: 'small', recovered: false, count: 3 });
    expect(aEvents.map(seqOf)).toEqual([1, 5, 6, 7]);
    expect(a.position('ops', 'small')?.offset).toBe(7);
  });

  it('stops after maxReconnectAttempts and reports closed', async () => {
    const s = await server();
    const g = await gate();
    const a = await connected({ url: s.url, WebSocket: g.WebSocket, maxReconnectAttempts: 2 });
    g.open = false;
    const statuses = record(a, 'status');
    const closed = next(a, 'status', (st) => st.state === 'closed');
    terminateServerSide(s, a);
    expect(await closed).toMatchObject({ state: 'closed', code: 1006 });
    expect(statuses.map((st) => (st.state === 'reconnecting' ? st.attempt : st.state))).toEqual([1, 2, 'closed']);
  });
});

describe('ArqonClient against scripted ws servers', () => {
  /** A real ws server on port 0 that says welcome and then ignores everything. */
  async function silentServer(sendWelcome = true): Promise<{ url: string; wss: WebSocketServer }> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    wss.on('connection', (ws) => {
      if (sendWelcome) {
        ws.send(JSON.stringify({ type: 'system', payload: { event: 'welcome', client_id: 'cl_x', server_version: 't', limits: {} } }));
      }
    });
    cleanups.push(
      () =>
        new Promise((resolve) => {
          for (const ws of wss.clients) ws.terminate();
          wss.close(resolve);
        }),
    );
    return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, wss };
  }

  it('rejects a command with TIMEOUT when no response arrives', async () => {
    const { url } = await silentServer();
    const c = await connected({ url });
    const started = Date.now();
    const err = await c.command('ping', {}, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', retryable: true, details: { command: 'ping', timeout_ms: 100 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    // The client default applies when no timeoutMs is given.
    const quick = await connected({ url, commandTimeoutMs: 50 });
    await expect(quick.command('ping')).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('rejects pending commands with CONNECTION_CLOSED when the socket drops', async () => {
    const { url, wss } = await silentServer();
    const c = await connected({ url, reconnect: false });
    const pending = c.command('ping', {}, { timeoutMs: 10_000 });
    for (const ws of wss.clients) ws.close(4001, 'bye');
    await expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED', details: { close_code: 4001 } });
    expect(c.status).toMatchObject({ state: 'closed', code: 4001 });
  });

  it('abandons an attempt that gets no welcome within connectTimeoutMs', async () => {
    const { url } = await silentServer(false);
    const c = client({ url, connectTimeoutMs: 100 });
    await expect(c.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(c.status).toMatchObject({ state: 'closed', code: 1006 });
  });
});
