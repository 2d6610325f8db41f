import { describe, expect, it } from 'vitest';
import { ChannelState, ChannelTracker } from '../../src/client/channels.js';
import { parseServerFrame } from '../../src/client/inbound.js';
import type { ChannelEvent } from '../../src/client/types.js';

function ev(offset: number, epoch = 'e1', room = 'r', channel = 'c'): ChannelEvent {
  return {
    version: '1.0',
    id: `m${offset}`,
    type: 'event',
    room,
    channel,
    from: 'cl_b',
    timestamp: new Date(0).toISOString(),
    payload: { offset },
    metadata: { offset, epoch },
  };
}

describe('ChannelState', () => {
  it('delivers increasing offsets once and drops duplicates', () => {
    const s = new ChannelState('r', 'c', 10);
    s.joinedAt(0, 'e1');
    expect(s.advance({ offset: 1, epoch: 'e1' })).toBe(true);
    expect(s.advance({ offset: 1, epoch: 'e1' })).toBe(false);
    expect(s.advance({ offset: 3, epoch: 'e1' })).toBe(true);
    expect(s.advance({ offset: 2, epoch: 'e1' })).toBe(false);
    expect(s.lastOffset).toBe(3);
  });

  it('treats a new epoch as a restarted stream', () => {
    const s = new ChannelState('r', 'c', 10);
    s.joinedAt(40, 'e1');
    expect(s.advance({ offset: 1, epoch: 'e2' })).toBe(true);
    expect([s.epoch, s.lastOffset]).toEqual(['e2', 1]);
  });

  it('merges a join position with events that arrived before the join response', () => {
    const s = new ChannelState('r', 'c', 10);
    s.advance({ offset: 6, epoch: 'e1' });
    s.joinedAt(5, 'e1');
    expect([s.joined, s.lastOffset]).toEqual([true, 6]);
    const t = new ChannelState('r', 'c', 10);
    t.advance({ offset: 6, epoch: 'old' });
    t.joinedAt(2, 'e1');
    expect([t.epoch, t.lastOffset]).toEqual(['e1', 2]);
  });

  it('keeps only the newest held events and reports the gap that leaves', () => {
    const s = new ChannelState('r', 'c', 3);
    s.joinedAt(10, 'e1');
    s.startResume();
    s.hold(ev(11));
    s.hold(ev(12));
    expect(s.heldHasGap()).toBe(false);
    for (let o = 13; o <= 20; o++) s.hold(ev(o));
    expect(s.heldHasGap()).toBe(true); // 11..17 were dropped
    s.lastOffset = 17; // a history replay delivered them
    expect(s.heldHasGap()).toBe(false);
    expect(s.takeHeld().map((e) => e.metadata?.['offset'])).toEqual([18, 19, 20]);
    expect(s.takeHeld()).toEqual([]);
  });

  it('never reports a gap across an epoch change', () => {
    const s = new ChannelState('r', 'c', 1);
    s.joinedAt(10, 'e1');
    s.startResume();
    s.hold(ev(1, 'e2'));
    s.hold(ev(5, 'e2'));
    expect(s.heldHasGap()).toBe(false);
  });
});

describe('ChannelTracker', () => {
  it('holds events of a resuming channel and dedupes the others', () => {
    const t = new ChannelTracker(10);
    const s = t.ensure('r', 'c');
    s.joinedAt(0, 'e1');
    expect(t.accept(ev(1))).toBe('deliver');
    expect(t.accept(ev(1))).toBe('duplicate');
    expect(t.accept(ev(1, 'e1', 'r', 'other'))).toBe('deliver'); // untracked channel
    s.startResume();
    expect(t.accept(ev(2))).toBe('held');
    t.ensure('r', 'pending');
    t.dropUnjoined();
    expect(t.get('r', 'pending')).toBeUndefined();
    expect(t.joined().map((x) => x.channel)).toEqual(['c']);
  });
});

describe('parseServerFrame', () => {
  it('classifies welcome, responses and error envelopes', () => {
    expect(parseServerFrame('{"type":"system","payload":{"event":"welcome","client_id":"cl_1"}}')).toMatchObject({
      kind: 'welcome',
      welcome: { client_id: 'cl_1', server_version: '', limits: {}, client: {} },
    });
    expect(
      parseServerFrame('{"type":"command_response","payload":{"request_id":"a","status":"success","result":{"x":1}}}'),
    ).toEqual({ kind: 'response', requestId: 'a', ok: true, result: { x: 1 } });
    const failed = parseServerFrame(
      '{"type":"command_response","payload":{"request_id":"a","status":"error","error":"no","error_code":"NOT_A_MEMBER","retryable":false,"details":{"room":"r"}}}',
    );
    expect(failed).toMatchObject({ kind: 'response', ok: false, error: { code: 'NOT_A_MEMBER', message: 'no', details: { room: 'r' } } });
    const error = parseServerFrame(
      '{"type":"error","request_id":"p1","error":"x","error_code":"UNKNOWN_TARGET","retryable":true,"payload":{"reason":"UNKNOWN_TARGET","unknown_targets":["z"]}}',
    );
    expect(error).toMatchObject({
      kind: 'error',
      requestId: 'p1',
      error: { code: 'UNKNOWN_TARGET', retryable: true, requestId: 'p1', details: { unknown_targets: ['z'] } },
    });
  });

  it('keeps an unknown server code instead of guessing', () => {
    const msg = parseServerFrame('{"type":"error","request_id":null,"error_code":"FROM_THE_FUTURE","payload":{}}');
    expect(msg).toMatchObject({ kind: 'error', requestId: null, error: { code: 'UNKNOWN_SERVER_ERROR', details: { server_code: 'FROM_THE_FUTURE' } } });
  });

  it('returns null for frames it cannot read', () => {
    for (const text of ['not json', '[]', '{"type":"nope"}', '{"type":"event","payload":{}}', '{"type":"command_response","payload":{}}']) {
      expect(parseServerFrame(text)).toBeNull();
    }
  });
});
