/**
 * An event whose append is slow while its channel changes on the sender's
 * node. With the spine a node drops its Channel when its last local member
 * leaves; an event stored meanwhile must still reach the other nodes (and is
 * not reported as deleted). Only a real delete_channel makes it
 * CHANNEL_NOT_FOUND. Node 0 keeps its history in a memory store whose appends
 * the test holds; node 1 is an ordinary node.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { MemoryStreamStore } from '../../src/storage/stream-store-memory.js';
import type { AppendResult, StreamKey } from '../../src/storage/stream-store.js';
import { RawClient } from '../helpers/raw-client.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { LOBBY, SECRET, until } from './cluster.js';

/** Memory history whose appends wait while held. */
class SlowStore extends MemoryStreamStore {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  waiting = 0;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  letGo(): void {
    this.open?.();
    this.gate = null;
  }

  override async append(key: StreamKey, envelope: Envelope, time: number): Promise<AppendResult> {
    if (this.gate !== null) {
      this.waiting++;
      await this.gate;
    }
    return super.append(key, envelope, time);
  }
}

let redis: TestRedis;
let store: SlowStore;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];

beforeEach(async () => {
  redis = await testRedis();
  store = new SlowStore({ maxMessages: 100, maxAgeMs: 0 });
  const config = { auth: 'jwt', jwtSecret: SECRET, redisUrl: redis.url, redisKeyPrefix: redis.prefix, nodeTtlMs: 1000 };
  nodes.push(await startServer({ ...config, nodeId: 'slow-0' }, { store }));
  nodes.push(await startServer({ ...config, nodeId: 'slow-1' }));
});
afterEach(async () => {
  store.letGo();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await redis.cleanup();
});

async function connect(node: number, sub: string, admin = false): Promise<RawClient> {
  const permissions = { publish: ['*'], subscribe: ['*'], history: ['*'] };
  const token = await mintToken(secretSigningKey(SECRET), { sub, tenant: 'acme', permissions, ...(admin ? { admin: true } : {}) }, { ttlS: 600 });
  const { client } = await RawClient.connect(nodes[node]!.url, { token });
  clients.push(client);
  return client;
}

describe('an event stored while its channel changes on the sender node', () => {
  it('the sender leaving during the append: still delivered to the other nodes, not reported deleted', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    await alice.ok('join_channel', LOBBY);
    await bob.ok('join_channel', LOBBY);
    store.hold();
    alice.send({ type: 'event', id: 'slow-1', ...LOBBY, payload: { text: 'slow' } });
    await until(() => store.waiting === 1, 5000, 'the append to start');
    await alice.ok('leave_channel', LOBBY); // node 0's last member: it drops its Channel
    expect(nodes[0]!.server.bus.channels.get('acme', LOBBY.room, LOBBY.channel)).toBeUndefined();
    store.letGo();
    expect((await bob.next((e) => e.id === 'slow-1')).payload).toEqual({ text: 'slow' });
    await alice.barrier();
    expect(alice.received.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a delete_channel during the append: CHANNEL_NOT_FOUND, nothing delivered', async () => {
    const alice = await connect(0, 'alice', true);
    const bob = await connect(1, 'bob');
    await alice.ok('join_channel', LOBBY);
    await bob.ok('join_channel', LOBBY);
    store.hold();
    alice.send({ type: 'event', id: 'gone-1', ...LOBBY, payload: {} });
    await until(() => store.waiting === 1, 5000, 'the append to start');
    await alice.ok('delete_channel', LOBBY);
    store.letGo();
    const err = await alice.next((e) => e.type === 'error' && e.request_id === 'gone-1');
    expect(err).toMatchObject({ error_code: 'CHANNEL_NOT_FOUND' });
    await bob.barrier();
    expect(bob.received.filter((e) => e.id === 'gone-1')).toEqual([]);
  });
});
