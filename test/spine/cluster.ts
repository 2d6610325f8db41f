/**
 * Several ArqonBus nodes in one test process, sharing the run's test Redis
 * under one random key prefix, each on port 0: what the spine tests talk to
 * (not a test file itself). Clients are real WebSockets with JWTs.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ConfigKey } from '../../src/config/schema.js';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { clientIds, testRedis, type TestRedis } from '../helpers/redis.js';
import { startServer, type TestServer } from '../helpers/server.js';

export const SECRET = 'spine-test-secret-0123456789abcdef';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };
export const LOBBY = { room: 'lobby', channel: 'general' } as const;

type Overrides = Partial<Record<ConfigKey | 'tenants', unknown>>;

/** With redisUrl set every node keeps its history in Redis under the same prefix: the history is shared. */
export interface ClusterOptions {
  readonly overrides?: Overrides;
}

export class Cluster {
  readonly nodes: TestServer[] = [];
  private readonly clients: RawClient[] = [];

  private constructor(readonly redis: TestRedis, readonly admin: Redis, private readonly options: ClusterOptions) {}

  static async start(count: number, options: ClusterOptions = {}): Promise<Cluster> {
    const redis = await testRedis();
    const cluster = new Cluster(redis, await redis.client(), options);
    for (let i = 0; i < count; i++) await cluster.addNode();
    return cluster;
  }

  get prefix(): string {
    return this.redis.prefix;
  }

  /** Config a node of this cluster runs with (also what a child-process node gets). */
  config(extra: Overrides = {}): Overrides {
    return {
      auth: 'jwt', jwtSecret: SECRET, redisUrl: this.redis.url, redisKeyPrefix: this.prefix, nodeTtlMs: 1000,
      ...this.options.overrides, ...extra,
    };
  }

  async addNode(extra: Overrides = {}): Promise<TestServer> {
    const nodeId = `node${this.nodes.length}-${randomBytes(3).toString('hex')}`;
    const node = await startServer(this.config({ nodeId, ...extra }));
    this.nodes.push(node);
    return node;
  }

  async connect(node: number, sub: string, tenant = 'acme', extra: Partial<TokenClaims> = {}): Promise<RawClient> {
    const token = await mintToken(secretSigningKey(SECRET), { sub, tenant, permissions: ALL, ...extra }, { ttlS: 600 });
    const { client } = await RawClient.connect(this.nodes[node]!.url, { token });
    this.clients.push(client);
    // Nothing to wait for: the welcome comes once the node receives the client's private messages.
    return client;
  }

  /** How many nodes receive a pub/sub channel (PUBSUB NUMSUB). */
  async subscribers(topic: string): Promise<number> {
    const [, n] = (await this.admin.pubsub('NUMSUB', topic)) as [string, number];
    return Number(n);
  }

  /** Kills a node's spine connection (`pub` or `sub`), found by its CLIENT SETNAME; ioredis reconnects it. */
  async killSpineConnection(node: number, which: 'pub' | 'sub'): Promise<void> {
    const spine = this.nodes[node]!.server.bus.spine!;
    const [id] = await clientIds(this.admin, `${this.prefix}:spine:${spine.nodeId}:${which}`);
    if (id === undefined) throw new Error(`node ${node} has no ${which} connection`);
    if ((await this.admin.client('KILL', 'ID', id)) !== 1) throw new Error(`CLIENT KILL ${id} killed nothing`);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(this.nodes.splice(0).map((n) => n.close()));
    await this.redis.cleanup();
  }
}

/**
 * Waits for a condition on shared state (Redis, a node's registries) that is
 * reached asynchronously; fails with the timeout. A barrier, not a sleep:
 * it returns as soon as the condition holds.
 */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 8000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every client has processed everything sent before this call. */
export async function barrier(...clients: RawClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.barrier()));
}

export const isEvent = (e: Envelope): boolean => e.type === 'event';
export const presence = (event: string, clientId: string) => (e: Envelope): boolean =>
  e.type === 'system' && e.payload['event'] === event &&
  (e.payload['client'] as Record<string, unknown> | undefined)?.['client_id'] === clientId;
