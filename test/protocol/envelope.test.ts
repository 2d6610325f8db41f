import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/protocol/codes.js';
import { MAX_ID_LENGTH, MAX_TARGETS, parseAddress, parseClientFrame } from '../../src/protocol/envelope.js';
import { ProtocolError } from '../../src/protocol/errors.js';

const NOW = new Date('2025-01-02T03:04:05.678Z');
const parse = (raw: unknown) => parseClientFrame(raw, () => NOW);

/** Runs fn, expecting a ProtocolError with this code (and field, when given). */
function expectProtocolError(fn: () => unknown, code: ErrorCode, field?: string): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  expect(err.code).toBe(code);
  if (field !== undefined) {
    expect(err.field).toBe(field);
    expect(err.details).toEqual({ field });
  }
  return err;
}

describe('parseAddress', () => {
  it('returns null when neither room nor channel is given', () => {
    expect(parseAddress(undefined, undefined)).toBeNull();
    expect(parseAddress(null, null)).toBeNull();
  });

  it('reads separate room and channel', () => {
    expect(parseAddress('lobby', 'general')).toEqual({ room: 'lobby', channel: 'general' });
    expect(parseAddress('A-z_0.9@x+y', 'c')).toEqual({ room: 'A-z_0.9@x+y', channel: 'c' });
  });

  it('reads the combined "room:channel" form', () => {
    expect(parseAddress(undefined, 'lobby:general')).toEqual({ room: 'lobby', channel: 'general' });
    expect(parseAddress(null, 'lobby:general')).toEqual({ room: 'lobby', channel: 'general' });
  });

  it('rejects a missing channel or room', () => {
    expectProtocolError(() => parseAddress('lobby', undefined), 'INVALID_CHANNEL', 'channel');
    expectProtocolError(() => parseAddress(undefined, 'general'), 'INVALID_CHANNEL', 'room');
  });

  it.each([
    ['empty room', '', 'c', 'room'],
    ['space in room', 'a b', 'c', 'room'],
    ['slash in channel', 'r', 'a/b', 'channel'],
    ['colon with explicit room', 'r', 'a:b', 'channel'],
    ['non-string room', 42, 'c', 'room'],
    ['room over 128 chars', 'x'.repeat(129), 'c', 'room'],
    ['unicode channel', 'r', 'café', 'channel'],
  ])('rejects an invalid name (%s)', (_label, room, channel, field) => {
    expectProtocolError(() => parseAddress(room, channel), 'INVALID_CHANNEL', field);
  });

  it('accepts names of exactly 128 characters', () => {
    const n = 'x'.repeat(128);
    expect(parseAddress(n, n)).toEqual({ room: n, channel: n });
  });

  it.each([
    ['empty room part', ':general', 'room'],
    ['empty channel part', 'lobby:', 'channel'],
    ['second colon', 'lobby:general:extra', 'channel'],
  ])('rejects a malformed combined form (%s)', (_label, channel, field) => {
    expectProtocolError(() => parseAddress(undefined, channel), 'INVALID_CHANNEL', field);
  });
});

