/**
 * The node's one subscriber connection. Interest is per pub/sub channel: a
 * handler is registered while the node has local interest and removed when
 * it has none, so Redis sends this node only messages someone here wants.
 *
 * It also knows which subscriptions Redis has confirmed on the current
 * connection (`isLive`): a channel's events are handed to Redis for delivery
 * to this node's own members only while they will come back.
 */
import type { Redis } from 'ioredis';

export type MessageHandler = (message: Buffer) => void;

export class Subscriber {
  private readonly handlers = new Map<string, MessageHandler>();
  /** The SUBSCRIBE in flight or done for each channel, so callers can wait until interest is live. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Channels whose SUBSCRIBE Redis answered on the current connection. */
  private readonly confirmed = new Set<string>();
  /**
   * Bumped by every add of a channel: a SUBSCRIBE's answer confirms only the
   * interest it was sent for. After add → remove → add, the first answer comes
   * while the UNSUBSCRIBE is still in flight and must not mark the channel live.
   */
  private readonly generations = new Map<string, number>();
  private nextGeneration = 0;
  private readonly resubscribed: Array<(channel: string) => void> = [];

  constructor(private readonly redis: Redis, private readonly onError: (err: unknown) => void) {
    redis.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.handlers.get(channel.toString())?.(message);
    });
    // A new connection has no subscription until Redis answers the restated SUBSCRIBE below.
    redis.on('close', () => this.confirmed.clear());
    // ioredis re-subscribes after a reconnect (autoResubscribe) to what it had confirmed; a SUBSCRIBE
    // that failed while Redis was away never got there, so every interest is restated (a no-op for the rest).
    redis.on('ready', () => {
      if (this.handlers.size === 0) return;
      const channels = [...this.handlers.keys()];
      const done = this.confirm(redis.subscribe(...channels), this.current(channels));
      for (const c of channels) this.pending.set(c, done);
      void done.then(() => {
        for (const c of channels) if (this.confirmed.has(c)) for (const fn of this.resubscribed) fn(c);
      });
    });
  }

  add(channel: string, handler: MessageHandler): void {
    const known = this.handlers.has(channel);
    this.handlers.set(channel, handler);
    if (known) return;
    this.generations.set(channel, ++this.nextGeneration);
    this.pending.set(channel, this.confirm(this.redis.subscribe(channel), this.current([channel])));
  }

  remove(channel: string): void {
    if (!this.handlers.delete(channel)) return;
    this.generations.delete(channel);
    this.pending.delete(channel);
    this.confirmed.delete(channel);
    this.redis.unsubscribe(channel).catch(this.onError);
  }

  /** Resolves once the SUBSCRIBE for `channel` was answered (or failed: the reconnect restates it). */
  ready(channel: string): Promise<void> {
    return this.pending.get(channel) ?? Promise.resolve();
  }

  /** Called whenever the connection is lost (each failed reconnect attempt too). */
  onDisconnect(fn: () => void): void {
    this.redis.on('close', fn);
  }

  /** Called for each channel once Redis answered its re-SUBSCRIBE after a reconnect. */
  onResubscribed(fn: (channel: string) => void): void {
    this.resubscribed.push(fn);
  }

  /** True while Redis delivers `channel` to this node (its SUBSCRIBE answered on the live connection). */
  isLive(channel: string): boolean {
    return this.confirmed.has(channel) && this.redis.status === 'ready';
  }

  /** The channels with the generation of their interest now, for confirm(). */
  private current(channels: readonly string[]): ReadonlyMap<string, number | undefined> {
    return new Map(channels.map((c) => [c, this.generations.get(c)]));
  }

  private confirm(subscribed: Promise<unknown>, sent: ReadonlyMap<string, number | undefined>): Promise<void> {
    return subscribed.then(
      () => {
        for (const [c, generation] of sent) if (generation !== undefined && this.generations.get(c) === generation) this.confirmed.add(c);
      },
      (err: unknown) => this.onError(err),
    );
  }
}
