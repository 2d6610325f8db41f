/** A plain `ws` client that records every envelope it receives, for protocol-level tests. */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Envelope } from '../../src/protocol/envelope.js';

type Predicate = (env: Envelope) => boolean;

export class RawClient {
  readonly received: Envelope[] = [];
  private waiters: Array<{ match: Predicate; resolve: (env: Envelope) => void }> = [];
  private seq = 0;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const env = JSON.parse(data.toString()) as Envelope;
      this.received.push(env);
      const i = this.waiters.findIndex((w) => w.match(env));
      if (i !== -1) this.waiters.splice(i, 1)[0]!.resolve(env);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects and waits for the welcome envelope. */
  static async connect(url: string, query: Record<string, string> = {}): Promise<{ client: RawClient; welcome: Envelope }> {
    const u = new URL(url);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const ws = new WebSocket(u);
    const client = new RawClient(ws);
    const welcome = await client.next((e) => e.type === 'system' && e.payload['event'] === 'welcome');
    client.clientId = welcome.payload['client_id'] as string;
    return { client, welcome };
  }

  /** Set from the welcome envelope. */
  clientId = '';

  /** Resolves with the first envelope (already received or future) matching the predicate. */
  next(match: Predicate, timeoutMs = 5000): Promise<Envelope> {
    const seen = this.received.find(match);
    if (seen !== undefined) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for an envelope; got ${JSON.stringify(this.received.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (env) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(env), 1);
          resolve(env);
        },
      });
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Sends a command and resolves with its command_response payload. */
  async command(command: string, parameters: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = `req-${++this.seq}-${Math.random().toString(36).slice(2)}`;
    this.send({ type: 'command', id, payload: { command, parameters } });
    const res = await this.next((e) => e.type === 'command_response' && e.payload['request_id'] === id);
    return res.payload;
  }

  /** Like `command`, but throws unless it succeeded; returns `result`. */
  async ok<T = Record<string, unknown>>(command: string, parameters: Record<string, unknown> = {}): Promise<T> {
    const res = await this.command(command, parameters);
    if (res['status'] !== 'success') throw new Error(`${command} failed: ${JSON.stringify(res)}`);
    return res['result'] as T;
  }

  /** A round trip that proves the server has processed everything sent before it. */
  async barrier(): Promise<void> {
    await this.ok('ping');
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }
}

/**
 * The net.Socket under a `ws` WebSocket (client or server side): pausing it
 * stops reading, as a stalled peer would; its cork and buffer state show what
 * the server has written.
 */
export function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/**
 * Opens a WebSocket offering `protocols`; resolves with the negotiated
 * subprotocol once it is open (and closes it), or with the HTTP status and
 * JSON body of the refusal at the upgrade.
 */
export function handshake(url: string, protocols: string[] = []): Promise<{ protocol: string } | { status: number; body: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    ws.on('error', () => {}); // 'unexpected-response' carries the outcome; terminate() reports the aborted handshake
    ws.on('open', () => {
      resolve({ protocol: ws.protocol });
      ws.close(1000);
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> });
      });
    });
  });
}

/** Opens a WebSocket the server must refuse at the upgrade; resolves with the HTTP status and JSON body. */
export async function refusedUpgrade(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const outcome = await handshake(url);
  if ('protocol' in outcome) throw new Error(`the upgrade to ${url} was accepted`);
  return outcome;
}
