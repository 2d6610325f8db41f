/**
 * The WebSocket subprotocols ArqonBus speaks (`Sec-WebSocket-Protocol`) and the
 * one rule that picks among those a client offers. Shared by the server and the
 * SDK; no dependencies, so the JSON-only SDK path never loads protobufjs.
 */
export const JSON_SUBPROTOCOL = 'arqonbus.v1.json';
export const PROTO_SUBPROTOCOL = 'arqonbus.v1.proto';

export type WireProtocol = 'json' | 'proto';

export const SUBPROTOCOLS: Readonly<Record<WireProtocol, string>> = { json: JSON_SUBPROTOCOL, proto: PROTO_SUBPROTOCOL };

/**
 * The protocol for the subprotocols a client offered, in the client's order of
 * preference (RFC 6455 §4.1): the first one we speak wins. Nothing offered means
 * JSON (every v1 client). Only unknown names offered means null: the upgrade is
 * refused rather than answered in a format the client did not ask for.
 */
export function selectProtocol(offered: Iterable<string>): WireProtocol | null {
  let any = false;
  for (const name of offered) {
    any = true;
    if (name === JSON_SUBPROTOCOL) return 'json';
    if (name === PROTO_SUBPROTOCOL) return 'proto';
  }
  return any ? null : 'json';
}

/** The names in a `Sec-WebSocket-Protocol` header (comma-separated tokens; repeated headers are already joined). */
export function offeredSubprotocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
