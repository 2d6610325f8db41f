/**
 * Per-channel stream positions: what the client joined, the last offset and
 * epoch it delivered, and (while a reconnect replays history) a bounded
 * buffer of live events held back so nothing is delivered twice or out of order.
 */
import { streamPoint, type StreamPoint } from './inbound.js';
import type { ChannelEvent } from './types.js';

export class ChannelState {
  readonly room: string;
  readonly channel: string;
  /** The server confirmed the join (only joined channels are rejoined). */
  joined = false;
  epoch: string | undefined = undefined;
  /** Highest offset delivered (or deliberately skipped) in `epoch`. */
  lastOffset: number | undefined = undefined;
  /** History is being replayed; live events go to the buffer. */
  resuming = false;
  #buffer: ChannelEvent[] = [];
  #overflowed = false;
  readonly #bufferLimit: number;

  constructor(room: string, channel: string, bufferLimit: number) {
    this.room = room;
    this.channel = channel;
    this.#bufferLimit = bufferLimit;
  }

  /**
   * Records `point` if it is new. Returns false for an offset at or below the
   * last one of the same epoch (a duplicate). A different epoch means the
   * stream restarted: its offsets start over, so the point is new.
   */
  advance(point: StreamPoint): boolean {
    if (point.epoch !== undefined && this.epoch !== undefined && point.epoch !== this.epoch) {
      this.epoch = point.epoch;
      this.lastOffset = point.offset;
      return true;
    }
    if (point.epoch !== undefined) this.epoch = point.epoch;
    if (this.lastOffset !== undefined && point.offset <= this.lastOffset) return false;
    this.lastOffset = point.offset;
    return true;
  }

  /** Merges the position a join reported (events may have arrived before its response). */
  joinedAt(offset: number, epoch: string): void {
    this.joined = true;
    if (this.epoch === epoch && this.lastOffset !== undefined) {
      this.lastOffset = Math.max(this.lastOffset, offset);
    } else {
      this.epoch = epoch;
      this.lastOffset = offset;
    }
  }

  startResume(): void {
    this.resuming = true;
    this.#buffer = [];
    this.#overflowed = false;
  }

  /** Holds a live event during a resume. Past the limit the buffer is dropped: history has those events too. */
  hold(event: ChannelEvent): void {
    if (this.#overflowed) return;
    if (this.#buffer.length >= this.#bufferLimit) {
      this.#buffer = [];
      this.#overflowed = true;
      return;
    }
    this.#buffer.push(event);
  }

  /** Empties the buffer; `overflowed` says events were dropped and history must be read again. */
  takeHeld(): { events: ChannelEvent[]; overflowed: boolean } {
    const taken = { events: this.#buffer, overflowed: this.#overflowed };
    this.#buffer = [];
    this.#overflowed = false;
    return taken;
  }
}

function channelKey(room: string, channel: string): string {
  // Room and channel names cannot contain NUL.
  return `${room}\u0000${channel}`;
}

export class ChannelTracker {
  readonly #channels = new Map<string, ChannelState>();
  readonly #bufferLimit: number;

  constructor(bufferLimit: number) {
    this.#bufferLimit = bufferLimit;
  }

  get(room: string, channel: string): ChannelState | undefined {
    return this.#channels.get(channelKey(room, channel));
  }

  ensure(room: string, channel: string): ChannelState {
    const key = channelKey(room, channel);
    let state = this.#channels.get(key);
    if (state === undefined) {
      state = new ChannelState(room, channel, this.#bufferLimit);
      this.#channels.set(key, state);
    }
    return state;
  }

  delete(room: string, channel: string): void {
    this.#channels.delete(channelKey(room, channel));
  }

  /** Drops channels whose join never succeeded. */
  dropUnjoined(): void {
    for (const [key, state] of this.#channels) if (!state.joined) this.#channels.delete(key);
  }

  clear(): void {
    this.#channels.clear();
  }

  joined(): ChannelState[] {
    return [...this.#channels.values()].filter((s) => s.joined);
  }

  /**
   * Decides what happens to a live channel event: 'deliver' it now, 'held'
   * until the channel's resume finishes, or 'duplicate' (already delivered).
   */
  accept(event: ChannelEvent): 'deliver' | 'held' | 'duplicate' {
    const state = this.get(event.room, event.channel);
    const point = streamPoint(event);
    if (state === undefined || point === null) return 'deliver';
    if (state.resuming) {
      state.hold(event);
      return 'held';
    }
    return state.advance(point) ? 'deliver' : 'duplicate';
  }
}
