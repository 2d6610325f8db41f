import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient, rawSocket } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const memberLeft = (clientId: string) => (e: Envelope): boolean =>
  e.type === 'system' && e.payload['event'] === 'member_left' && (e.payload['client'] as { client_id?: string }).client_id === clientId;

/** Resolves after `ws` has received `n` more pings from the server. */
function pings(ws: WebSocket, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onPing = (): void => {
      if (++seen < n) return;
      ws.off('ping', onPing);
      resolve();
    };
    ws.on('ping', onPing);
  });
}

async function metricsText(srv: TestServer): Promise<string> {
  return (await fetch(`${srv.httpUrl}/metrics`)).text();
}

describe('lifecycle', () => {
  let srv: TestServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it('closes a client that stops answering pings (4001) and cleans it up everywhere', async () => {
    srv = await startServer({ heartbeatIntervalMs: 100 });
    const { client: alice } = await RawClient.connect(srv.url);
    await alice.ok('join_channel', { room: 'r', channel: 'c' });

    // A client whose transport never answers pings; it joins, then falls silent.
    const dead = new WebSocket(srv.url, { autoPong: false });
    const deadClosed = new Promise<number>((resolve) => dead.on('close', (code) => resolve(code)));
    const deadFrames: Envelope[] = [];
    const deadNext = (match: (e: Envelope) => boolean): Promise<Envelope> =>
      new Promise((resolve) => {
        const seen = deadFrames.find(match);
        if (seen) return resolve(seen);
        const onMessage = (data: Buffer): void => {
          const env = JSON.parse(data.toString()) as Envelope;
          deadFrames.push(env);
          if (match(env)) {
            dead.off('message', onMessage);
            resolve(env);
          }
        };
        dead.on('message', onMessage);
      });
    const welcome = await deadNext((e) => e.payload['event'] === 'welcome');
    const deadId = welcome.payload['client_id'] as string;
    dead.send(JSON.stringify({ type: 'command', id: 'j', payload: { command: 'join_channel', parameters: { room: 'r', channel: 'c' } } }));
    expect((await deadNext((e) => e.type === 'command_response')).payload['status']).toBe('success');
    await alice.next((e) => e.type === 'system' && e.payload['event'] === 'member_joined');
    let deadPings = 0;
    dead.on('ping', () => deadPings++);

    // The server times it out with the documented code, and its peers hear it left.
    expect(await deadClosed).toBe(4001);
    expect(deadPings).toBeGreaterThanOrEqual(1);
    await alice.next(memberLeft(deadId));
    const info = await alice.ok<{ members: Array<{ client_id: string }>; member_count: number }>('channel_info', { room: 'r', channel: 'c' });
    expect(info.member_count).toBe(1);
    expect(info.members.map((m) => m.client_id)).toEqual([alice.clientId]);
    expect((await alice.ok('status'))['connections']).toBe(1);
    expect(await metricsText(srv)).toContain('arqon_heartbeat_timeouts_total 1');

    // Meanwhile the answering client survives several more intervals.
    await pings(alice.ws, 5);
    await alice.barrier();
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
    expect(alice.received.filter((e) => e.type === 'error')).toEqual([]);
    await alice.close();
  });

  it('disconnects a subscriber that stops reading (4002) while a healthy one gets every event', async () => {
    // Rate limits out of the way: this test floods on purpose.
    srv = await startServer({ maxBufferedBytes: 16 * 1024, rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 });
    const { client: publisher } = await RawClient.connect(srv.url);
    const { client: slow } = await RawClient.connect(srv.url);
    const { client: healthy } = await RawClient.connect(srv.url);
    for (const c of [publisher, slow, healthy]) await c.ok('join_channel', { room: 'r', channel: 'feed' });
    rawSocket(slow.ws).pause();

    // The healthy subscriber counts events itself rather than keeping them (they are large).
    const seqs: number[] = [];
    let slowLeft = false;
    healthy.ws.on('message', (data: Buffer) => {
      const env = JSON.parse(data.toString()) as Envelope;
      if (env.type === 'event') seqs.push(env.payload['seq'] as number);
      else if (memberLeft(slow.clientId)(env)) slowLeft = true;
    });

    // Publish in small paced batches (each is read by the healthy subscriber before the
    // next) until the stalled subscriber's backlog crosses the limit and it is removed.
    const blob = 'x'.repeat(4000);
    let sent = 0;
    while (!slowLeft) {
      if (sent >= 50_000) throw new Error(`slow consumer still a member after ${sent} events`);
      for (let i = 0; i < 4; i++) publisher.send({ type: 'event', room: 'r', channel: 'feed', payload: { seq: sent++, blob } });
      while (seqs.length < sent && healthy.ws.readyState === WebSocket.OPEN) await new Promise((r) => setImmediate(r));
      expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    }
    await publisher.barrier();
    expect(seqs).toEqual([...Array(sent).keys()]);

    const metrics = await metricsText(srv);
    expect(metrics).toContain('arqon_slow_consumer_disconnects_total 1');
    expect(metrics).toMatch(/arqon_delivery_errors_total [1-9]/); // events skipped while it was closing

    // The server sent close 4002 behind the backlog and, since the peer could not read it,
    // terminated the socket a second later (which is when member_left went out). The close
    // frame never left the server's user-space buffer, so the stalled client sees 1006.
    rawSocket(slow.ws).resume();
    expect((await slow.closed).code).toBe(1006);
    await publisher.barrier();
    expect(publisher.ws.readyState).toBe(WebSocket.OPEN);
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    await Promise.all([publisher.close(), healthy.close()]);
  });

  it('does not mistake one frame larger than maxBufferedBytes for a slow consumer', async () => {
    srv = await startServer({ maxBufferedBytes: 16 * 1024 });
    const { client: a } = await RawClient.connect(srv.url);
    const { client: b } = await RawClient.connect(srv.url);
    await a.ok('join_channel', { room: 'r', channel: 'c' });
    await b.ok('join_channel', { room: 'r', channel: 'c' });
    const blob = 'x'.repeat(12 * 1024);
    for (let i = 0; i < 3; i++) {
      a.send({ type: 'event', room: 'r', channel: 'c', payload: { i, blob: i === 0 ? blob + blob : blob } });
      expect((await b.next((e) => e.type === 'event')).payload['i']).toBe(i);
    }
    // A history page of ~48 KiB goes out in one frame to a reader that keeps up.
    const page = await a.ok<{ messages: unknown[] }>('history', { room: 'r', channel: 'c' });
    expect(page.messages).toHaveLength(3);
    await Promise.all([a.barrier(), b.barrier()]);
    expect(await metricsText(srv)).toContain('arqon_slow_consumer_disconnects_total 0');
    await Promise.all([a.close(), b.close()]);
  });

  it('close(): turns /health to 503, refuses new upgrades, closes clients with 1001, terminates stragglers', async () => {
    const s = await startServer({ shutdownTimeoutMs: 1000 });
    srv = s;
    const { client: polite } = await RawClient.connect(s.url);
    // A client that will not read the close frame keeps the shutdown waiting until the timeout.
    const { client: stalled } = await RawClient.connect(s.url);
    rawSocket(stalled.ws).pause();

    // An HTTP request whose headers are not finished yet: the connection is busy, not idle.
    const http = connect(s.port, '127.0.0.1');
    await new Promise<void>((resolve) => http.once('connect', () => resolve()));
    let response = '';
    http.setEncoding('utf8');
    http.on('data', (chunk: string) => (response += chunk));
    const httpEnded = new Promise<void>((resolve) => http.once('close', () => resolve()));
    http.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
    await polite.barrier(); // the server has read everything written before this round trip

    const closing = s.server.close();
    expect(s.server.health()).toEqual({ state: 'shutting_down', reasons: ['server is shutting down'] });
    expect(await polite.closed).toMatchObject({ code: 1001 });

    // New upgrades fail (the listener is closed; a request already in flight would get 503).
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(s.url);
      ws.on('open', () => resolve('open'));
      ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      ws.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).not.toBe('open');

    // The request in flight is answered 503 while the server waits for the stalled client.
    http.write('\r\n');
    while (!response.includes('\r\n\r\n{') || !response.endsWith('}')) {
      await new Promise<void>((resolve) => http.once('data', () => resolve()));
    }
    expect(response).toMatch(/^HTTP\/1\.1 503 /);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 'shutting_down',
      reasons: ['server is shutting down'],
    });

    await closing;
    await httpEnded;
    rawSocket(stalled.ws).resume();
    expect((await stalled.closed).code).not.toBe(1000);
    expect(s.server.bus.clients.size).toBe(0);
    await expect(s.server.close()).resolves.toBeUndefined(); // idempotent
  });

  it('the zero-config CLI prints working tokens, and stops on SIGTERM: clients get 1001, exit 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--port', '0', '--log-level', 'warn'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      let stdout = '';
      const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const m = /listening on (ws:\/\/\S+)/.exec(stdout);
          const t = /human alice: +(\S+)/.exec(stdout);
          if (m && t) resolve({ url: m[1]!, token: t[1]! });
        });
        void exited.then(({ code }) => reject(new Error(`CLI exited early with ${code}: ${stderr}`)));
      });
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      // Without a token the default (jwt) mode refuses the upgrade; the printed token works.
      const refused = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => reject(new Error('connected without a token')));
        ws.on('error', () => undefined);
      });
      expect(refused).toBe(401);
      const { client: a, welcome } = await RawClient.connect(url, { token });
      expect(welcome.payload['client_id']).toBe('alice');
      const { client: b } = await RawClient.connect(url, { token });
      await a.barrier();
      await b.barrier();

      const started = Date.now();
      child.kill('SIGTERM');
      const [ca, cb] = await Promise.all([a.closed, b.closed]);
      expect(ca.code).toBe(1001);
      expect(cb.code).toBe(1001);
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(stderr).not.toMatch(/fatal|ERROR/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
