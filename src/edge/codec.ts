/**
 * Codec selection: a connection speaks the v1 JSON text protocol or the binary
 * Protobuf one, fixed at the upgrade by `Sec-WebSocket-Protocol`
 * (docs/protocol.md#binary-subprotocol).
 */
import { selectProtocol, type WireProtocol } from '../protocol/proto-subprotocols.js';
import { decodeFrame } from './codec-json.js';
import { decodeProtoFrame } from './codec-proto.js';

export type { WireProtocol };

export interface EdgeCodec {
  readonly protocol: WireProtocol;
  /** Frames go out as binary WebSocket frames. */
  readonly binary: boolean;
  /** One inbound frame to an untrusted value for parseClientFrame; throws ProtocolError. */
  decode(data: Buffer, isBinary: boolean): unknown;
}

export const JSON_CODEC: EdgeCodec = { protocol: 'json', binary: false, decode: decodeFrame };
export const PROTO_CODEC: EdgeCodec = { protocol: 'proto', binary: true, decode: decodeProtoFrame };

/** The codec for the subprotocol ws selected ('' when the client offered none). */
export function codecFor(selected: string): EdgeCodec {
  return selectProtocol(selected === '' ? [] : [selected]) === 'proto' ? PROTO_CODEC : JSON_CODEC;
}
