/** The JSON text codec of the v1 protocol. */
import type { Envelope } from '../protocol/envelope.js';
import { ProtocolError } from '../protocol/errors.js';

/** Encodes once; the resulting buffer is shared by every recipient of a fan-out. */
export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelope));
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes one text frame into an untrusted value. Throws INVALID_FRAME / INVALID_JSON. */
export function decodeFrame(data: Buffer, isBinary: boolean): unknown {
  if (isBinary) throw new ProtocolError('INVALID_FRAME', 'binary frames are not accepted on the JSON protocol');
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    throw new ProtocolError('INVALID_FRAME', 'frame is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProtocolError('INVALID_JSON', 'frame is not valid JSON');
  }
}
