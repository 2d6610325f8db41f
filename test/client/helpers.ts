/** Shared helpers of the SDK's integration tests (not a test file itself). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { expect } from 'vitest';
import type { ArqonClient, ChannelEvent, ClientEvents, ClientOptions } from '../../src/client/index.js';
import type { TestServer } from '../helpers/server.js';

/** Resolves with the first `event` emitted that matches. */
export function next<K extends keyof ClientEvents>(
  c: ArqonClient,
  event: K,
  match: (value: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for '${String(event)}'`));
    }, timeoutMs);
    const off = c.on(event, (value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

export function record<K extends keyof ClientEvents>(c: ArqonClient, event: K): ClientEvents[K][] {
  const seen: ClientEvents[K][] = [];
  c.on(event, (value) => seen.push(value));
  return seen;
}

export const offsetOf = (e: ChannelEvent): number => e.metadata?.['offset'] as number;
export const seqOf = (e: ChannelEvent): unknown => e.payload['seq'];

export interface Gate {
  WebSocket: ClientOptions['WebSocket'];
  /** Every socket the client created, refused ones included. */
  sockets: WebSocket[];
  /** The URLs the client dialled (before the gate redirected them). */
  urls: string[];
  open: boolean;
}

/**
 * A real `ws` WebSocket whose connections can be refused on demand: while the
 * gate is shut, it dials a local HTTP server that answers every upgrade with
 * 503, so reconnect attempts fail (close 1006) until the test opens it.
 */
export async function gateWebSocket(onCleanup: (fn: () => Promise<unknown>) => void): Promise<Gate> {
  const refuser: Server = createServer((_req, res) => res.writeHead(503).end());
  refuser.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n'));
  await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => refuser.close(resolve)));
  const refuseUrl = `ws://127.0.0.1:${(refuser.address() as AddressInfo).port}/`;
  const state: Gate = { open: true, sockets: [], urls: [], WebSocket: undefined };
  state.WebSocket = class GatedWebSocket extends WebSocket {
    constructor(url: string) {
      super(state.open ? url : refuseUrl);
      state.urls.push(url);
      state.sockets.push(this);
    }
  } as unknown as ClientOptions['WebSocket'];
  return state;
}

/** Drops `c`'s connection on the server side without a close frame (as a network failure would). */
export function terminateServerSide(s: TestServer, c: ArqonClient): void {
  const connectionId = c.welcome?.connection_id;
  let found = 0;
  for (const conn of s.server.bus.clients.all()) {
    if (conn.connectionId === connectionId) {
      conn.terminate();
      found++;
    }
  }
  expect(found).toBe(1);
}
