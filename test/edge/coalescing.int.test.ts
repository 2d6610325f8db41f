/**
 * Write coalescing (src/edge/connection.ts, TurnCoalescer): a connection's
 * second and later frames of one event-loop turn are corked and leave in one
 * write at the end of the turn. These tests run the real server and real
 * clients and check what that must not break: frame integrity and order, the
 * slow-consumer limit, and connections that go away mid-turn.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeEnvelope } from '../../src/edge/codec-json.js';
import type { Connection } from '../../src/edge/connection.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { systemEnvelope } from '../../src/protocol/outbound.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { RawClient, rawSocket } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** The server-side connection of a client that has received its welcome. */
function serverSide(srv: TestServer, welcome: Envelope): Connection {
  const conns = srv.server.bus.clients.connectionsOf(welcome.payload['tenant'] as string, welcome.payload['client_id'] as string);
  const conn = conns === undefined ? undefined : [...conns][0];
  if (conn === undefined) throw new Error('no server-side connection for the client');
  return conn;
}

const probe = (seq: number, text: string): Buffer => encodeEnvelope(systemEnvelope({ event: 'probe', seq, text }));
const isProbe = (e: Envelope): boolean => e.type === 'system' && e.payload['event'] === 'probe';
const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Texts whose frames use each WebSocket length encoding: 7-bit, 16-bit (126..65535) and 64-bit. */
const SIZES = [3, 90, 126, 400, 5_000, 65_536 + 17];
const textOf = (seq: number): string => `${seq}:`.padEnd(SIZES[seq % SIZES.length]!, String.fromCharCode(97 + (seq % 26)));

