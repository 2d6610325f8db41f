/**
 * In-process StreamStore: one bounded ring buffer per (tenant, room, channel).
 *
 * Offsets in a ring are contiguous, so an offset maps to a slot by arithmetic;
 * times are non-decreasing, so time bounds are found by binary search. Appends
 * are O(1) (amortised while a ring grows to its cap), reads O(log n + k).
 * Everything is lost with the process, which is what the epoch signals.
 */
import { randomBytes } from 'node:crypto';
import type { Envelope } from '../protocol/envelope.js';
import { ProtocolError } from '../protocol/errors.js';
import {
  dedupeKey,
  type AppendResult,
  type HistoryPage,
  type HistoryQuery,
  type RetentionOptions,
  type StoredMessage,
  type StreamKey,
  type StreamPosition,
  type StreamStore,
} from './stream-store.js';

/** Joins key parts; room and channel may not contain it (checked), so the key is unambiguous. */
const SEP = '\u0000';
const INITIAL_CAPACITY = 16;

/** One life of one stream. */
class Stream {
  readonly epoch = randomBytes(8).toString('hex');
  /** Ring storage; grows by doubling up to `max`, then wraps. */
  private slots: (StoredMessage | undefined)[];
  private head = 0;
  count = 0;
  /** Offset of the newest message ever appended in this epoch (0 = none). */
  latest = 0;
  /** id -> offset, for the messages currently retained. */
  readonly ids = new Map<string, number>();

  constructor(private readonly max: number) {
    this.slots = new Array<StoredMessage | undefined>(Math.min(max, INITIAL_CAPACITY));
  }

  /** Offset of the oldest retained message (latest + 1 when empty). */
  get earliest(): number {
    return this.latest - this.count + 1;
  }

  /** The i-th retained message, oldest first; caller guarantees 0 <= i < count. */
  at(i: number): StoredMessage {
    return this.slots[(this.head + i) % this.slots.length]!;
  }

  push(envelope: Envelope, time: number): number {
    if (this.count === this.max) this.shift();
    else if (this.count === this.slots.length) this.grow();
    // Guard the binary search: time never goes backwards within a stream.
    if (this.count > 0) time = Math.max(time, this.at(this.count - 1).time);
    const offset = ++this.latest;
    this.slots[(this.head + this.count) % this.slots.length] = { offset, time, envelope };
    this.count++;
    this.ids.set(dedupeKey(envelope), offset);
    return offset;
  }

  /** Evicts the oldest message. */
  shift(): void {
    // Ids are unique among retained messages (append checks first), so this is the entry's own.
    this.ids.delete(dedupeKey(this.at(0).envelope));
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.count--;
  }

  /** Evicts messages with time < cutoff from the head. */
  expire(cutoff: number): void {
    while (this.count > 0 && this.at(0).time < cutoff) this.shift();
  }

  private grow(): void {
    const next = new Array<StoredMessage | undefined>(Math.min(this.max, this.slots.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.at(i);
    this.slots = next;
    this.head = 0;
  }

  /** First index in [lo, count) whose time is >= t (strict: > t). */
  searchTime(lo: number, t: number, strict: boolean): number {
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const mt = this.at(mid).time;
      if (strict ? mt <= t : mt < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<string, Stream>();
  private readonly maxMessages: number;
  private readonly maxAgeMs: number;

  constructor(
    retention: RetentionOptions,
    private readonly clock: () => number = Date.now,
  ) {
    if (!Number.isInteger(retention.maxMessages) || retention.maxMessages < 1) {
      throw new RangeError('retention.maxMessages must be an integer >= 1');
    }
    if (!(retention.maxAgeMs >= 0)) throw new RangeError('retention.maxAgeMs must be >= 0');
    this.maxMessages = retention.maxMessages;
    this.maxAgeMs = retention.maxAgeMs;
  }

  /** Number of streams currently held (each touched and not removed). */
  get size(): number {
    return this.streams.size;
  }

  async append(key: StreamKey, envelope: Envelope, time: number): Promise<AppendResult> {
    const stream = this.touch(key);
    this.expire(stream);
    const seen = stream.ids.get(dedupeKey(envelope));
    if (seen !== undefined) return { offset: seen, epoch: stream.epoch, duplicate: true };
    const offset = stream.push(envelope, Number.isFinite(time) ? time : this.clock());
    return { offset, epoch: stream.epoch, duplicate: false };
  }

  async read(key: StreamKey, query: HistoryQuery): Promise<HistoryPage> {
    const stream = this.touch(key);
    this.expire(stream);
    const { epoch, latest, earliest } = stream;

    let recovered = true;
    let start = 0; // index into the ring, oldest = 0
    if (query.sinceOffset !== undefined) {
      const since = Math.max(0, Math.floor(query.sinceOffset) || 0);
      if ((query.epoch !== undefined && query.epoch !== epoch) || since > latest) {
        // The offset means nothing in this life of the stream: serve from the oldest.
        recovered = false;
      } else {
        // Nothing after `since` was evicted (caught up, since === latest, always passes).
        recovered = since + 1 >= earliest;
        start = Math.max(0, since + 1 - earliest);
      }
    }
    if (query.since !== undefined) start = stream.searchTime(start, query.since, false);
    const end = query.until !== undefined ? stream.searchTime(start, query.until, true) : stream.count;

    const matched = Math.max(0, end - start);
    const take = Math.min(matched, Math.max(0, Math.floor(query.limit) || 0));
    const messages: StoredMessage[] = new Array(take);
    for (let i = 0; i < take; i++) messages[i] = stream.at(start + i);
    return { messages, epoch, latestOffset: latest, earliestOffset: earliest, hasMore: matched > take, recovered };
  }

  async position(key: StreamKey): Promise<StreamPosition> {
    const stream = this.touch(key);
    return { offset: stream.latest, epoch: stream.epoch };
  }

  async remove(key: StreamKey): Promise<void> {
    this.streams.delete(keyOf(key));
  }

  async close(): Promise<void> {
    this.streams.clear();
  }

  /** Gets the stream for a key, creating it (with a fresh epoch) on first touch. */
  private touch(key: StreamKey): Stream {
    const k = keyOf(key);
    let stream = this.streams.get(k);
    if (stream === undefined) {
      stream = new Stream(this.maxMessages);
      this.streams.set(k, stream);
    }
    return stream;
  }

  private expire(stream: Stream): void {
    if (this.maxAgeMs > 0) stream.expire(this.clock() - this.maxAgeMs);
  }
}

/**
 * tenant + SEP + room + SEP + channel. Splitting from the right is unambiguous
 * when room and channel contain no SEP, so two tenants never share a key even
 * if a tenant id contains SEP.
 */
function keyOf({ tenant, room, channel }: StreamKey): string {
  if (room.includes(SEP)) throw new ProtocolError('INVALID_CHANNEL', 'room contains NUL', 'room');
  if (channel.includes(SEP)) throw new ProtocolError('INVALID_CHANNEL', 'channel contains NUL', 'channel');
  return tenant + SEP + room + SEP + channel;
}
