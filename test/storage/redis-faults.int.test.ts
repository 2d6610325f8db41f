/**
 * Redis faults through the real server: unreachable at start (refused, or
 * degraded with --redis-optional), lost while running (health, retryable
 * errors, local delivery, recovery) and its connection killed mid-stream.
 * The outage test runs a redis-server of its own; the machine's is never stopped.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RedisUnavailableError } from '../../src/storage/redis-connection.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { RawClient } from '../helpers/raw-client.js';
import { clientIds, testRedis, type TestRedis } from '../helpers/redis.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { freePort, startRedisServer, type RedisServerProcess } from '../setup/redis-server.js';

const LOBBY = { room: 'lobby', channel: 'general' } as const;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(overrides: Parameters<typeof startServer>[0], options: Parameters<typeof startServer>[1] = {}): Promise<TestServer> {
  const srv = await startServer(overrides, options);
  cleanups.push(() => srv.close());
  return srv;
}

async function client(srv: TestServer): Promise<RawClient> {
  const { client: c } = await RawClient.connect(srv.url);
  cleanups.push(() => c.close());
  await c.ok('join_channel', LOBBY);
  return c;
}

async function health(srv: TestServer): Promise<{ status: number; body: { status: string; reasons: string[] } }> {
  const res = await fetch(`${srv.httpUrl}/health`);
  return { status: res.status, body: (await res.json()) as { status: string; reasons: string[] } };
}

/** Polls /health until it answers `status`: the node gets there on its own (ioredis' reconnect), bounded. */
async function healthBecomes(srv: TestServer, status: number, timeoutMs = 10_000): ReturnType<typeof health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await health(srv);
    if (h.status === status) return h;
    if (Date.now() > deadline) throw new Error(`/health stayed ${h.status}: ${JSON.stringify(h.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const publish = (c: RawClient, id: string, payload: Record<string, unknown> = {}): void =>
  c.send({ type: 'event', id, ...LOBBY, payload, metadata: { echo: true } });
const eventWithId = (id: string) => (e: Envelope) => e.type === 'event' && e.id === id;
const outcomeOf = (id: string) => (e: Envelope) => (e.type === 'event' || e.type === 'error') && (e.id === id || e.request_id === id);

describe('Redis unreachable at start', () => {
  it('refuses to start, naming the URL without its password', async () => {
    const dead = `redis://app:hunter2@127.0.0.1:${await freePort()}`;
    const err = await startServer({ redisUrl: dead }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toContain('redis://app:***@127.0.0.1:');
    expect((err as Error).message).toContain('--redis-optional');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('makes arqonbus print the reason and exit 1', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--port', '0', '--auth', 'none', '--redis-url', dead], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`arqonbus: Redis at ${dead} is not reachable`);
    expect(stderr).toContain('is Redis running? start it or pass --redis-optional');
    expect(stdout).not.toContain('listening');
  });

  it('with --redis-optional runs on in-memory history and logs a warning', async () => {
    const lines: string[] = [];
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const srv = await server({ redisUrl: dead, redisOptional: true }, { logger: createLogger('warn', (l) => lines.push(l)) });
    expect(lines.some((l) => l.includes('--redis-optional: history is kept in memory'))).toBe(true);
    // One wait for Redis, not a second one for the spine: the node runs alone at once.
    expect(lines.filter((l) => l.includes('spine'))).toEqual([expect.stringContaining('runs alone (no spine)')]);
    expect(srv.server.bus.spine?.active).toBe(false);
    expect((await health(srv)).status).toBe(200);

    const a = await client(srv);
    publish(a, 'opt-1');
    expect((await a.next(eventWithId('opt-1'))).metadata?.['offset']).toBe(1);
    const page = await a.ok<{ messages: Envelope[] }>('history', LOBBY);
    expect(page.messages.map((m) => m.id)).toEqual(['opt-1']);
  });
});

describe('Redis unreachable at start, --redis-optional: exactly as without --redis-url', () => {
  it('an unknown private target is refused at once, through the session (error counted)', async () => {
    const srv = await server({ redisUrl: `redis://127.0.0.1:${await freePort()}`, redisOptional: true });
    const bus = srv.server.bus;
    expect(bus.spine).toBeDefined();
    expect(bus.spine?.active).toBe(false);
    const { client: a } = await RawClient.connect(srv.url);
    cleanups.push(() => a.close());
    const errorsBefore = bus.telemetry.counters.errors;
    a.send({ type: 'private', id: 'p-nobody', payload: { target: 'nobody', text: 'hi' } });
    const err = await a.next((e) => e.type === 'error' && e.request_id === 'p-nobody');
    expect(err).toMatchObject({ error_code: 'UNKNOWN_TARGET', payload: { unknown_targets: ['nobody'] } });
    // session.reject counts it; the spine's asynchronous report (which bypasses it) would not.
    expect(bus.telemetry.counters.errors).toBe(errorsBefore + 1);
  });
});

