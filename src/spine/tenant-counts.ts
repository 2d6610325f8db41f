/**
 * Open connections per tenant across nodes: one hash per tenant, node id →
 * count, each node writing its own field with an absolute value (HSET, not
 * HINCRBY), so re-asserting after a reconnect is idempotent and a reaped
 * node's field simply goes.
 */
import type { Redis } from 'ioredis';
import type { SpineKeys } from './keys.js';

export class TenantCounts {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SpineKeys,
    private readonly nodeId: string,
  ) {}

  /** Writes this node's counts (a count of 0 removes the field). */
  async set(counts: Iterable<readonly [string, number]>): Promise<void> {
    const p = this.redis.pipeline();
    let any = false;
    for (const [tenant, count] of counts) {
      any = true;
      if (count > 0) {
        p.hset(this.keys.tenantConnections(tenant), this.nodeId, count);
        p.sadd(this.keys.nodeTenants(this.nodeId), tenant);
      } else {
        // The index forgets the tenant too: it lists only tenants with a count to reap.
        p.hdel(this.keys.tenantConnections(tenant), this.nodeId);
        p.srem(this.keys.nodeTenants(this.nodeId), tenant);
      }
    }
    if (any) await p.exec();
  }

  /** Connections of the tenant on the other nodes. */
  async remote(tenant: string): Promise<number> {
    const all = await this.redis.hgetall(this.keys.tenantConnections(tenant));
    let sum = 0;
    for (const [node, count] of Object.entries(all)) if (node !== this.nodeId) sum += Number(count) || 0;
    return sum;
  }

  /** Tenants a node has a count for. */
  async tenantsOf(node: string): Promise<string[]> {
    return this.redis.smembers(this.keys.nodeTenants(node));
  }

  async reap(deadNode: string): Promise<void> {
    const index = this.keys.nodeTenants(deadNode);
    const tenants = await this.redis.smembers(index);
    const p = this.redis.pipeline();
    for (const tenant of tenants) p.hdel(this.keys.tenantConnections(tenant), deadNode);
    p.del(index);
    await p.exec();
  }
}
