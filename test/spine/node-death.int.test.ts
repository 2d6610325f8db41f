/**
 * A node killed with SIGKILL (a child process, so nothing of it runs any
 * cleanup): within the node TTL plus one sweep the surviving node reaps it.
 * Its clients' member_left events go out once, its presence entries, tenant
 * counts and registry entry disappear, and its clients are unknown targets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey } from '../../src/identity/mint.js';
import { RawClient } from '../helpers/raw-client.js';
import { barrier, Cluster, LOBBY, presence, SECRET, until } from './cluster.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let cluster: Cluster;
let child: ChildProcess | undefined;

beforeEach(async () => {
  cluster = await Cluster.start(1);
});
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await cluster.close();
});

/** Starts a node in a child process with the cluster's Redis and prefix; resolves with its URL. */
function spawnNode(nodeId: string): Promise<string> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/spine/node-main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ARQON_AUTH: 'jwt', ARQON_JWT_SECRET: SECRET, ARQON_REDIS_URL: cluster.redis.url, ARQON_REDIS_KEY_PREFIX: cluster.prefix,
      ARQON_NODE_ID: nodeId, ARQON_NODE_TTL_MS: '1000', ARQON_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`node exited with ${code}: ${err}`)));
  });
}

/** Starts a doomed node in a child process and connects `zed` (a channel member to be) to it. */
async function zedOn(nodeId: string): Promise<RawClient> {
  const url = await spawnNode(nodeId);
  const token = await mintToken(secretSigningKey(SECRET), { sub: 'zed', tenant: 'acme', permissions: { subscribe: ['*'], publish: ['*'] } }, { ttlS: 600 });
  const { client } = await RawClient.connect(url, { token });
  client.ws.on('error', () => {}); // its node is about to die under it
  return client;
}

describe('node death', () => {
  it('a SIGKILLed node is reaped: member_left for its clients, presence, counts and registry cleaned', async () => {
    const keys = cluster.nodes[0]!.server.bus.spine!.keys;
    const deadId = 'doomed-node';
    const zed = await zedOn(deadId);

    const alice = await cluster.connect(0, 'alice');
    await alice.ok('join_channel', LOBBY);
    await zed.ok('join_channel', LOBBY);
    await alice.next(presence('member_joined', 'zed'));
    const before = await alice.ok<{ members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(before.members.map((m) => m.client_id).sort()).toEqual(['alice', 'zed']);
    expect(await cluster.admin.sismember(keys.nodes(), deadId)).toBe(1);
    expect(await cluster.admin.hget(keys.tenantConnections('acme'), deadId)).toBe('1');

    child!.kill('SIGKILL');
    const left = await alice.next(presence('member_left', 'zed'), 10_000);
    expect(left.payload).toMatchObject({ ...LOBBY });

    const after = await alice.ok<{ member_count: number; members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(after.members.map((m) => m.client_id)).toEqual(['alice']);
    expect(after.member_count).toBe(1);
    await until(async () => (await cluster.admin.sismember(keys.nodes(), deadId)) === 0, 5000, 'registry entry removed');
    expect(await cluster.admin.hget(keys.tenantConnections('acme'), deadId)).toBeNull();
    expect(await cluster.admin.exists(keys.nodePresence(deadId), keys.nodeTenants(deadId), keys.alive(deadId))).toBe(0);

    alice.send({ type: 'private', id: 'to-zed', payload: { target: 'zed' } });
    expect((await alice.next((e) => e.request_id === 'to-zed')).error_code).toBe('UNKNOWN_TARGET');
    // member_left was sent once (one reaper), not once per surviving node or sweep.
    await barrier(alice);
    expect(alice.received.filter(presence('member_left', 'zed'))).toEqual([]);
  });

  it("a SIGKILLed node's agents stop being routable on the others", async () => {
    const url = await spawnNode('doomed-agent-node');
    const token = await mintToken(secretSigningKey(SECRET), { sub: 'billing-bot', tenant: 'acme', client_type: 'ai-agent', caps: ['*'], permissions: {} }, { ttlS: 600 });
    const { client: bot } = await RawClient.connect(url, { token });
    bot.ws.on('error', () => {});
    await bot.ok('register_capabilities', {
      capabilities: [{ name: 'billing.payments', description: 'Card payments, billing, invoices and refunds', examples: ['my card payment was declined'] }],
    });
    const user = await cluster.connect(0, 'user');
    const agents = async (): Promise<unknown[]> =>
      (await user.ok<{ agents: unknown[] }>('find_agents', { text: 'my card payment was declined' })).agents;
    await until(async () => (await agents()).length === 1, 10_000, 'the agent to be known on node 0');
    child!.kill('SIGKILL');
    await until(async () => (await agents()).length === 0, 10_000, 'the dead node\'s agent to vanish');
    expect(await cluster.admin.hlen(cluster.nodes[0]!.server.bus.spine!.keys.capabilities())).toBe(0);
  });

  it('a node restarted with the same id before it was reaped clears what its previous run left', async () => {
    const keys = cluster.nodes[0]!.server.bus.spine!.keys;
    const id = 'phoenix';
    const zed = await zedOn(id);
    const alice = await cluster.connect(0, 'alice');
    await alice.ok('join_channel', LOBBY);
    await zed.ok('join_channel', LOBBY);
    await alice.next(presence('member_joined', 'zed'));

    child!.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    // Back at once (a supervisor's restart, a fixed --node-id): its heartbeat key never expired,
    // so no other node will reap the dead run's members, counts or agents.
    await cluster.addNode({ nodeId: id });
    const left = await alice.next(presence('member_left', 'zed'), 5000);
    expect(left.payload).toMatchObject(LOBBY);
    const info = await alice.ok<{ members: Array<{ client_id: string }> }>('channel_info', LOBBY);
    expect(info.members.map((m) => m.client_id)).toEqual(['alice']);
    expect(await cluster.admin.hget(keys.tenantConnections('acme'), id)).toBeNull();
    expect(await cluster.admin.exists(keys.nodePresence(id))).toBe(0);
    expect(await cluster.admin.sismember(keys.nodes(), id)).toBe(1); // the new run is registered
  });

  it('with three nodes, a dead node is reaped once: every survivor sees one member_left', async () => {
    await cluster.addNode();
    const zed = await zedOn('doomed-2');
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    for (const c of [alice, bob]) await c.ok('join_channel', LOBBY);
    await zed.ok('join_channel', LOBBY);
    await alice.next(presence('member_joined', 'zed'));
    await bob.next(presence('member_joined', 'zed'));
    child!.kill('SIGKILL');
    await alice.next(presence('member_left', 'zed'), 10_000);
    await bob.next(presence('member_left', 'zed'), 10_000);
    await until(async () => (await cluster.admin.sismember(cluster.nodes[0]!.server.bus.spine!.keys.nodes(), 'doomed-2')) === 0);
    await barrier(alice, bob);
    expect([...alice.received, ...bob.received].filter(presence('member_left', 'zed'))).toEqual([]);
  });
});
