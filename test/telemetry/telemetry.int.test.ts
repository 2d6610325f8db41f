import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient, rawSocket } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** A telemetry envelope for `event`, optionally about one client. */
const telemetry = (event: string, clientId?: string) => (e: Envelope): boolean =>
  e.type === 'telemetry' && e.payload['event'] === event && (clientId === undefined || e.payload['client_id'] === clientId);

interface Stats {
  per_second: Record<string, number>;
  totals: Record<string, number>;
  observers_dropped: number;
  connections: number;
  channels: number;
}

/** Connects an observer to the telemetry stream; RawClient.connect waits for its welcome. */
async function observe(url: string): Promise<{ observer: RawClient; welcome: Envelope }> {
  const { client, welcome } = await RawClient.connect(url);
  return { observer: client, welcome };
}

describe('telemetry stream', () => {
  let srv: TestServer;
  afterEach(async () => {
    await srv.close();
  });

  it('sends its JSON as text frames (browsers get strings, not Blobs), the welcome and events alike', async () => {
    srv = await startServer();
    const ws = new WebSocket(srv.telemetryUrl);
    const frames: Array<{ binary: boolean; event: unknown }> = [];
    const two = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        frames.push({ binary: isBinary, event: (JSON.parse(data.toString()) as Envelope).payload['event'] });
        if (frames.length === 2) resolve();
      });
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const { client } = await RawClient.connect(srv.url);
    await two;
    expect(frames).toEqual([{ binary: false, event: 'welcome' }, { binary: false, event: 'connect' }]);
    await client.close();
    ws.close();
  });

  it('streams connect, join, command, error, leave and disconnect events, then per-second stats', async () => {
    srv = await startServer();
    expect(srv.telemetryUrl).toBe(`${srv.url}/telemetry`);
    const { observer, welcome } = await observe(srv.telemetryUrl);
    expect(welcome).toMatchObject({ type: 'system', payload: { event: 'welcome', stream: 'telemetry', server_version: srv.server.bus.version } });

    const { client } = await RawClient.connect(srv.url, { client_type: 'ai-agent', screen_name: 'probe' });
    const id = client.clientId;
    expect((await observer.next(telemetry('connect', id))).payload).toMatchObject({
      tenant: 'default', client_type: 'ai-agent', screen_name: 'probe',
    });

    await client.ok('join_channel', { room: 'lab', channel: 'bench' });
    expect((await observer.next(telemetry('join', id))).payload).toMatchObject({ room: 'lab', channel: 'bench' });
    const command = await observer.next(telemetry('command', id));
    expect(command.payload).toMatchObject({ command: 'join_channel', status: 'success' });
    expect(typeof command.payload['duration_ms']).toBe('number');

    expect((await client.command('no_such_command'))['status']).toBe('error');
    expect((await observer.next(telemetry('command', id))).payload).toMatchObject({ command: 'unknown', status: 'error' });

    client.send({ id: 'bad-1', type: 'shout' });
    await client.next((e) => e.type === 'error');
    expect((await observer.next(telemetry('error', id))).payload).toMatchObject({ error_code: 'UNKNOWN_TYPE', request_id: 'bad-1' });

    await client.ok('leave_channel', { room: 'lab', channel: 'bench' });
    expect((await observer.next(telemetry('leave', id))).payload).toMatchObject({ room: 'lab', channel: 'bench' });

    await client.close();
    expect((await observer.next(telemetry('disconnect', id))).payload).toMatchObject({ code: 1000 });

    // Stats tick every second from the first observer's attach; the first tick after the
    // disconnect reports the totals above and a non-zero rate for what happened in its second.
    const isStatsAfterDisconnect = (e: Envelope): boolean =>
      telemetry('stats')(e) && (e.payload['totals'] as Record<string, number>)['disconnects'] === 1;
    const stats = (await observer.next(isStatsAfterDisconnect, 1500)).payload as unknown as Stats;
    expect(stats.totals).toMatchObject({ connects: 1, disconnects: 1, commands: 3, errors: 2 });
    expect(stats.totals['messages_in']).toBe(4); // join, unknown command, bad frame, leave
    expect(stats.per_second['disconnects']).toBeGreaterThan(0);
    expect(Object.keys(stats.per_second).sort()).toEqual(['commands', 'connects', 'disconnects', 'errors', 'messages_in', 'messages_out']);
    expect(stats).toMatchObject({ observers_dropped: 0, connections: 0, channels: 1 });
    // Observers only listen: the stream never carried anything but telemetry after the welcome.
    expect(observer.received.every((e) => e.type === 'telemetry')).toBe(true);
    await observer.close();
  });

  it('serves the stream on its own port when telemetryPort is 0 (a free port)', async () => {
    srv = await startServer({ telemetryPort: 0 });
    const bus = new URL(srv.url);
    const tele = new URL(srv.telemetryUrl);
    expect(tele.protocol).toBe('ws:');
    expect(tele.hostname).toBe(bus.hostname);
    expect(Number(tele.port)).toBeGreaterThan(0);
    expect(tele.port).not.toBe(bus.port);

    const { observer } = await observe(srv.telemetryUrl);
    const { client } = await RawClient.connect(srv.url);
    await observer.next(telemetry('connect', client.clientId));
    await client.ok('ping');
    expect((await observer.next(telemetry('command', client.clientId))).payload).toMatchObject({ command: 'ping' });

    // The bus port no longer serves /telemetry, and the telemetry port answers plain HTTP with 426.
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${srv.url}/telemetry`);
      ws.on('open', () => reject(new Error('/telemetry on the bus port was accepted')));
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    expect(status).toBe(404);
    expect((await fetch(srv.telemetryUrl.replace(/^ws/, 'http'))).status).toBe(426);

    await client.close();
    await observer.next(telemetry('disconnect', client.clientId));
    await observer.close();
  });

  it('drops the oldest events for an observer that stops reading, without slowing the bus', async () => {
    srv = await startServer({ telemetryBufferSize: 16, rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 });
    const { observer: stalled } = await observe(srv.telemetryUrl);
    const { observer: watcher } = await observe(srv.telemetryUrl);
    const stalledSocket = rawSocket(stalled.ws);
    stalledSocket.pause();

    const { client: alice } = await RawClient.connect(srv.url);
    const { client: bob } = await RawClient.connect(srv.url);
    await alice.ok('join_channel', { room: 'r', channel: 'c' });
    await bob.ok('join_channel', { room: 'r', channel: 'c' });

    // Every command is a telemetry event. A load client fires pings (waiting only for the
    // last) and alice keeps chatting, until the healthy observer's stats report that the
    // stalled observer's queue dropped events.
    const { client: load } = await RawClient.connect(srv.url);
    const ping = JSON.stringify({ type: 'command', payload: { command: 'ping' } });
    let dropped = 0;
    let chat = 0;
    let commands = 4;
    const deadline = Date.now() + 10_000;
    while (dropped === 0) {
      expect(Date.now()).toBeLessThan(deadline);
      alice.send({ type: 'event', room: 'r', channel: 'c', payload: { n: chat++ } });
      for (let i = 0; i < 2000; i++) load.send(ping);
      await load.barrier();
      commands += 2001;
      load.received.length = 0;
      const stats = watcher.received.filter(telemetry('stats')).at(-1);
      dropped = (stats?.payload as unknown as Stats | undefined)?.observers_dropped ?? 0;
      watcher.received.length = 0;
    }
    expect(dropped).toBeGreaterThan(0);

    // The chat was never held up: every message arrived, in order.
    await alice.barrier();
    for (let n = 0; n < chat; n++) {
      expect((await bob.next((e) => e.type === 'event')).payload['n']).toBe(n);
    }

    // When it reads again, the stalled observer gets the newest events (a fresh marker),
    // but not all the older ones.
    stalledSocket.resume();
    alice.send({ id: 'marker', type: 'shout' });
    await alice.next((e) => e.type === 'error');
    await stalled.next((e) => e.type === 'telemetry' && e.payload['request_id'] === 'marker');
    const seenCommands = stalled.received.filter(telemetry('command')).length;
    expect(seenCommands).toBeGreaterThan(0);
    expect(seenCommands).toBeLessThan(commands);
    expect(stalled.ws.readyState).toBe(WebSocket.OPEN);

    await Promise.all([alice.close(), bob.close(), load.close(), stalled.close(), watcher.close()]);
  });

  it('lets an observer that never reads be closed by shutdown within shutdownTimeoutMs', async () => {
    srv = await startServer({ shutdownTimeoutMs: 200 });
    const { observer } = await observe(srv.telemetryUrl);
    const socket = rawSocket(observer.ws);
    socket.pause();
    const started = Date.now();
    await srv.close();
    expect(Date.now() - started).toBeLessThan(3000);
    socket.resume();
    expect((await observer.closed).code).not.toBe(1000);
  });
});
