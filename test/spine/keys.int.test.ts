/**
 * Redis key hygiene: after clients come and go (channels joined and left,
 * agents declared and gone, several tenants), what stays in Redis is only
 * what has an owner that deletes it (channels and their history, until
 * delete_channel; a live node's registration) or a TTL. Nothing grows with
 * the number of channels or tenants a node has ever seen.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cluster, until } from './cluster.js';

let cluster: Cluster;

beforeEach(async () => {
  cluster = await Cluster.start(2);
});
afterEach(async () => {
  await cluster.close();
});

async function keysUnderPrefix(): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await cluster.admin.scan(cursor, 'MATCH', `${cluster.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

describe('Redis keys left behind', () => {
  it('only channels, their history and live nodes remain once clients left; only channels once nodes stopped', async () => {
    const p = cluster.prefix;
    const keys = cluster.nodes[0]!.server.bus.spine!.keys;
    const nodeIds = cluster.nodes.map((n) => n.server.bus.spine!.nodeId);
    for (const [node, tenant] of [[0, 'acme'], [1, 'globex'], [1, 'initech']] as const) {
      const c = await cluster.connect(node, `user-${tenant}`, tenant);
      for (let i = 0; i < 4; i++) {
        await c.ok('join_channel', { room: 'r', channel: `c${i}` });
        await c.ok('leave_channel', { room: 'r', channel: `c${i}` });
      }
      await c.ok('join_channel', { room: 'r', channel: 'kept' });
      await c.close();
    }
    await until(async () => (await cluster.admin.exists(...['acme', 'globex', 'initech'].map((t) => keys.tenantConnections(t)))) === 0, 5000, 'counts to go');

    const owned = (k: string): boolean =>
      k === keys.nodes() || k.startsWith(`${p}:channels:`) || k.startsWith(`${p}:h:{`) || nodeIds.some((n) => k === keys.alive(n));
    const left = await keysUnderPrefix();
    expect(left.filter((k) => !owned(k))).toEqual([]);
    for (const n of nodeIds) expect(await cluster.admin.pttl(keys.alive(n))).toBeGreaterThan(0);
    // Each channel is in its tenant's directory until delete_channel.
    expect(await cluster.admin.hlen(keys.channels('globex'))).toBe(5);

    await Promise.all(cluster.nodes.splice(0).map((n) => n.close()));
    const afterStop = await keysUnderPrefix();
    expect(afterStop.filter((k) => !k.startsWith(`${p}:channels:`) && !k.startsWith(`${p}:h:{`))).toEqual([]);
  });
});
