/**
 * The CASIL policy across nodes. A successful `casil_reload` on one node
 * writes the policy to one key (`<prefix>:casil:policy`; a reset to the
 * config file's policy deletes it) and announces the change on one channel
 * every node subscribes to, in one MULTI. A node that hears the notice reads
 * the key and applies what it holds, so every node ends on the key's value
 * whatever order concurrent reloads arrive in; a node starting later (or
 * resubscribing after an outage) reads it too. Each node validates before
 * applying: one that cannot keeps its policy and logs why.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.js';
import type { SpineKeys } from './keys.js';
import type { Subscriber } from './subscriber.js';
import { decodeSpineMessage, encodeSpineMessage } from './wire.js';

/** What the spine needs from the node's CASIL. */
export interface CasilPolicySink {
  /**
   * Applies a policy another node reloaded (`null`: back to this node's
   * configured policy). Returns null when applied, else why it was refused
   * (the policy in force stays).
   */
  applyShared(policy: unknown, origin: string): string | null;
}

/** The stored value: the policy as given to `casil_reload`, who set it and when. */
interface StoredPolicy {
  readonly policy: unknown;
  readonly node: string;
  readonly at: string;
}

export class CasilPolicyShare {
  /** The raw stored value this node last applied (null: none stored, the configured policy is in force). */
  private applied: string | null = null;
  /** One read-and-apply at a time, in notice order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Subscriber,
    private readonly keys: SpineKeys,
    private readonly nodeId: string,
    private readonly sink: CasilPolicySink,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to notices, then applies the stored policy, if any (a runtime policy wins over the config file's). */
  async start(): Promise<void> {
    this.sub.add(this.keys.casilChanges(), (raw) => {
      if (decodeSpineMessage(raw) !== null) void this.reload();
    });
    await this.sub.ready(this.keys.casilChanges());
    await this.reload();
  }

  /** Reads the key and applies it when it differs from what this node applied last. Never rejects. */
  reload(): Promise<void> {
    this.chain = this.chain.then(() => this.readAndApply()).catch((err: unknown) => {
      this.logger.warn('casil: could not read the shared policy; this node keeps its policy', { error: String(err) });
    });
    return this.chain;
  }

  /**
   * Shares a policy this node has just applied (`null`: reset every node to
   * its configured policy). Rejects when Redis cannot take it.
   */
  async publish(policy: unknown): Promise<void> {
    const raw = policy === null ? null : JSON.stringify({ policy, node: this.nodeId, at: new Date().toISOString() } satisfies StoredPolicy);
    // Applied here already: this node's own notice then finds nothing new (unless another reload came in between).
    this.applied = raw;
    const notice = encodeSpineMessage('E', this.nodeId, Buffer.from(raw === null ? 'reset' : 'set'));
    const tx = this.pub.multi();
    if (raw === null) tx.del(this.keys.casilPolicy());
    else tx.set(this.keys.casilPolicy(), raw);
    tx.publish(this.keys.casilChanges(), notice);
    const results = await tx.exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (results === null || failed) throw failed ?? new Error('casil policy transaction aborted');
  }

  private async readAndApply(): Promise<void> {
    const raw = await this.pub.get(this.keys.casilPolicy());
    if (raw === this.applied) return;
    this.applied = raw;
    let stored: StoredPolicy | null = null;
    if (raw !== null) {
      try {
        stored = JSON.parse(raw) as StoredPolicy;
      } catch {
        this.logger.warn('casil: the shared policy is not JSON; this node keeps its policy', { key: this.keys.casilPolicy() });
        return;
      }
      if (typeof stored !== 'object' || stored === null || !Object.hasOwn(stored, 'policy')) {
        this.logger.warn('casil: the shared policy has no policy field; this node keeps its policy', { key: this.keys.casilPolicy() });
        return;
      }
    }
    const origin = stored === null ? 'reset' : String(stored.node);
    const error = this.sink.applyShared(stored === null ? null : stored.policy, origin);
    // Applied: the sink logs it with its version.
    if (error !== null) this.logger.warn('casil: shared policy refused; this node keeps its policy', { origin, error });
  }
}
