/**
 * The binary subprotocol's codec: a v1 envelope as a plain JSON-shaped object
 * ⇄ one arqonbus.v1.Envelope message. Used by the edge (client frames in,
 * transcoded fan-out bytes out) and by the SDK, so it must stay browser-safe:
 * no Node built-ins, no Buffer (protobufjs itself runs in browsers).
 *
 * The mapping is lossless for everything the server emits: decode(encode(x))
 * deep-equals x. `room`, `channel` and `from` absent mean null; `request_id`
 * absent means null on an error envelope. payload, metadata and args travel as
 * JSON text (see docs/protocol.md#binary-subprotocol for why not Struct).
 */
import protobuf from 'protobufjs';
import { PROTO_TEXT } from './proto-schema.js';

/** keepCase: the message's fields keep the envelope's snake_case names. */
const root = protobuf.parse(PROTO_TEXT, { keepCase: true }).root;
export const EnvelopeMessage = root.lookupType('arqonbus.v1.Envelope');

/** Why a binary frame could not be read: not an Envelope at all, or one of its JSON fields is not JSON. */
export class ProtoFrameError extends Error {
  constructor(
    readonly reason: 'frame' | 'json',
    message: string,
  ) {
    super(message);
    this.name = 'ProtoFrameError';
  }
}

type Obj = Record<string, unknown>;

/** Envelope keys whose null is carried as absence (decode gives null back). */
const NULL_WHEN_ABSENT = new Set(['room', 'channel', 'from']);

/** Sets an own enumerable key; defineProperty keeps "__proto__" a plain key, as JSON.parse does. */
function put(obj: Obj, key: string, value: unknown): Obj {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  return obj;
}

/** Encodes a JSON-shaped envelope. Keys that fit no typed field go, as JSON, to extra_json. */
export function encodeEnvelopeObject(env: Obj): Uint8Array {
  const msg: Obj = {};
  let extra: Obj | undefined;
  for (const key of Object.keys(env)) {
    const value = env[key];
    if (value === undefined) continue;
    switch (key) {
      case 'version':
      case 'id':
      case 'type':
      case 'room':
      case 'channel':
      case 'from':
      case 'timestamp':
      case 'error':
      case 'error_code':
      case 'command':
        if (typeof value === 'string') msg[key] = value;
        else if (value !== null || !NULL_WHEN_ABSENT.has(key)) extra = put(extra ?? {}, key, value);
        break;
      case 'request_id':
        if (typeof value === 'string') msg[key] = value;
        else if (value !== null || env['type'] !== 'error') extra = put(extra ?? {}, key, value);
        break;
      case 'retryable':
        if (typeof value === 'boolean') msg[key] = value;
        else extra = put(extra ?? {}, key, value);
        break;
      case 'payload':
        msg['payload_json'] = JSON.stringify(value);
        break;
      case 'metadata':
        msg['metadata_json'] = JSON.stringify(value);
        break;
      case 'args':
        msg['args_json'] = JSON.stringify(value);
        break;
      default:
        extra = put(extra ?? {}, key, value);
    }
  }
  if (extra !== undefined) msg['extra_json'] = JSON.stringify(extra);
  return EnvelopeMessage.encode(msg).finish();
}

function parseJsonField(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProtoFrameError('json', `${field} is not valid JSON`);
  }
}

/**
 * Decodes one binary frame into the same plain object the JSON codec yields
 * for the equivalent text frame. Throws ProtoFrameError, never anything else.
 */
export function decodeEnvelopeObject(bytes: Uint8Array): Obj {
  let m: Obj;
  try {
    m = EnvelopeMessage.decode(bytes) as unknown as Obj;
  } catch {
    // protobufjs throws RangeError/Error for truncated data, bad wire types, runaway lengths.
    throw new ProtoFrameError('frame', 'frame is not a valid arqonbus.v1.Envelope');
  }
  // Absent optional fields read as null (protobufjs puts null defaults on the prototype).
  const out: Obj = {};
  if (m['version'] != null) out['version'] = m['version'];
  if (m['id'] != null) out['id'] = m['id'];
  if (m['type'] != null) out['type'] = m['type'];
  out['room'] = m['room'] ?? null;
  out['channel'] = m['channel'] ?? null;
  out['from'] = m['from'] ?? null;
  if (m['timestamp'] != null) out['timestamp'] = m['timestamp'];
  if (m['payload_json'] != null) out['payload'] = parseJsonField(m['payload_json'] as string, 'payload_json');
  if (m['metadata_json'] != null) out['metadata'] = parseJsonField(m['metadata_json'] as string, 'metadata_json');
  if (m['request_id'] != null) out['request_id'] = m['request_id'];
  else if (out['type'] === 'error') out['request_id'] = null;
  if (m['error'] != null) out['error'] = m['error'];
  if (m['error_code'] != null) out['error_code'] = m['error_code'];
  if (m['retryable'] != null) out['retryable'] = m['retryable'];
  if (m['command'] != null) out['command'] = m['command'];
  if (m['args_json'] != null) out['args'] = parseJsonField(m['args_json'] as string, 'args_json');
  if (m['extra_json'] != null) {
    const extra = parseJsonField(m['extra_json'] as string, 'extra_json');
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new ProtoFrameError('json', 'extra_json must be a JSON object');
    for (const [key, value] of Object.entries(extra)) {
      // A typed field wins over the same key in extra_json.
      if (!Object.prototype.hasOwnProperty.call(out, key) || (out[key] === null && (NULL_WHEN_ABSENT.has(key) || key === 'request_id'))) put(out, key, value);
    }
  }
  return out;
}
