/**
 * Catching a node's members up after its subscriber connection was away.
 *
 * Pub/sub is at most once: events stored while this node did not receive a
 * channel are in history but were never delivered here. The node remembers,
 * per channel, the position of the last stored event it delivered (read from
 * the tail of the bytes, no decoding). When the connection drops it starts
 * holding the channel's incoming stored events (a channel quiet since a
 * member joined starts from the position that join read); once Redis has answered the
 * re-SUBSCRIBE it reads history after that position, delivers what its
 * members missed in offset order, then releases what it held, dropping the
 * offsets already delivered. Events this node delivered to its own members
 * itself during the outage are not delivered twice.
 *
 * Cost: nothing per event beyond a map update; per reconnect, one history
 * read per channel with members here (pages of CATCH_UP_PAGE, at most
 * CATCH_UP_LIMIT events: a longer gap is left to the clients, who see it in
 * the offsets and resume with `history`).
 */
import { encodeEnvelope } from '../edge/codec-json.js';
import { withPosition, type StreamStore } from '../storage/stream-store.js';
import type { ChannelAddress } from './channel-bus.js';
import type { SpineMessage } from './wire.js';

export const CATCH_UP_PAGE = 500;
export const CATCH_UP_LIMIT = 10_000;

interface Position {
  readonly offset: number;
  readonly epoch: string;
}

interface ChannelState {
  readonly address: ChannelAddress;
  last: Position | null;
  /** Offsets this node delivered to its members itself while it did not receive the channel. */
  readonly delivered: Set<number>;
  /** Stored events received while catching up, released afterwards. */
  held: SpineMessage[] | null;
  /** Counts the outages that began: a catch-up that sees it change under it has a new gap to fill before releasing. */
  outages: number;
  /** The catch-up running now, if any: one at a time per channel. */
  filling: Promise<void> | null;
}

/** `"offset":N,"epoch":"E"}}` ends every stored event's bytes (see positionTemplate). */
const TAIL = /"offset":(\d+),"epoch":"([^"\\]*)"\}\}$/;

export function positionOf(bytes: Buffer): Position | null {
  const m = TAIL.exec(bytes.toString('utf8', Math.max(0, bytes.length - 200)));
  return m === null ? null : { offset: Number(m[1]), epoch: m[2]! };
}

export class ChannelCatchUp {
  private readonly channels = new Map<string, ChannelState>();

  constructor(
    private readonly store: StreamStore,
    /** Delivers a stored event to the channel's local members (the normal path). */
    private readonly deliver: (address: ChannelAddress, message: SpineMessage) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The node has local members in the channel (called with its pub/sub topic as key). */
  watch(topic: string, address: ChannelAddress): void {
    if (!this.channels.has(topic)) this.channels.set(topic, { address, last: null, delivered: new Set(), held: null, outages: 0, filling: null });
  }

  forget(topic: string): void {
    this.channels.delete(topic);
  }

  /**
   * The position a join read once the channel's traffic reached this node:
   * where a catch-up starts when no event arrived since (a quiet channel).
   */
  seed(topic: string, position: Position): void {
    const state = this.channels.get(topic);
    if (state !== undefined && state.last === null) state.last = position;
  }

  /** A stored event arrived; false when it is held (a catch-up is running) and must not be delivered now. */
  received(topic: string, message: SpineMessage): boolean {
    const state = this.channels.get(topic);
    if (state === undefined) return true;
    if (state.held !== null) {
      state.held.push(message);
      // A catch-up that never completes (Redis gone again mid-way) must not hold the channel for ever.
      if (state.held.length >= CATCH_UP_LIMIT) this.release(state);
      return false;
    }
    state.last = positionOf(message.bytes) ?? state.last;
    return true;
  }

  /** This node delivered a stored event to its members itself (its subscription was not live). */
  deliveredLocally(topic: string, offset: number): void {
    const state = this.channels.get(topic);
    if (state !== undefined && state.delivered.size < CATCH_UP_LIMIT) state.delivered.add(offset);
  }

  /** The subscriber connection dropped: hold what arrives until the gap is filled. */
  suspend(): void {
    for (const state of this.channels.values()) {
      state.held ??= [];
      state.outages++;
    }
  }

  /**
   * The subscription to `topic` is live again: fill the gap, then release
   * what was held. When another outage began during the fill (its events were
   * missed too), the channel stays held: the resume after that outage fills
   * on from where this one stopped, then releases.
   */
  async resume(topic: string): Promise<void> {
    const state = this.channels.get(topic);
    if (state === undefined) return;
    while (state.filling !== null) await state.filling;
    if (state.held === null || this.channels.get(topic) !== state) return;
    const outages = state.outages;
    state.filling = this.fillGap(state);
    await state.filling;
    state.filling = null;
    if (state.outages === outages) this.release(state);
  }

  private async fillGap(state: ChannelState): Promise<void> {
    try {
      if (state.last !== null) await this.fill(state, state.last);
    } catch (err) {
      this.onError(err); // the gap stays; clients see it in the offsets
    }
  }

  /** Delivers what was held, but offsets already delivered (the catch-up read them from history). */
  private release(state: ChannelState): void {
    const held = state.held ?? [];
    state.held = null;
    state.delivered.clear();
    for (const message of held) {
      const at = positionOf(message.bytes);
      if (at !== null && state.last !== null && at.epoch === state.last.epoch && at.offset <= state.last.offset) continue;
      if (at !== null) state.last = at;
      this.deliver(state.address, message);
    }
  }

  private async fill(state: ChannelState, from: Position): Promise<void> {
    const { tenant, room, name } = state.address;
    let since = from.offset;
    for (let read = 0; read < CATCH_UP_LIMIT; read += CATCH_UP_PAGE) {
      const page = await this.store.read({ tenant, room, channel: name }, { sinceOffset: since, epoch: from.epoch, limit: CATCH_UP_PAGE });
      // Another life of the stream (or evicted past): nothing here can be placed after what was delivered.
      if (!page.recovered || page.epoch !== from.epoch) return;
      for (const m of page.messages) {
        since = m.offset;
        state.last = { offset: m.offset, epoch: page.epoch };
        if (state.delivered.has(m.offset)) continue;
        const bytes = encodeEnvelope(withPosition(m.envelope, m.offset, page.epoch));
        this.deliver(state.address, { kind: 'S', origin: '', skip: null, bytes });
      }
      if (!page.hasMore) return;
    }
  }
}
