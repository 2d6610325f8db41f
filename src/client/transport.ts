/**
 * The slice of the WebSocket API the SDK uses: the browser API, which the
 * `ws` package implements too. Nothing here is Node-specific.
 */

/** WebSocket.readyState values (identical in browsers and `ws`). */
export const READY_STATE = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** 1006: the socket dropped without a close frame (also used for attempts the client abandons). */
export const ABNORMAL_CLOSURE = 1006;

export interface MessageEventLike {
  readonly data: unknown;
}
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/** What the client needs from a socket. Browser `WebSocket` and `ws` both satisfy it. */
export interface WebSocketLike {
  readonly readyState: number;
  /** A string for the JSON protocol, bytes for the binary one. */
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => unknown) | null;
  onmessage: ((event: never) => unknown) | null;
  onclose: ((event: never) => unknown) | null;
  onerror: ((event: never) => unknown) | null;
}

/** The second argument offers subprotocols (`Sec-WebSocket-Protocol`); only the binary protocol passes it. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * The constructor to use: the one given, else `globalThis.WebSocket` (browsers,
 * Deno, Node >= 22), else the `ws` package, loaded lazily so browser bundles
 * that never reach this branch do not need it.
 */
export async function resolveWebSocket(given: WebSocketConstructor | undefined): Promise<WebSocketConstructor> {
  if (given !== undefined) return given;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === 'function') return global;
  const mod = await import('ws');
  return mod.default as unknown as WebSocketConstructor;
}

/** Handlers the client attaches to one socket. */
export interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
}

/**
 * Attaches handlers through the `on*` properties (supported by every
 * implementation) and returns a function that detaches them, after which the
 * socket can no longer reach the client.
 */
export function attachSocket(socket: WebSocketLike, handlers: SocketHandlers): () => void {
  const s = socket as unknown as {
    onopen: (() => void) | null;
    onmessage: ((event: MessageEventLike) => void) | null;
    onclose: ((event: CloseEventLike) => void) | null;
    onerror: ((event: { readonly message?: unknown }) => void) | null;
  };
  // An error is always followed by a close event, which carries the code. Browsers say nothing more
  // (a refused upgrade is a bare 1006); `ws` names the cause (e.g. "Unexpected server response: 401"),
  // which becomes the reason of a close that has none.
  let lastError = '';
  s.onopen = () => handlers.open();
  s.onmessage = (event) => handlers.message(event.data);
  s.onclose = (event) => handlers.close(event.code, event.reason !== '' ? event.reason : lastError);
  s.onerror = (event) => {
    if (typeof event?.message === 'string') lastError = event.message;
  };
  return () => {
    s.onopen = null;
    s.onmessage = null;
    s.onclose = null;
    s.onerror = () => {};
  };
}

const textDecoder = new TextDecoder();

/** A frame's text, or null for data the JSON codec cannot read (e.g. a Blob). */
export function frameText(data: unknown): string | null {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return textDecoder.decode(data);
  if (ArrayBuffer.isView(data)) return textDecoder.decode(data);
  if (Array.isArray(data) && data.every((d) => ArrayBuffer.isView(d))) {
    return data.map((d: ArrayBufferView) => textDecoder.decode(d)).join('');
  }
  return null;
}
