/**
 * Channel traffic between nodes: one pub/sub channel per bus channel, which a
 * node subscribes to only while it has local members, so one PUBLISH reaches
 * exactly the nodes with an interested member (one copy each). The published
 * bytes are the origin's encoded envelope; the origin skips its own copy.
 */
import type { Redis } from 'ioredis';
import type { SpineKeys } from './keys.js';
import type { Subscriber } from './subscriber.js';
import { decodeSpineMessage, encodeSpineMessage, type SpineKind, type SpineMessage } from './wire.js';

export interface ChannelAddress {
  readonly tenant: string;
  readonly room: string;
  readonly name: string;
}

export type ChannelDelivery = (address: ChannelAddress, message: SpineMessage) => void;

export class ChannelBus {
  constructor(
    private readonly pub: Redis,
    private readonly sub: Subscriber,
    private readonly keys: SpineKeys,
    private readonly nodeId: string,
    private readonly deliver: ChannelDelivery,
    private readonly onError: (err: unknown) => void,
  ) {}

  private topic(a: ChannelAddress): string {
    return this.keys.channelTopic(a.tenant, a.room, a.name);
  }

  /** The node has its first local member: start receiving the channel. */
  interest(address: ChannelAddress): void {
    const { tenant, room, name } = address;
    const frozen: ChannelAddress = { tenant, room, name };
    this.sub.add(this.topic(address), (raw) => {
      const message = decodeSpineMessage(raw);
      if (message === null || message.origin === this.nodeId) return;
      this.deliver(frozen, message);
    });
  }

  /** The node's last local member left: Redis stops sending it the channel. */
  noInterest(address: ChannelAddress): void {
    this.sub.remove(this.topic(address));
  }

  ready(address: ChannelAddress): Promise<void> {
    return this.sub.ready(this.topic(address));
  }

  /**
   * Publishes already-encoded bytes. `origin` is this node unless the message
   * is sent on behalf of a dead node (the reaper's member_left), which every
   * node, this one included, must then deliver.
   */
  publish(address: ChannelAddress, kind: SpineKind, bytes: Buffer, origin = this.nodeId): void {
    this.pub.publish(this.topic(address), encodeSpineMessage(kind, origin, bytes)).catch(this.onError);
  }
}
