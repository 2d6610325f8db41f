/**
 * The binary subprotocol's codec: the schema text, the lossless mapping of
 * every envelope shape, equivalence with the JSON path through
 * parseClientFrame, and hostile bytes.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/edge/codec-json.js';
import { decodeProtoFrame, protoTranscodings, transcodeToProto } from '../../src/edge/codec-proto.js';
import { parseClientFrame } from '../../src/protocol/envelope.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { decodeEnvelopeObject, encodeEnvelopeObject, EnvelopeMessage } from '../../src/protocol/proto-codec.js';
import { PROTO_TEXT } from '../../src/protocol/proto-schema.js';
import { offeredSubprotocols, selectProtocol } from '../../src/protocol/proto-subprotocols.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const roundTrip = (env: Record<string, unknown>): Record<string, unknown> => decodeEnvelopeObject(encodeEnvelopeObject(env));
const asProto = (env: Record<string, unknown>): Buffer => Buffer.from(encodeEnvelopeObject(env));

/** Server-shaped envelopes, as the routers and outbound.ts build them. */
const SERVER_ENVELOPES: Record<string, Record<string, unknown>> = {
  event: {
    version: '1.0', id: 'm1', type: 'event', room: 'lobby', channel: 'general', from: 'alice', timestamp: '2026-01-02T03:04:05.678Z',
    payload: { text: 'héllo ✓ 🎉', big: 12345678901234567890, tiny: 1e-300, neg: -0.5, nested: [[1, [2, [null]]], { a: null }], empty: {}, list: [] },
    metadata: { offset: 42, epoch: 'e-1', echo: true },
  },
  intent: { version: '1.0', id: 'i1', type: 'event', room: null, channel: null, from: 'bob', timestamp: '2026-01-02T03:04:05.678Z', payload: { intent: { text: 'refund' } }, metadata: { route: { agent: 'cx_1', score: 0.71, mode: 'best' } } },
  private: { version: '1.0', id: 'p1', type: 'private', room: null, channel: null, from: 'alice', timestamp: '2026-01-02T03:04:05.678Z', payload: { target: ['bob', 'carol'], note: 'x' } },
  command_response: { version: '1.0', id: 'arq_1', type: 'command_response', room: null, channel: null, from: null, timestamp: '2026-01-02T03:04:05.678Z', payload: { request_id: 'r1', command: 'ping', status: 'success', result: { pong: true } } },
  system: { version: '1.0', id: 'arq_2', type: 'system', room: 'lobby', channel: 'general', from: null, timestamp: '2026-01-02T03:04:05.678Z', payload: { event: 'member_joined', client: { client_id: 'bob' } } },
  error_with_id: {
    version: '1.0', id: 'arq_3', type: 'error', room: 'lobby', channel: 'general', from: null, timestamp: '2026-01-02T03:04:05.678Z',
    request_id: 'm9', error: 'not a member', error_code: 'NOT_IN_CHANNEL', retryable: false, payload: { reason: 'NOT_IN_CHANNEL' },
  },
  error_without_id: {
    version: '1.0', id: 'arq_4', type: 'error', room: null, channel: null, from: null, timestamp: '2026-01-02T03:04:05.678Z',
    request_id: null, error: 'frame is not valid JSON', error_code: 'INVALID_JSON', retryable: false, payload: { reason: 'INVALID_JSON' },
  },
};

describe('proto schema', () => {
  it('src/protocol/arqonbus.proto and PROTO_TEXT are identical', () => {
    expect(readFileSync(resolve(root, 'src/protocol/arqonbus.proto'), 'utf8')).toBe(PROTO_TEXT);
  });

  it('mirrors every v1 envelope field', () => {
    expect(Object.keys(EnvelopeMessage.fields)).toEqual([
      'version', 'id', 'type', 'room', 'channel', 'from', 'timestamp', 'payload_json', 'metadata_json',
      'request_id', 'error', 'error_code', 'retryable', 'command', 'args_json', 'extra_json',
    ]);
  });
});

