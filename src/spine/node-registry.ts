/**
 * Node liveness: each node keeps a heartbeat key alive (PX nodeTtlMs,
 * refreshed every third of it) and sits in the node set. Every node sweeps
 * the set on the same tick; a node whose heartbeat key expired is reaped by
 * the one node that wins its reap lock (SET NX), so its clients' member_left
 * events go out once. A dead node is thus cleaned up at most
 * nodeTtlMs + nodeTtlMs/3 (plus the cleanup itself) after its last beat.
 */
import type { Redis } from 'ioredis';
import type { SpineKeys } from './keys.js';

export interface NodeRegistryHooks {
  /** Cleans up after a dead node (presence, counts, …). Runs on exactly one node per death. */
  reap(deadNode: string): Promise<void>;
  /** This node was reaped while cut off from Redis (it is back now): restate its state. */
  resurrected(): void;
  onError(err: unknown): void;
}

export class NodeRegistry {
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  /** Why the last heartbeat or sweep failed (timed out, say), until one succeeds: a stalled Redis. */
  private failure: string | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SpineKeys,
    readonly nodeId: string,
    readonly ttlMs: number,
    private readonly hooks: NodeRegistryHooks,
  ) {}

  /** Registers the node and starts beating and sweeping. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  /** Why Redis did not answer the last heartbeat (e.g. `Command timed out`), or null while it does. */
  get stalled(): string | null {
    return this.failure;
  }

  /** Graceful stop: the node leaves the set at once instead of waiting for its TTL. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const p = this.redis.pipeline();
    p.del(this.keys.alive(this.nodeId));
    p.srem(this.keys.nodes(), this.nodeId);
    await p.exec();
  }

  /** Refreshes the heartbeat; true when the node had been removed from the set (reaped). */
  async beat(): Promise<boolean> {
    const p = this.redis.pipeline();
    p.set(this.keys.alive(this.nodeId), String(Date.now()), 'PX', this.ttlMs);
    p.sadd(this.keys.nodes(), this.nodeId);
    const results = await p.exec();
    const added = results?.[1];
    if (added?.[0]) throw added[0];
    return added?.[1] === 1;
  }

  private async tick(): Promise<void> {
    // One beat/sweep at a time: a slow Redis must not pile them up.
    if (this.beating) return;
    this.beating = true;
    try {
      if (await this.beat()) this.hooks.resurrected();
      await this.sweep();
      this.failure = null;
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
      this.hooks.onError(err);
    } finally {
      this.beating = false;
    }
  }

  /** Finds nodes whose heartbeat expired and reaps those this node wins the lock for. */
  async sweep(): Promise<string[]> {
    const nodes = (await this.redis.smembers(this.keys.nodes())).filter((n) => n !== this.nodeId);
    if (nodes.length === 0) return [];
    const p = this.redis.pipeline();
    for (const n of nodes) p.exists(this.keys.alive(n));
    const alive = (await p.exec()) ?? [];
    const reaped: string[] = [];
    for (let i = 0; i < nodes.length; i++) {
      if (alive[i]?.[1] !== 0) continue;
      const dead = nodes[i]!;
      const won = await this.redis.set(this.keys.reapLock(dead), this.nodeId, 'PX', this.ttlMs, 'NX');
      if (won !== 'OK') continue;
      await this.hooks.reap(dead);
      await this.redis.srem(this.keys.nodes(), dead);
      reaped.push(dead);
    }
    return reaped;
  }
}
