/**
 * The binary Protobuf codec of the edge (subprotocol arqonbus.v1.proto).
 *
 * Inbound: a binary frame decodes to the same plain object the JSON codec
 * yields, then goes through the same validation and session path.
 * Outbound: routers stay codec-agnostic and encode JSON once per fan-out; a
 * proto connection transcodes those bytes. The last transcoding is remembered
 * by Buffer identity, so every proto recipient of one fan-out (a synchronous
 * loop over the same Buffer object) shares one transcoding.
 */
import { ProtocolError } from '../protocol/errors.js';
import { decodeEnvelopeObject, encodeEnvelopeObject, ProtoFrameError } from '../protocol/proto-codec.js';

/** Decodes one binary frame into an untrusted value. Throws INVALID_FRAME / INVALID_JSON. */
export function decodeProtoFrame(data: Buffer, isBinary: boolean): unknown {
  if (!isBinary) throw new ProtocolError('INVALID_FRAME', 'text frames are not accepted on the arqonbus.v1.proto protocol');
  try {
    return decodeEnvelopeObject(data);
  } catch (err) {
    if (err instanceof ProtoFrameError && err.reason === 'json') throw new ProtocolError('INVALID_JSON', err.message);
    throw new ProtocolError('INVALID_FRAME', 'frame is not a valid arqonbus.v1.Envelope');
  }
}

/**
 * A one-entry cache rather than a WeakMap: a fan-out hands the same Buffer to
 * its recipients back to back, so the last one is the only one worth keeping,
 * and the check is one identity comparison. It holds at most one frame alive.
 */
let lastJson: Buffer | null = null;
let lastProto: Buffer = Buffer.alloc(0);
let transcodings = 0;

/** The protobuf frame for a JSON-encoded envelope (bytes the server itself produced). */
export function transcodeToProto(json: Buffer): Buffer {
  if (json === lastJson) return lastProto;
  const bytes = encodeEnvelopeObject(JSON.parse(json.toString('utf8')) as Record<string, unknown>);
  // protobufjs writes Node Buffers under Node; the view keeps that zero-copy either way.
  const out = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  lastJson = json;
  lastProto = out;
  transcodings++;
  return out;
}

/** How many JSON frames were transcoded in this process (tests and benchmarks read it). */
export function protoTranscodings(): number {
  return transcodings;
}