describe('write coalescing', () => {
  let srv: TestServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it('writes a lone frame at once and corks only from the second frame of a turn; all arrive intact and in order', async () => {
    srv = await startServer();
    const { client, welcome } = await RawClient.connect(srv.url);
    const conn = serverSide(srv, welcome);
    const socket = rawSocket(conn.socket);
    await turnEnd(); // start from a fresh turn: the welcome was this connection's last send

    expect(conn.send(probe(0, textOf(0)))).toBe(true);
    // An idle connection's frame is not held back: nothing corked, nothing left in user space.
    expect(socket.writableCorked).toBe(0);
    expect(socket.writableLength).toBe(0);

    const n = 60;
    for (let seq = 1; seq < n; seq++) expect(conn.send(probe(seq, textOf(seq)))).toBe(true);
    // The rest of the turn is held in the stream (and counted in bufferedAmount) until the turn ends.
    expect(socket.writableCorked).toBe(1);
    expect(conn.socket.bufferedAmount).toBeGreaterThan(65_536);

    const got: Envelope[] = [];
    for (let seq = 0; seq < n; seq++) got.push(await client.next(isProbe));
    expect(got.map((e) => e.payload['seq'])).toEqual([...Array(n).keys()]);
    for (const e of got) expect(e.payload['text']).toBe(textOf(e.payload['seq'] as number));
    expect(socket.writableCorked).toBe(0); // the end of the turn released the cork
    await client.close();
  });

  it('delivers a burst of events published in one go intact and in history order', async () => {
    srv = await startServer({ rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 });
    const { client: publisher } = await RawClient.connect(srv.url);
    const subscribers = await Promise.all([0, 1, 2].map(async () => (await RawClient.connect(srv!.url)).client));
    for (const c of [publisher, ...subscribers]) await c.ok('join_channel', { room: 'r', channel: 'burst' });

    // One synchronous loop: the frames reach the server in a few reads, so their fan-outs share turns.
    const n = 300;
    for (let seq = 0; seq < n; seq++) publisher.send({ type: 'event', room: 'r', channel: 'burst', payload: { seq, text: textOf(seq) } });

    for (const sub of subscribers) {
      const events: Envelope[] = [];
      for (let i = 0; i < n; i++) events.push(await sub.next((e) => e.type === 'event'));
      expect(events.map((e) => e.payload['seq'])).toEqual([...Array(n).keys()]);
      expect(events.map((e) => e.metadata?.['offset'])).toEqual([...Array(n).keys()].map((i) => i + 1));
      for (const e of events) expect(e.payload['text']).toBe(textOf(e.payload['seq'] as number));
    }
    await Promise.all([publisher, ...subscribers].map((c) => c.close()));
  });

  it('still disconnects a slow consumer with 4002 once its backlog, corked frames included, passes the limit', async () => {
    const limit = 16 * 1024;
    const warnings: string[] = [];
    const logger = createLogger('warn', (line) => warnings.push(line));
    srv = await startServer({ maxBufferedBytes: limit, rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 }, { logger });
    const { client: publisher } = await RawClient.connect(srv.url);
    const { client: slow } = await RawClient.connect(srv.url);
    const { client: healthy } = await RawClient.connect(srv.url);
    for (const c of [publisher, slow, healthy]) await c.ok('join_channel', { room: 'r', channel: 'feed' });
    rawSocket(slow.ws).pause();

    const seqs: number[] = [];
    let largestFrame = 0;
    healthy.ws.on('message', (data: Buffer) => {
      const env = JSON.parse(data.toString()) as Envelope;
      if (env.type !== 'event') return;
      seqs.push(env.payload['seq'] as number);
      largestFrame = Math.max(largestFrame, data.length);
    });

    // Batches of 8 events in one go, so most of each batch reaches the stalled peer corked.
    const blob = 'x'.repeat(1000);
    const decided = (): string | undefined => warnings.find((l) => l.includes('slow consumer disconnected'));
    let sent = 0;
    while (decided() === undefined) {
      if (sent >= 200_000) throw new Error(`no slow-consumer decision after ${sent} events`);
      for (let i = 0; i < 8; i++) publisher.send({ type: 'event', room: 'r', channel: 'feed', payload: { seq: sent++, blob } });
      while (seqs.length < sent && decided() === undefined && healthy.ws.readyState === WebSocket.OPEN) await turnEnd();
      expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    }
    // Read again before the server's hard-close timer (1 s): the backlog drains and the 4002 close frame follows it.
    rawSocket(slow.ws).resume();
    expect((await slow.closed).code).toBe(4002);

    // The decision came at the limit: the backlog was above it, by at most one frame (plus its ws header).
    const buffered = JSON.parse(decided()!.slice(decided()!.indexOf('{'))) as { buffered: number };
    expect(buffered.buffered).toBeGreaterThan(limit);
    expect(buffered.buffered).toBeLessThanOrEqual(limit + largestFrame + 14);

    await publisher.barrier();
    while (seqs.length < sent) await turnEnd(); // everything published before the barrier is on its way
    expect(seqs).toEqual([...Array(sent).keys()]);
    expect(publisher.ws.readyState).toBe(WebSocket.OPEN);
    await Promise.all([publisher.close(), healthy.close()]);
  });

  it('a connection terminated or closed mid-turn does not throw, and the others of the turn are still flushed', async () => {
    srv = await startServer();
    const { client: doomed, welcome: w1 } = await RawClient.connect(srv.url);
    const { client: closing, welcome: w2 } = await RawClient.connect(srv.url);
    const { client: other, welcome: w3 } = await RawClient.connect(srv.url);
    const [a, b, c] = [serverSide(srv, w1), serverSide(srv, w2), serverSide(srv, w3)];
    await turnEnd();

    // One turn: all three get corked; one is torn down, one closed politely, before the flush.
    for (let seq = 0; seq < 5; seq++) for (const conn of [a, b, c]) conn.send(probe(seq, textOf(seq)));
    expect(rawSocket(a.socket).writableCorked).toBe(1);
    a.terminate();
    b.close(1000, 'done');
    expect(a.send(probe(99, 'after terminate'))).toBe(false);
    expect(b.send(probe(99, 'after close'))).toBe(false);
    for (let seq = 5; seq < 8; seq++) c.send(probe(seq, textOf(seq)));

    // The politely closed one reads its frames first, then the close frame queued behind them.
    const closed = await closing.closed;
    expect(closing.received.filter(isProbe).map((e) => e.payload['seq'])).toEqual([0, 1, 2, 3, 4]);
    expect(closed.code).toBe(1000);
    expect((await doomed.closed).code).toBe(1006);

    const got: number[] = [];
    for (let i = 0; i < 8; i++) got.push((await other.next(isProbe)).payload['seq'] as number);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await other.barrier(); // the server is still serving
    await other.close();
  });
});