describe('health checks', () => {
  it('components contribute reasons that turn /health 503 until they clear or unregister', async () => {
    const srv = await server({});
    let reason: string | null = 'spine: test reason';
    const unregister = srv.server.addHealthCheck(() => reason);
    const down = await health(srv);
    expect(down).toMatchObject({ status: 503, body: { status: 'degraded', reasons: ['spine: test reason'] } });
    reason = null;
    expect((await health(srv)).status).toBe(200);
    reason = 'again';
    expect((await health(srv)).status).toBe(503);
    unregister();
    expect((await health(srv)).status).toBe(200);
  });
});

describe('Redis lost while running', () => {
  let redisProc: RedisServerProcess | undefined;
  afterEach(async () => {
    await redisProc?.stop();
    redisProc = undefined;
  });

  it('turns /health 503, answers publishes with retryable HISTORY_UNAVAILABLE, keeps local delivery, recovers', async () => {
    redisProc = await startRedisServer();
    const { port } = redisProc;
    const srv = await server({ redisUrl: redisProc.url });
    const a = await client(srv);
    const b = await client(srv);

    publish(a, 'before');
    const first = await b.next(eventWithId('before'));
    expect(first.metadata?.['offset']).toBe(1);
    expect((await health(srv)).status).toBe(200);

    await redisProc.stop();
    redisProc = undefined;
    const down = await healthBecomes(srv, 503);
    expect(down.body.status).toBe('degraded');
    expect(down.body.reasons.some((r) => r.startsWith('history store: Redis connection'))).toBe(true);

    // Not durable, so not delivered: the publisher is told to retry, nobody receives it.
    publish(a, 'during');
    const err = await a.next(outcomeOf('during'));
    expect(err).toMatchObject({ type: 'error', error_code: 'HISTORY_UNAVAILABLE', retryable: true, request_id: 'during' });
    await b.barrier();
    expect(b.received.some((e) => e.id === 'during')).toBe(false);

    // What needs no history still flows on this node.
    a.send({ type: 'private', id: 'dm-1', payload: { target: b.clientId, text: 'still here' } });
    expect((await b.next((e) => e.type === 'private' && e.id === 'dm-1')).payload['text']).toBe('still here');
    // A client connecting now is still welcomed (its private channel's SUBSCRIBE fails, not hangs).
    const { client: late } = await RawClient.connect(srv.url);
    cleanups.push(() => late.close());
    await late.barrier();

    // Redis back (empty: it kept nothing on disk), no restart of the node.
    redisProc = await startRedisServer({ port });
    await healthBecomes(srv, 200);
    publish(a, 'during');
    const retried = await b.next(eventWithId('during'));
    expect(retried.metadata?.['offset']).toBe(1);
    expect(retried.metadata?.['epoch']).not.toBe(first.metadata?.['epoch']); // the stream was lost with Redis
    const page = await a.ok<{ messages: Envelope[]; recovered: boolean }>('history', {
      ...LOBBY, since_offset: 1, epoch: first.metadata?.['epoch'],
    });
    expect(page.recovered).toBe(false);
    expect(page.messages.map((m) => m.id)).toEqual(['during']);
  });
});

describe('history connection killed mid-stream', () => {
  let redis: TestRedis;
  afterEach(async () => {
    await redis?.cleanup();
  });

  it('stores and delivers every event once; failed ones are retried by the sender', async () => {
    redis = await testRedis();
    const admin = await redis.client();
    const srv = await server({ redisUrl: redis.url, redisKeyPrefix: redis.prefix });
    const [history] = (await admin.client('LIST') as string)
      .split('\n')
      .map((line) => / name=(\S+:history:\S+) /.exec(line)?.[1])
      .filter((n): n is string => n?.startsWith(`${redis.prefix}:history:`) === true);
    expect(history).toBeDefined();
    const [connId] = await clientIds(admin, history!);

    const a = await client(srv);
    const b = await client(srv);
    const ids = Array.from({ length: 400 }, (_, i) => `burst-${i}`);
    const outcomes = ids.map((id) => a.next(outcomeOf(id), 15_000));
    for (const [i, id] of ids.entries()) {
      publish(a, id, { i });
      if (i === ids.length / 2) void admin.client('KILL', 'ID', connId!);
    }
    const results = await Promise.all(outcomes);
    const failed = results.filter((e) => e.type === 'error');
    for (const e of failed) expect(e).toMatchObject({ error_code: 'HISTORY_UNAVAILABLE', retryable: true });
    expect(await clientIds(admin, history!)).not.toContain(connId); // reconnected on a new connection

    await healthBecomes(srv, 200);
    for (const e of failed) publish(a, e.request_id!);
    await a.barrier();
    await b.barrier();

    const page = await a.ok<{ messages: Envelope[]; latest_offset: number }>('history', { ...LOBBY, limit: 1000 });
    expect(page.messages.map((m) => m.id).sort()).toEqual([...ids].sort());
    expect(page.messages.map((m) => m.metadata?.['offset'])).toEqual(ids.map((_, i) => i + 1));
    // Everything the publisher saw delivered reached the subscriber exactly once.
    const seenByB = b.received.filter((e) => e.type === 'event').map((e) => e.id);
    expect(new Set(seenByB).size).toBe(seenByB.length);
    for (const e of results) if (e.type === 'event') expect(seenByB).toContain(e.id);
  });
});
