/**
 * Resuming one channel after a reconnect: rejoin, replay what was missed from
 * history (paging while `has_more`), then release the live events that arrived
 * meanwhile, each offset once and in order.
 */
import type { Envelope } from '../protocol/envelope.js';
import { ArqonClientError, resumeError } from './errors.js';
import { isJsonObject, streamPoint } from './inbound.js';
import type { ChannelState } from './channels.js';
import type { ChannelEvent, HistoryResult, JoinResult, ResumedEvent } from './types.js';

/** What a resume needs from the client. */
export interface ResumeHost {
  command<T>(name: string, parameters: Record<string, unknown>): Promise<T>;
  /** Emits a channel event. */
  deliver(event: ChannelEvent): void;
  /** True for this client's own messages that live delivery would not have given it either. */
  skipOwn(envelope: Envelope): boolean;
  /** False once the connection this resume started on is gone. */
  isCurrent(): boolean;
  /** Reports a failure that did not stop the resume (a history read failed). */
  reportError(err: unknown): void;
}

/** History passes per resume before the held events are released even with a gap (recovered=false). */
const MAX_REPLAY_ROUNDS = 8;

/** Thrown inside a resume when its connection went away; swallowed by the caller. */
class Superseded extends Error {}

/**
 * Replays the channel's gap and returns what to emit as 'resumed', or null
 * when the connection dropped meanwhile (the next welcome resumes again).
 * Errors from the rejoin are thrown; a failed history read yields recovered=false.
 */
export async function resumeChannel(host: ResumeHost, state: ChannelState): Promise<ResumedEvent | null> {
  const { room, channel } = state;
  state.startResume();
  try {
    const joined = await host.command<JoinResult>('join_channel', { room, channel });
    check(host);
    if (state.lastOffset === undefined || state.epoch === undefined) {
      // Nothing was ever seen here, so there is no gap to measure: start from now.
      if (isJoinResult(joined)) state.joinedAt(joined.offset, joined.epoch);
      release(host, state);
      return { room, channel, recovered: true, count: 0 };
    }
    let recovered = true;
    let count = 0;
    try {
      for (let round = 1; ; round++) {
        const replay = await replayHistory(host, state);
        recovered &&= replay.recovered;
        count += replay.count;
        // Live events beyond the buffer limit were dropped; history holds them: read again, a
        // bounded number of times (traffic faster than history reads could otherwise keep us here).
        if (!state.heldHasGap()) break;
        if (round >= MAX_REPLAY_ROUNDS) {
          recovered = false;
          break;
        }
      }
      release(host, state);
    } catch (err) {
      if (err instanceof Superseded || !host.isCurrent()) throw err;
      host.reportError(err);
      release(host, state);
      return { room, channel, recovered: false, count };
    }
    return { room, channel, recovered, count };
  } catch (err) {
    if (err instanceof Superseded || !host.isCurrent()) return null;
    release(host, state);
    throw err;
  } finally {
    if (host.isCurrent()) state.resuming = false;
  }
}

function check(host: ResumeHost): void {
  if (!host.isCurrent()) throw new Superseded();
}

async function replayHistory(host: ResumeHost, state: ChannelState): Promise<{ recovered: boolean; count: number }> {
  let recovered = true;
  let count = 0;
  for (;;) {
    const page = await host.command<HistoryResult>('history', {
      room: state.room,
      channel: state.channel,
      since_offset: state.lastOffset,
      epoch: state.epoch,
    });
    check(host);
    if (!isHistoryResult(page)) {
      throw new ArqonClientError('PROTOCOL_ERROR', { message: 'history result is malformed' });
    }
    if (!page.recovered) recovered = false;
    if (page.epoch !== state.epoch) {
      // The stream restarted: the old offset means nothing, every returned message is new.
      recovered = false;
      state.epoch = page.epoch;
      state.lastOffset = 0;
    }
    let progressed = false;
    for (const message of page.messages) {
      const point = streamPoint(message);
      if (point === null || (state.lastOffset !== undefined && point.offset <= state.lastOffset)) continue;
      state.lastOffset = point.offset;
      progressed = true;
      if (host.skipOwn(message)) continue;
      host.deliver({
        ...message,
        type: 'event',
        room: message.room ?? state.room,
        channel: message.channel ?? state.channel,
      });
      count += 1;
    }
    if (!page.has_more || !progressed) return { recovered, count };
  }
}

/** Ends the resume: delivers the held live events newer than the replay, in offset order. */
function release(host: ResumeHost, state: ChannelState): void {
  const events = state
    .takeHeld()
    .map((event) => ({ event, point: streamPoint(event) }))
    .sort((a, b) => (a.point?.offset ?? 0) - (b.point?.offset ?? 0));
  state.resuming = false;
  for (const { event, point } of events) {
    if (point === null || state.advance(point)) host.deliver(event);
  }
}

function isJoinResult(value: unknown): value is JoinResult {
  return isJsonObject(value) && typeof value['offset'] === 'number' && typeof value['epoch'] === 'string';
}

function isHistoryResult(value: unknown): value is HistoryResult {
  return (
    isJsonObject(value) &&
    Array.isArray(value['messages']) &&
    value['messages'].every(isJsonObject) &&
    typeof value['epoch'] === 'string' &&
    typeof value['recovered'] === 'boolean'
  );
}

export type ResumeOutcome =
  | { readonly kind: 'resumed'; readonly event: ResumedEvent }
  | { readonly kind: 'superseded' }
  | { readonly kind: 'failed'; readonly error: ArqonClientError };

/** Runs `resumeChannel` and turns any failure into a typed outcome for the client to report. */
export async function runResume(host: ResumeHost, state: ChannelState): Promise<ResumeOutcome> {
  try {
    const event = await resumeChannel(host, state);
    return event === null ? { kind: 'superseded' } : { kind: 'resumed', event };
  } catch (err) {
    return { kind: 'failed', error: resumeError(err, state.room, state.channel) };
  }
}
