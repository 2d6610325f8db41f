/**
 * The node's one subscriber connection. Interest is per pub/sub channel: a
 * handler is registered while the node has local interest and removed when
 * it has none, so Redis sends this node only messages someone here wants.
 */
import type { Redis } from 'ioredis';

export type MessageHandler = (message: Buffer) => void;

export class Subscriber {
  private readonly handlers = new Map<string, MessageHandler>();
  /** The SUBSCRIBE in flight or done for each channel, so callers can wait until interest is live. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly redis: Redis, private readonly onError: (err: unknown) => void) {
    redis.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.handlers.get(channel.toString())?.(message);
    });
    // ioredis re-subscribes after a reconnect (autoResubscribe) to what it had confirmed; a SUBSCRIBE
    // that failed while Redis was away never got there, so every interest is restated (a no-op for the rest).
    redis.on('ready', () => {
      if (this.handlers.size > 0) redis.subscribe(...this.handlers.keys()).catch(onError);
    });
  }

  get size(): number {
    return this.handlers.size;
  }

  add(channel: string, handler: MessageHandler): void {
    const known = this.handlers.has(channel);
    this.handlers.set(channel, handler);
    if (known) return;
    const done = this.redis.subscribe(channel).then(
      () => undefined,
      (err: unknown) => this.onError(err),
    );
    this.pending.set(channel, done);
  }

  remove(channel: string): void {
    if (!this.handlers.delete(channel)) return;
    this.pending.delete(channel);
    this.redis.unsubscribe(channel).catch(this.onError);
  }

  /** Resolves once the SUBSCRIBE for `channel` was answered (or failed: the reconnect restates it). */
  ready(channel: string): Promise<void> {
    return this.pending.get(channel) ?? Promise.resolve();
  }
}
