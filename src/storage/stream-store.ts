/**
 * History storage: one append-only stream per (tenant, room, channel).
 *
 * Offsets are per stream, start at 1 and grow by one per appended message.
 * The epoch identifies one life of a stream: it changes whenever the stream
 * restarts from scratch (deleted, lost, process restarted for the memory
 * store), so a client holding (epoch, offset) can tell whether resuming from
 * that offset is meaningful.
 */
import type { Envelope } from '../protocol/envelope.js';

export interface StreamKey {
  readonly tenant: string;
  readonly room: string;
  readonly channel: string;
}

export interface StreamPosition {
  /** Offset of the newest message (0 when the stream is empty). */
  readonly offset: number;
  readonly epoch: string;
}

export interface AppendResult extends StreamPosition {
  /** True when the message was already stored (same sender and id): nothing was appended, do not deliver it again. */
  readonly duplicate: boolean;
  /** True when the store published the message itself (an AppendBroadcast it supports): the caller delivers nothing. */
  readonly published?: boolean;
}

/**
 * Publishing the stored message on a pub/sub channel in the same atomic step
 * as the append, which only a store living where the pub/sub does (Redis) can
 * do; other stores ignore it and leave `published` unset. The message is
 * `before` + offset + `between` + epoch + `after`: the offset and epoch are
 * known only once appended.
 */
export interface AppendBroadcast {
  readonly topic: string;
  readonly before: string;
  readonly between: string;
  readonly after: string;
}

export interface StoredMessage {
  readonly offset: number;
  /** Server receive time, ms since the Unix epoch; time-bounded queries use it. */
  readonly time: number;
  readonly envelope: Envelope;
}

export interface HistoryQuery {
  /** Return messages with offset strictly greater than this. */
  readonly sinceOffset?: number;
  /** The epoch the caller saw `sinceOffset` in; a different epoch means the offset is meaningless. */
  readonly epoch?: string;
  /** Inclusive lower bound on `time` (ms). */
  readonly since?: number;
  /** Inclusive upper bound on `time` (ms). */
  readonly until?: number;
  /** Maximum messages to return (oldest first). */
  readonly limit: number;
}

export interface HistoryPage {
  /** Oldest first. */
  readonly messages: readonly StoredMessage[];
  readonly epoch: string;
  /** Offset of the newest message in the stream (0 when empty). */
  readonly latestOffset: number;
  /** Offset of the oldest retained message (latestOffset + 1 when empty). */
  readonly earliestOffset: number;
  /** More messages matched than `limit` allowed. */
  readonly hasMore: boolean;
  /**
   * With `sinceOffset`: true when no message after `sinceOffset` was lost to
   * retention or an epoch change, i.e. the gap can be fully recovered. Without
   * `sinceOffset`: always true.
   */
  readonly recovered: boolean;
}

export interface StreamStore {
  /**
   * Appends a message and returns its offset and the stream's epoch.
   * Idempotent by (`envelope.from`, `envelope.id`) — see `dedupeKey`: appending
   * the same message again returns the position it was first stored at and
   * stores nothing. Ids are chosen by clients, so two senders may reuse one id;
   * `from` is set by the server and cannot be forged.
   */
  append(key: StreamKey, envelope: Envelope, time: number, broadcast?: AppendBroadcast): Promise<AppendResult>;
  read(key: StreamKey, query: HistoryQuery): Promise<HistoryPage>;
  /**
   * Current position. Like `read`, it gives a stream that has never been
   * written an epoch (and keeps it), so an empty stream's epoch is stable.
   */
  position(key: StreamKey): Promise<StreamPosition>;
  /** Drops a stream; the next append starts a new epoch at offset 1. */
  remove(key: StreamKey): Promise<void>;
  close(): Promise<void>;
}

export interface RetentionOptions {
  /** Messages kept per stream (oldest evicted first). */
  readonly maxMessages: number;
  /** Age limit in ms; 0 = no age limit. */
  readonly maxAgeMs: number;
}

/** What makes two appends "the same message": the server-set sender and the message id. */
export function dedupeKey(envelope: Envelope): string {
  return `${envelope.from ?? ''}\u0000${envelope.id}`;
}

/**
 * The envelope as delivered and as returned by `history`: `metadata.offset`
 * and `metadata.epoch` added, as the last keys (the spine's wire relies on that
 * order to splice a position into pre-encoded JSON, src/spine/wire.ts).
 */
export function withPosition(envelope: Envelope, offset: number, epoch: string): Envelope {
  return { ...envelope, metadata: { ...envelope.metadata, offset, epoch } };
}
