/**
 * The HTTP upgrade: which endpoint a request is for, and the client profile
 * from its query parameters. Refusals happen here, before a socket exists.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../protocol/codes.js';
import { JSON_SUBPROTOCOL, offeredSubprotocols, selectProtocol, SUBPROTOCOLS, type WireProtocol } from '../protocol/proto-subprotocols.js';
import { CLIENT_TYPES, type ClientProfile, type ClientType } from './connection.js';

export type UpgradeTarget = 'bus' | 'telemetry' | 'none';

export const BUS_PATHS: ReadonlySet<string> = new Set(['/', '/ws', '/v1', '/bus']);

export class HandshakeError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HandshakeError';
  }
}

export function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw new HandshakeError(400, 'INVALID_PARAMETERS', 'the request target is not a valid URL');
  }
}

function param(url: URL, name: string, maxLength: number): string | null {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return null;
  if (v.length > maxLength) throw new HandshakeError(400, 'INVALID_PARAMETERS', `${name} is longer than ${maxLength} characters`);
  return v;
}

/** Reads client_type, screen_name, avatar and personality from the upgrade URL. */
export function profileFromQuery(url: URL): ClientProfile {
  const type = param(url, 'client_type', 32) ?? 'human';
  if (!(CLIENT_TYPES as readonly string[]).includes(type)) {
    throw new HandshakeError(400, 'INVALID_PARAMETERS', `client_type must be one of ${CLIENT_TYPES.join(', ')}`);
  }
  return {
    clientType: type as ClientType,
    screenName: param(url, 'screen_name', 128),
    avatar: param(url, 'avatar', 2048),
    personality: param(url, 'personality', 2048),
    metadata: {},
  };
}

/**
 * The wire protocol a bus upgrade asks for with `Sec-WebSocket-Protocol`. A
 * client that offers only subprotocols we do not speak is refused (400) here,
 * with the supported names, instead of being answered in JSON it did not ask
 * for or getting a handshake its WebSocket library fails without a reason.
 */
export function protocolFromRequest(req: IncomingMessage): WireProtocol {
  const header = req.headers['sec-websocket-protocol'];
  const protocol = selectProtocol(offeredSubprotocols(header));
  if (protocol === null) {
    throw new HandshakeError(400, 'INVALID_PARAMETERS', `unsupported WebSocket subprotocol; supported: ${Object.values(SUBPROTOCOLS).join(', ')}`);
  }
  return protocol;
}

/** ws `handleProtocols` for the bus: echoes the chosen subprotocol (protocolFromRequest already refused the rest). */
export function busSubprotocol(offered: Set<string>): string | false {
  const protocol = selectProtocol(offered);
  return protocol === null ? false : SUBPROTOCOLS[protocol];
}

/** ws `handleProtocols` for the telemetry stream, which speaks JSON only. */
export function telemetrySubprotocol(offered: Set<string>): string | false {
  return offered.has(JSON_SUBPROTOCOL) ? JSON_SUBPROTOCOL : false;
}

/** Answers a refused upgrade with a JSON body and closes the raw socket. */
export function refuseUpgrade(socket: Duplex, err: HandshakeError): void {
  const body = JSON.stringify({ error: err.message, error_code: err.code });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[err.status] ?? 'Error';
  // RFC 6750: a 401 names the scheme and the reason.
  const challenge = err.status === 401 ? `WWW-Authenticate: Bearer error="invalid_token", error_description="${err.code}"\r\n` : '';
  socket.end(
    `HTTP/1.1 ${err.status} ${reason}\r\nConnection: close\r\n${challenge}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
