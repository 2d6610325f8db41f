/**
 * The SDK's wire codecs. JSON is built in; the binary Protobuf codec is loaded
 * on first use with a dynamic import, so JSON-only users (and their browser
 * bundles) never load protobufjs. Both hand the client the same ServerMessage.
 */
import type { JsonObject } from '../protocol/envelope.js';
import { SUBPROTOCOLS, type WireProtocol } from '../protocol/proto-subprotocols.js';
import { parseServerFrame, parseServerMessage, type ServerMessage } from './inbound.js';
import { frameText, type WebSocketConstructor, type WebSocketLike } from './transport.js';

export interface ClientCodec {
  readonly protocol: WireProtocol;
  /** Opens a socket that speaks this codec. */
  open(WebSocketImpl: WebSocketConstructor, url: string): WebSocketLike;
  encode(frame: JsonObject): string | Uint8Array;
  /** One received frame; null for a frame this codec cannot read (ignored, as before). */
  decode(data: unknown): ServerMessage | null;
}

/** Offers no subprotocol, exactly like every v1 client: the server defaults to JSON. */
export const JSON_CLIENT_CODEC: ClientCodec = {
  protocol: 'json',
  open: (WebSocketImpl, url) => new WebSocketImpl(url),
  encode: (frame) => JSON.stringify(frame),
  decode(data) {
    const text = frameText(data);
    return text === null ? null : parseServerFrame(text);
  },
};

/** A binary frame's bytes (ArrayBuffer in browsers and with binaryType 'arraybuffer'; Buffers in ws), else null. */
export function frameBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

let proto: Promise<ClientCodec> | undefined;

async function loadProto(): Promise<ClientCodec> {
  const { decodeEnvelopeObject, encodeEnvelopeObject } = await import('../protocol/proto-codec.js');
  return {
    protocol: 'proto',
    open(WebSocketImpl, url) {
      const socket = new WebSocketImpl(url, SUBPROTOCOLS.proto);
      // Browsers default to Blob, which cannot be read synchronously.
      (socket as { binaryType?: string }).binaryType = 'arraybuffer';
      return socket;
    },
    encode: (frame) => encodeEnvelopeObject(frame),
    decode(data) {
      // A text frame means the server did not speak the protocol we negotiated: not ours to read.
      const bytes = frameBytes(data);
      if (bytes === null) return null;
      try {
        return parseServerMessage(decodeEnvelopeObject(bytes));
      } catch {
        return null;
      }
    },
  };
}

/** The codec for a protocol; the Protobuf one is imported once per process. */
export function loadCodec(protocol: WireProtocol): Promise<ClientCodec> {
  if (protocol === 'json') return Promise.resolve(JSON_CLIENT_CODEC);
  // A failed load (e.g. a bundle without protobufjs) is not cached: the next connect attempt tries again.
  proto ??= loadProto().catch((err: unknown) => {
    proto = undefined;
    throw err;
  });
  return proto;
}
