/**
 * Private messages between nodes: one pub/sub channel per client id, which a
 * node subscribes to while that client has a connection on it. PUBLISH
 * answers how many nodes received the message, which is how the sender's
 * node knows a target is connected nowhere (UNKNOWN_TARGET) without any
 * directory lookup: one round trip per private message.
 */
import type { Redis } from 'ioredis';
import type { SpineKeys } from './keys.js';
import type { Subscriber } from './subscriber.js';
import { decodeSpineMessage, encodeSpineMessage } from './wire.js';

export type PrivateDelivery = (tenant: string, clientId: string, bytes: Buffer) => void;

export class PrivateBus {
  constructor(
    private readonly pub: Redis,
    private readonly sub: Subscriber,
    private readonly keys: SpineKeys,
    private readonly nodeId: string,
    private readonly deliver: PrivateDelivery,
  ) {}

  /** The client's first connection on this node. */
  online(tenant: string, clientId: string): void {
    this.sub.add(this.keys.clientTopic(tenant, clientId), (raw) => {
      const message = decodeSpineMessage(raw);
      if (message === null || message.origin === this.nodeId || message.kind !== 'P') return;
      this.deliver(tenant, clientId, message.bytes);
    });
  }

  /** The client's last connection on this node closed. */
  offline(tenant: string, clientId: string): void {
    this.sub.remove(this.keys.clientTopic(tenant, clientId));
  }

  ready(tenant: string, clientId: string): Promise<void> {
    return this.sub.ready(this.keys.clientTopic(tenant, clientId));
  }

  /**
   * Publishes to each target; resolves with the number of nodes that received
   * it per target (this node counts too when the target is also local).
   */
  async send(tenant: string, targets: readonly string[], bytes: Buffer): Promise<Map<string, number>> {
    const message = encodeSpineMessage('P', this.nodeId, bytes);
    const p = this.pub.pipeline();
    for (const t of targets) p.publish(this.keys.clientTopic(tenant, t), message);
    const results = (await p.exec()) ?? [];
    const counts = new Map<string, number>();
    targets.forEach((t, i) => {
      const [err, n] = results[i] ?? [null, 0];
      if (err) throw err;
      counts.set(t, Number(n));
    });
    return counts;
  }
}