describe('proto codec mapping', () => {
  for (const [name, env] of Object.entries(SERVER_ENVELOPES)) {
    it(`round-trips a ${name} envelope exactly`, () => {
      expect(roundTrip(env)).toStrictEqual(JSON.parse(JSON.stringify(env)));
    });
  }

  it('transcodes server JSON bytes to a frame that decodes to the same envelope', () => {
    for (const env of Object.values(SERVER_ENVELOPES)) {
      const json = Buffer.from(JSON.stringify(env));
      expect(decodeEnvelopeObject(transcodeToProto(json))).toStrictEqual(JSON.parse(json.toString()));
    }
  });

  it('transcodes one Buffer once, however many times it is sent', () => {
    const json = Buffer.from(JSON.stringify(SERVER_ENVELOPES['event']));
    const before = protoTranscodings();
    const first = transcodeToProto(json);
    for (let i = 0; i < 10; i++) expect(transcodeToProto(json)).toBe(first);
    expect(protoTranscodings() - before).toBe(1);
    // Same content, another Buffer (another fan-out): transcoded again.
    transcodeToProto(Buffer.from(json));
    expect(protoTranscodings() - before).toBe(2);
  });

  it('keeps unknown top-level keys, wrong-typed values and explicit nulls', () => {
    const odd = { type: 'event', version: null, id: 7, retryable: 'maybe', custom: { deep: [1, 2] }, request_id: null, room: 'r', channel: 'c' };
    expect(roundTrip(odd)).toStrictEqual({ ...odd, from: null });
  });

  it('keeps "__proto__" a plain key, as JSON.parse does', () => {
    const hostile = JSON.parse('{"type":"event","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const out = roundTrip(hostile);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('is smaller than JSON for a typical event', () => {
    const env = SERVER_ENVELOPES['event']!;
    expect(encodeEnvelopeObject(env).length).toBeLessThan(Buffer.byteLength(JSON.stringify(env)));
  });
});

describe('proto frames through parseClientFrame', () => {
  const frames: Record<string, unknown>[] = [
    { type: 'event', id: 'e1', room: 'lobby', channel: 'general', timestamp: '2026-01-02T03:04:05Z', payload: { text: 'hi' }, metadata: { echo: true } },
    { type: 'event', id: 'e2', channel: 'lobby:general', timestamp: '2026-01-02T03:04:05Z', payload: {} },
    { type: 'event', id: 'e3', timestamp: '2026-01-02T03:04:05Z', payload: { intent: { text: 'refund please' } } },
    { type: 'private', id: 'p1', timestamp: '2026-01-02T03:04:05Z', payload: { target: ['a', 'b'], x: 1 } },
    { type: 'command', id: 'c1', timestamp: '2026-01-02T03:04:05Z', payload: { command: 'join_channel', parameters: { room: 'lobby', channel: 'general' } } },
    { command: 'ping', args: { a: 1 }, id: 'c2', timestamp: '2026-01-02T03:04:05Z' },
  ];
  for (const frame of frames) {
    it(`validates ${JSON.stringify(frame).slice(0, 60)} exactly like its JSON form`, () => {
      const viaJson = parseClientFrame(decodeFrame(Buffer.from(JSON.stringify(frame)), false));
      const viaProto = parseClientFrame(decodeProtoFrame(asProto(frame), true));
      expect(viaProto).toStrictEqual(viaJson);
    });
  }

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['unknown type', { type: 'nope' }, 'UNKNOWN_TYPE'],
    ['server-only type', { type: 'system' }, 'FORBIDDEN_TYPE'],
    ['no type', { id: 'x' }, 'INVALID_FIELD'],
    ['payload not an object', { type: 'event', room: 'a', channel: 'b', payload: [1] }, 'INVALID_FIELD'],
    ['bad channel name', { type: 'event', room: 'a b', channel: 'c' }, 'INVALID_CHANNEL'],
    ['private without target', { type: 'private', payload: {} }, 'MISSING_TARGET'],
  ];
  for (const [name, frame, code] of bad) {
    it(`rejects ${name} with ${code}, as the JSON codec does`, () => {
      const codeOf = (fn: () => unknown): string => {
        try {
          fn();
        } catch (err) {
          return (err as ProtocolError).code;
        }
        return 'accepted';
      };
      expect(codeOf(() => parseClientFrame(decodeProtoFrame(asProto(frame), true)))).toBe(code);
      expect(codeOf(() => parseClientFrame(decodeFrame(Buffer.from(JSON.stringify(frame)), false)))).toBe(code);
    });
  }
});

