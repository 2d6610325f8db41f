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
  #held: ChannelEvent[] = [];
  /** Index of the oldest kept event in `#held` (those before it were dropped). */
  #heldStart = 0;
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
    this.#held = [];
    this.#heldStart = 0;
  }

  /**
   * Holds a live event during a resume. Only the newest `bufferLimit` are
   * kept: older ones are in history, which the resume reads again if needed.
   */
  hold(event: ChannelEvent): void {
    this.#held.push(event);
    if (this.#held.length - this.#heldStart > this.#bufferLimit) this.#heldStart++;
    // Compact now and then so dropped events do not pile up.
    if (this.#heldStart >= this.#bufferLimit) {
      this.#held = this.#held.slice(this.#heldStart);
      this.#heldStart = 0;
    }
  }

  /**
   * True when the held events do not continue the delivered ones: events
   * between `lastOffset` and the oldest held one were dropped from the
   * buffer, so history must be read again before releasing.
   */
  heldHasGap(): boolean {
    const first = this.#held[this.#heldStart];
    const point = first === undefined ? null : streamPoint(first);
    if (point === null || this.lastOffset === undefined) return false;
    if (point.epoch !== undefined && this.epoch !== undefined && point.epoch !== this.epoch) return false;
    return point.offset > this.lastOffset + 1;
  }

  /** Empties the buffer, returning the held events oldest first. */
  takeHeld(): ChannelEvent[] {
    const events = this.#held.slice(this.#heldStart);
    this.#held = [];
    this.#heldStart = 0;
    return events;
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
