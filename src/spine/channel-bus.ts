/**
 * Channel traffic between nodes: one pub/sub channel per bus channel, which a
 * node subscribes to only while it has local members, so one PUBLISH reaches
 * exactly the nodes with an interested member (one copy each). The published
 * bytes are the encoded envelope. Events are published by the history store
 * in the append's own step (kind S, see `broadcast`) and delivered by every
 * node, origin included; what the origin already delivered itself (presence,
 * kind E) is skipped there.
 */
import type { Redis } from 'ioredis';
import type { AppendBroadcast } from '../storage/stream-store.js';
import type { ChannelCatchUp } from './catch-up.js';
import type { SpineKeys } from './keys.js';
import type { Subscriber } from './subscriber.js';
import { decodeSpineMessage, encodeSpineMessage, positionTemplate, spineHeader, type SpineKind, type SpineMessage } from './wire.js';

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
    /** Fills the gaps a subscriber outage leaves (absent without a shared history store). */
    private readonly catchUp?: ChannelCatchUp,
  ) {
    if (catchUp === undefined) return;
    // Hold stored events from the moment the connection is gone; fill the gap once each channel is live again.
    sub.onDisconnect(() => catchUp.suspend());
    sub.onResubscribed((topic) => void catchUp.resume(topic).catch(onError));
  }

  private topic(a: ChannelAddress): string {
    return this.keys.channelTopic(a.tenant, a.room, a.name);
  }

  /** The node has its first local member: start receiving the channel. */
  interest(address: ChannelAddress): void {
    const { tenant, room, name } = address;
    const frozen: ChannelAddress = { tenant, room, name };
    const topic = this.topic(address);
    this.catchUp?.watch(topic, frozen);
    this.sub.add(topic, (raw) => {
      const message = decodeSpineMessage(raw);
      if (message === null || (message.origin === this.nodeId && message.kind !== 'S')) return;
      if (message.kind === 'S' && this.catchUp?.received(topic, message) === false) return;
      this.deliver(frozen, message);
    });
  }

  /** The node's last local member left: Redis stops sending it the channel. */
  noInterest(address: ChannelAddress): void {
    const topic = this.topic(address);
    this.catchUp?.forget(topic);
    this.sub.remove(topic);
  }

  /** A join read the channel's position once its traffic reached this node (a catch-up may start there). */
  joinedAt(address: ChannelAddress, position: { offset: number; epoch: string }): void {
    this.catchUp?.seed(this.topic(address), position);
  }

  /** This node delivered a stored event to its members itself (no broadcast): a catch-up must skip it. */
  deliveredLocally(address: ChannelAddress, offset: number): void {
    this.catchUp?.deliveredLocally(this.topic(address), offset);
  }

  ready(address: ChannelAddress): Promise<void> {
    return this.sub.ready(this.topic(address));
  }

  /**
   * What the history store publishes with the append of an event whose JSON
   * (offset 0, epoch '') `json` builds, skipping connection `skip` here. Null while
   * this node's own subscription is not live: the event would not come back
   * to its local members, so the caller delivers it locally and publishes E.
   */
  broadcast(address: ChannelAddress, json: () => string, skip: string | null): AppendBroadcast | null {
    const topic = this.topic(address);
    if (!this.sub.isLive(topic)) return null;
    const template = positionTemplate(json());
    if (template === null) return null;
    return { topic, ...template, before: spineHeader('S', this.nodeId, skip) + template.before };
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