describe('parseClientFrame', () => {
  describe('frame shape and type', () => {
    it.each([
      ['null', null],
      ['array', [{ type: 'event' }]],
      ['string', '{"type":"event"}'],
      ['number', 1],
    ])('rejects a non-object frame (%s) with INVALID_FRAME', (_label, raw) => {
      expectProtocolError(() => parse(raw), 'INVALID_FRAME');
    });

    it('rejects a missing or non-string type with INVALID_FIELD', () => {
      expectProtocolError(() => parse({ room: 'r', channel: 'c' }), 'INVALID_FIELD', 'type');
      expectProtocolError(() => parse({ type: 7 }), 'INVALID_FIELD', 'type');
    });

    it.each(['publish', 'EVENT', '', 'constructor'])('rejects unknown type %j with UNKNOWN_TYPE', (type) => {
      expectProtocolError(() => parse({ type, room: 'r', channel: 'c' }), 'UNKNOWN_TYPE', 'type');
    });

    it.each(['command_response', 'system', 'telemetry', 'error'])('rejects server-only type %s with FORBIDDEN_TYPE', (type) => {
      expectProtocolError(() => parse({ type, room: 'r', channel: 'c' }), 'FORBIDDEN_TYPE', 'type');
    });
  });

  describe('field types', () => {
    const event = { type: 'event', room: 'r', channel: 'c' };

    it.each([
      ['payload array', { payload: [1, 2] }, 'payload'],
      ['payload string', { payload: 'hi' }, 'payload'],
      ['metadata string', { metadata: 'x' }, 'metadata'],
      ['metadata array', { metadata: [] }, 'metadata'],
      ['id number', { id: 42 }, 'id'],
      ['id empty', { id: '' }, 'id'],
      ['id too long', { id: 'i'.repeat(MAX_ID_LENGTH + 1) }, 'id'],
      ['timestamp not a date', { timestamp: 'yesterday-ish' }, 'timestamp'],
      ['timestamp number', { timestamp: 1735787045678 }, 'timestamp'],
      ['version number', { version: 1 }, 'version'],
    ])('rejects %s with INVALID_FIELD', (_label, extra, field) => {
      expectProtocolError(() => parse({ ...event, ...extra }), 'INVALID_FIELD', field);
    });

    // Known bug: the check is `Date.parse`, which accepts "1", "March 7" or "foo 1"
    // and passes them through verbatim. Expected to fail until envelope.ts checks
    // ISO 8601 strictly; then drop `.fails`.
    it.each(['1', 'March 7', 'foo 1', '12/31/1999'])('rejects non-ISO timestamp %j', (timestamp) => {
      expectProtocolError(() => parse({ ...event, timestamp }), 'INVALID_FIELD', 'timestamp');
    });

    it('accepts an id of exactly the maximum length', () => {
      const id = 'i'.repeat(MAX_ID_LENGTH);
      expect(parse({ ...event, id }).id).toBe(id);
    });

    it('treats null payload and metadata as absent', () => {
      const frame = parse({ ...event, payload: null, metadata: null });
      expect(frame.payload).toEqual({});
      expect(frame.metadata).toBeUndefined();
    });
  });

  describe('event', () => {
    it('parses room + channel', () => {
      const frame = parse({ type: 'event', room: 'lobby', channel: 'general', payload: { text: 'hi' }, metadata: { m: 1 } });
      expect(frame).toEqual({
        type: 'event',
        id: expect.stringMatching(/^arq_/),
        timestamp: NOW.toISOString(),
        room: 'lobby',
        channel: 'general',
        payload: { text: 'hi' },
        metadata: { m: 1 },
      });
    });

    it('parses the combined "room:channel" form', () => {
      const frame = parse({ type: 'event', channel: 'lobby:general' });
      expect(frame).toMatchObject({ type: 'event', room: 'lobby', channel: 'general', payload: {} });
    });

    it('requires an address', () => {
      expectProtocolError(() => parse({ type: 'event', payload: {} }), 'INVALID_CHANNEL', 'channel');
      expectProtocolError(() => parse({ type: 'event', room: 'lobby' }), 'INVALID_CHANNEL', 'channel');
    });

    it('rejects invalid names', () => {
      expectProtocolError(() => parse({ type: 'event', room: 'lob by', channel: 'c' }), 'INVALID_CHANNEL', 'room');
      expectProtocolError(() => parse({ type: 'event', room: 'r', channel: '#c' }), 'INVALID_CHANNEL', 'channel');
    });
  });

  describe('id, timestamp and sender', () => {
    it('keeps the client id and timestamp', () => {
      const frame = parse({ type: 'event', room: 'r', channel: 'c', id: 'client-42', timestamp: '2024-05-06T07:08:09Z' });
      expect(frame.id).toBe('client-42');
      expect(frame.timestamp).toBe('2024-05-06T07:08:09Z');
    });

    it('fills a fresh arq_ id and the current time when omitted', () => {
      const a = parse({ type: 'event', room: 'r', channel: 'c' });
      const b = parse({ type: 'event', room: 'r', channel: 'c', id: null, timestamp: null });
      expect(a.id).toMatch(/^arq_/);
      expect(b.id).toMatch(/^arq_/);
      expect(a.id).not.toBe(b.id);
      expect(a.timestamp).toBe(NOW.toISOString());
      expect(b.timestamp).toBe(NOW.toISOString());
    });

    it('uses the real clock by default', () => {
      const before = Date.now();
      const frame = parseClientFrame({ type: 'event', room: 'r', channel: 'c' });
      const t = Date.parse(frame.timestamp);
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(Date.now());
    });

    it('ignores from/sender in the input', () => {
      const frame = parse({ type: 'event', room: 'r', channel: 'c', from: 'admin', sender: 'admin' });
      expect(frame).not.toHaveProperty('from');
      expect(frame).not.toHaveProperty('sender');
    });
  });

  describe('private', () => {
    it('accepts a single string target', () => {
      const frame = parse({ type: 'private', payload: { target: 'client-b', text: 'psst' } });
      expect(frame).toMatchObject({ type: 'private', targets: ['client-b'], room: null, channel: null });
    });

    it('accepts a list of targets and removes duplicates', () => {
      const frame = parse({ type: 'private', payload: { target: ['a', 'b', 'a'] } });
      expect(frame).toMatchObject({ type: 'private', targets: ['a', 'b'] });
    });

    it('keeps an optional address', () => {
      const frame = parse({ type: 'private', channel: 'lobby:general', payload: { target: 'a' } });
      expect(frame).toMatchObject({ room: 'lobby', channel: 'general' });
    });

    it.each([
      ['no payload', {}],
      ['no target', { payload: { text: 'x' } }],
      ['null target', { payload: { target: null } }],
      ['empty list', { payload: { target: [] } }],
    ])('rejects a missing target (%s) with MISSING_TARGET', (_label, extra) => {
      expectProtocolError(() => parse({ type: 'private', ...extra }), 'MISSING_TARGET', 'payload.target');
    });

    it.each([
      ['number', 5],
      ['empty string', ''],
      ['list with a number', ['a', 1]],
      ['too long', 'x'.repeat(MAX_ID_LENGTH + 1)],
      ['too many', Array.from({ length: MAX_TARGETS + 1 }, (_, i) => `c${i}`)],
    ])('rejects a bad target (%s) with INVALID_FIELD', (_label, target) => {
      expectProtocolError(() => parse({ type: 'private', payload: { target } }), 'INVALID_FIELD', 'payload.target');
    });
  });

  describe('command', () => {
    it('reads payload.command and payload.parameters', () => {
      const frame = parse({ type: 'command', id: 'req-1', payload: { command: 'join_channel', parameters: { room: 'r' } } });
      expect(frame).toMatchObject({ type: 'command', id: 'req-1', command: 'join_channel', parameters: { room: 'r' } });
    });

    it('accepts payload.args as parameters', () => {
      const frame = parse({ type: 'command', payload: { command: 'ping', args: { x: 1 } } });
      expect(frame).toMatchObject({ command: 'ping', parameters: { x: 1 } });
    });

    it('defaults parameters to {}', () => {
      expect(parse({ type: 'command', payload: { command: 'ping' } })).toMatchObject({ parameters: {} });
    });

    it('reads the v1 top-level command/args form without a type', () => {
      const frame = parse({ command: 'list_channels', args: { room: 'lobby' } });
      expect(frame).toMatchObject({ type: 'command', command: 'list_channels', parameters: { room: 'lobby' } });
      expect(frame.id).toMatch(/^arq_/);
    });

    it('reads the top-level form with an explicit type', () => {
      expect(parse({ type: 'command', command: 'ping' })).toMatchObject({ command: 'ping', parameters: {} });
    });

    it.each([
      ['missing', { payload: {} }],
      ['uppercase', { payload: { command: 'Ping' } }],
      ['number', { payload: { command: 3 } }],
      ['starts with digit', { payload: { command: '1ping' } }],
      ['too long', { payload: { command: 'a'.repeat(65) } }],
    ])('rejects a bad command name (%s)', (_label, extra) => {
      expectProtocolError(() => parse({ type: 'command', ...extra }), 'INVALID_FIELD', 'payload.command');
    });

    it('rejects non-object parameters', () => {
      expectProtocolError(
        () => parse({ type: 'command', payload: { command: 'ping', parameters: [1] } }),
        'INVALID_FIELD',
        'payload.parameters',
      );
      expectProtocolError(() => parse({ command: 'ping', args: 'x' }), 'INVALID_FIELD', 'payload.parameters');
    });
  });
});

describe('server-only metadata keys', () => {
  it('drops a client-supplied casil or route from every frame type, keeping the other keys', () => {
    const metadata = { casil: { decision: 'ALLOW' }, route: { agent: 'x', score: 1 }, trace: 't1' };
    for (const frame of [
      { type: 'event', room: 'a', channel: 'b', metadata },
      { type: 'event', payload: { intent: { text: 'hi' } }, metadata },
      { type: 'private', payload: { target: 'bob' }, metadata },
      { type: 'command', payload: { command: 'ping' }, metadata },
    ]) {
      expect(parseClientFrame(frame).metadata, frame.type).toEqual({ trace: 't1' });
    }
  });

  it('leaves metadata without them as the same object (no copy)', () => {
    const metadata = { in_reply_to: 'm1' };
    expect(parseClientFrame({ type: 'private', payload: { target: 'bob' }, metadata }).metadata).toBe(metadata);
  });
});
