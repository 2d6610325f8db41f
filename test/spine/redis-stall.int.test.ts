/**
 * A spine on a Redis that hangs instead of closing (SIGSTOP on a throwaway
 * redis-server of this test's own) and a spine whose start-up fails part-way.
 * Every spine call must answer within its command timeout, /health must name
 * the stall, and a failed start must leave the spine inactive with no
 * connection open.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/edge/connection.js';
import { Channel } from '../../src/router/channels.js';
import { ClientRegistry } from '../../src/router/clients.js';
import { RedisSpine, SPINE_STALLED } from '../../src/spine/spine.js';
import { RedisStartError } from '../../src/storage/redis-connection.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { mintToken, secretSigningKey } from '../../src/identity/mint.js';
import WebSocket from 'ws';
import { clientIds, testRedis, type TestRedis } from '../helpers/redis.js';
import { startServer } from '../helpers/server.js';
import { startRedisServer, type RedisServerProcess } from '../setup/redis-server.js';
import { SECRET, until } from './cluster.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function fakeConnection(clientId: string): Connection {
  return {
    connectionId: `cx_${clientId}`, tenant: 'acme', clientId, memberships: new Set(),
    describe: () => ({ client_id: clientId }),
  } as unknown as Connection;
}

function spineOn(url: string, prefix: string, clients = new ClientRegistry(), extra: { nodeId?: string } = {}): RedisSpine {
  const spine = new RedisSpine({
    url, prefix, nodeTtlMs: 600, clients, logger: createLogger('silent'), commandTimeoutMs: 300, nodeId: extra.nodeId,
  });
  cleanups.push(() => spine.close());
  return spine;
}

/** Resolves with how long `p` took to settle (fulfilled or rejected). */
async function settles(p: Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await p.catch(() => undefined);
  return Date.now() - t0;
}

describe('spine on a frozen Redis (SIGSTOP)', () => {
  it('every call answers within the command timeout, /health names the stall, and clears once Redis answers again', async () => {
    const server: RedisServerProcess = await startRedisServer();
    cleanups.push(() => server.stop());
    const clients = new ClientRegistry();
    const spine = spineOn(server.url, 'stall', clients);
    await spine.start();
    expect(spine.healthReason()).toBeNull();

    server.process.kill('SIGSTOP');
    cleanups.push(async () => void server.process.kill('SIGCONT'));
    const conn = fakeConnection('alice');
    clients.add(conn);
    spine.connectionOpened(conn); // SUBSCRIBE to alice's private channel: never answered
    const channel = new Channel('acme', 'lobby', 'general', null);
    channel.members.add(conn);
    spine.memberJoined(channel, conn); // SUBSCRIBE to the channel: never answered

    const calls: Array<Promise<unknown>> = [
      spine.remoteTenantConnections('acme'),
      spine.findChannel('acme', 'lobby', 'general'),
      spine.channelCount('acme'),
      spine.listChannels('acme'),
      spine.remoteMembers(channel),
      spine.whenReceiving(channel),
      spine.whenAddressable(conn),
      spine.sendPrivate('acme', ['bob'], Buffer.from('{}')),
    ];
    const took = await Promise.all(calls.map(settles));
    for (const ms of took) expect(ms).toBeLessThan(3000);
    expect(await spine.findChannel('acme', 'lobby', 'general')).toBeNull(); // the fallback: act alone
    expect(await spine.remoteTenantConnections('acme')).toBe(0);
    await expect(spine.sendPrivate('acme', ['bob'], Buffer.from('{}'))).rejects.toThrow();

    // Both connections are still open (a stall, not a disconnect), yet health reports it.
    await until(() => spine.healthReason()?.startsWith(SPINE_STALLED) === true, 5000, 'health to report the stall');

    server.process.kill('SIGCONT');
    await until(() => spine.healthReason() === null, 8000, 'health to clear');
  }, 30_000);
});

describe('a node on a frozen Redis (SIGSTOP), end to end', () => {
  it('a new client is upgraded and welcomed, and /health turns 503 naming the stall', async () => {
    const redisProc = await startRedisServer();
    cleanups.push(() => redisProc.stop());
    const node = await startServer({ auth: 'jwt', jwtSecret: SECRET, redisUrl: redisProc.url, redisKeyPrefix: 'frozen', nodeTtlMs: 1000 });
    cleanups.push(() => node.close());
    redisProc.process.kill('SIGSTOP');
    cleanups.push(async () => void redisProc.process.kill('SIGCONT'));
    const token = await mintToken(secretSigningKey(SECRET), { sub: 'late', tenant: 'acme', permissions: { publish: ['*'], subscribe: ['*'] } }, { ttlS: 600 });
    // The upgrade's read of other nodes' counts and the welcome's wait for its SUBSCRIBE are each bounded (5 s).
    const ws = new WebSocket(`${node.url}?token=${token}`);
    ws.on('error', () => {});
    cleanups.push(async () => void ws.terminate());
    const welcome = await new Promise<Record<string, unknown>>((resolve) => ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))));
    expect(welcome).toMatchObject({ type: 'system', payload: { event: 'welcome', client_id: 'late' } });
    await until(async () => {
      const res = await fetch(`${node.httpUrl}/health`);
      return res.status === 503 && JSON.stringify(await res.json()).includes(SPINE_STALLED);
    }, 10_000, '/health to report the stall');
  }, 40_000);
});

describe('spine start-up failing part-way', () => {
  let redis: TestRedis;
  afterEach(async () => {
    await redis.cleanup();
  });

  it('rejects naming Redis, stays inactive and closes its connections', async () => {
    redis = await testRedis();
    const admin = await redis.client();
    const nodeId = 'broken-node';
    const spine = spineOn(redis.url, redis.prefix, new ClientRegistry(), { nodeId });
    // The reap of a previous run reads this set: a key of another type makes that step fail.
    await admin.set(spine.keys.nodePresence(nodeId), 'not a set');

    const err = await spine.start().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(RedisStartError);
    expect((err as Error).message).toMatch(/^Redis at redis:\/\/.*: the spine could not start \(WRONGTYPE/);
    expect(spine.active).toBe(false);
    expect(spine.healthReason()).toBeNull();
    const open = async (): Promise<number> =>
      (await clientIds(admin, `${redis.prefix}:spine:${nodeId}:pub`)).length + (await clientIds(admin, `${redis.prefix}:spine:${nodeId}:sub`)).length;
    await until(async () => (await open()) === 0, 5000, 'the spine connections to close');
    expect(await admin.sismember(spine.keys.nodes(), nodeId)).toBe(0);
  });
});