describe('malformed proto frames', () => {
  const codeOf = (data: Buffer, isBinary = true): string => {
    try {
      parseClientFrame(decodeProtoFrame(data, isBinary));
      return 'accepted';
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      return (err as ProtocolError).code;
    }
  };

  it('refuses text frames with INVALID_FRAME', () => {
    expect(codeOf(Buffer.from(JSON.stringify({ type: 'event', room: 'a', channel: 'b' })), false)).toBe('INVALID_FRAME');
  });

  it('refuses truncated and garbage bytes with INVALID_FRAME', () => {
    const good = asProto({ type: 'event', room: 'lobby', channel: 'general', payload: { text: 'hi' } });
    expect(codeOf(good.subarray(0, good.length - 3))).toBe('INVALID_FRAME');
    expect(codeOf(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe('INVALID_FRAME');
    // Field 8 (payload_json) claiming 2^31 bytes.
    expect(codeOf(Buffer.from([0x42, 0x80, 0x80, 0x80, 0x80, 0x08]))).toBe('INVALID_FRAME');
  });

  it('answers INVALID_JSON when a JSON field is not JSON', () => {
    expect(codeOf(Buffer.from(EnvelopeMessage.encode({ type: 'event', room: 'a', channel: 'b', payload_json: '{nope' }).finish()))).toBe('INVALID_JSON');
    expect(codeOf(Buffer.from(EnvelopeMessage.encode({ type: 'event', extra_json: '[1]' }).finish()))).toBe('INVALID_JSON');
  });

  it('never throws anything but a ProtocolError on random bytes (seeded fuzz)', () => {
    let seed = 0x2545f491;
    const rand = (): number => {
      // xorshift32: reproducible without a dependency.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const valid = asProto({ type: 'event', id: 'f', room: 'lobby', channel: 'general', payload: { text: 'fuzz', n: [1, 2, 3] }, metadata: { echo: true } });
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      let data: Buffer;
      if (i % 2 === 0) {
        data = Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
      } else {
        // Mutations of a valid frame reach deeper into the decoder than pure noise.
        data = Buffer.from(valid);
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) data[Math.floor(rand() * data.length)] = Math.floor(rand() * 256);
      }
      const code = codeOf(data);
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    }
    expect(outcomes.get('INVALID_FRAME')).toBeGreaterThan(0);
    expect([...outcomes.keys()].every((c) => /^[A-Z_]+$/.test(c) || c === 'accepted')).toBe(true);
  });
});

describe('subprotocol selection', () => {
  it('defaults to JSON, honours the client order, refuses only-unknown offers', () => {
    expect(selectProtocol([])).toBe('json');
    expect(selectProtocol(['arqonbus.v1.json'])).toBe('json');
    expect(selectProtocol(['arqonbus.v1.proto'])).toBe('proto');
    expect(selectProtocol(['mqtt', 'arqonbus.v1.proto', 'arqonbus.v1.json'])).toBe('proto');
    expect(selectProtocol(['arqonbus.v1.json', 'arqonbus.v1.proto'])).toBe('json');
    expect(selectProtocol(['mqtt', 'centrifuge-protobuf'])).toBeNull();
    expect(offeredSubprotocols(' a , arqonbus.v1.proto,,b ')).toEqual(['a', 'arqonbus.v1.proto', 'b']);
    expect(offeredSubprotocols(undefined)).toEqual([]);
  });
});
