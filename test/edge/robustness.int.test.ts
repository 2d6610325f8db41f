import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const KiB = 1024;
const isError = (e: Envelope): boolean => e.type === 'error';

/** A bad frame and the error the server must answer it with. */
interface Garbage {
  readonly name: string;
  readonly frame: string | Buffer;
  readonly code: string;
  readonly requestId: string | null;
  readonly field?: string;
}

const GARBAGE: readonly Garbage[] = [
  { name: 'truncated JSON', frame: '{"type": "event", "room":', code: 'INVALID_JSON', requestId: null },
  { name: 'not JSON at all', frame: 'hello bus', code: 'INVALID_JSON', requestId: null },
  { name: 'empty text frame', frame: '', code: 'INVALID_JSON', requestId: null },
  { name: 'binary junk', frame: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]), code: 'INVALID_FRAME', requestId: null },
  { name: 'binary JSON', frame: Buffer.from('{"type":"event","id":"b1"}'), code: 'INVALID_FRAME', requestId: null },
  { name: 'JSON array', frame: '[{"type":"event"}]', code: 'INVALID_FRAME', requestId: null },
  { name: 'JSON number', frame: '42', code: 'INVALID_FRAME', requestId: null },
  { name: 'JSON string', frame: '"event"', code: 'INVALID_FRAME', requestId: null },
  { name: 'JSON null', frame: 'null', code: 'INVALID_FRAME', requestId: null },
  { name: 'unknown type', frame: '{"id":"u1","type":"shout"}', code: 'UNKNOWN_TYPE', requestId: 'u1', field: 'type' },
  { name: 'unknown type, no id', frame: '{"type":"shout"}', code: 'UNKNOWN_TYPE', requestId: null, field: 'type' },
  ...(['system', 'error', 'telemetry', 'command_response'] as const).map((type) => ({
    name: `server-only type ${type}`,
    frame: JSON.stringify({ id: `f-${type}`, type, payload: {} }),
    code: 'FORBIDDEN_TYPE',
    requestId: `f-${type}`,
    field: 'type',
  })),
  { name: 'type is a number', frame: '{"id":"t1","type":7}', code: 'INVALID_FIELD', requestId: 't1', field: 'type' },
  { name: 'no type', frame: '{"id":"t2","payload":{}}', code: 'INVALID_FIELD', requestId: 't2', field: 'type' },
  { name: 'id is a number', frame: '{"id":5,"type":"event"}', code: 'INVALID_FIELD', requestId: null, field: 'id' },
  {
    name: 'payload is a string',
    frame: '{"id":"p1","type":"event","room":"r","channel":"c","payload":"hi"}',
    code: 'INVALID_FIELD',
    requestId: 'p1',
    field: 'payload',
  },
  {
    name: 'metadata is an array',
    frame: '{"id":"m1","type":"event","room":"r","channel":"c","metadata":[1]}',
    code: 'INVALID_FIELD',
    requestId: 'm1',
    field: 'metadata',
  },
  { name: 'timestamp not ISO', frame: '{"id":"ts1","type":"event","timestamp":"yesterday"}', code: 'INVALID_FIELD', requestId: 'ts1', field: 'timestamp' },
  { name: 'version is a number', frame: '{"id":"v1","type":"event","version":1}', code: 'INVALID_FIELD', requestId: 'v1', field: 'version' },
  {
    name: 'command parameters not an object',
    frame: '{"id":"c1","type":"command","payload":{"command":"ping","parameters":[]}}',
    code: 'INVALID_FIELD',
    requestId: 'c1',
    field: 'payload.parameters',
  },
  {
    name: 'command name not a string',
    frame: '{"id":"c2","type":"command","payload":{"command":12}}',
    code: 'INVALID_FIELD',
    requestId: 'c2',
    field: 'payload.command',
  },
];

describe('robustness against bad frames', () => {
  let srv: TestServer;
  beforeEach(async () => {
    srv = await startServer();
  });
  afterEach(async () => {
    await srv.close();
  });

  it('answers each bad frame with a typed error, keeps the connection, and never disturbs a chat', async () => {
    const { client: vandal } = await RawClient.connect(srv.url);
    const { client: alice } = await RawClient.connect(srv.url);
    const { client: bob } = await RawClient.connect(srv.url);
    await alice.ok('join_channel', { room: 'lobby', channel: 'chat' });
    await bob.ok('join_channel', { room: 'lobby', channel: 'chat' });

    let seq = 0;
    for (const g of GARBAGE) {
      vandal.send(g.frame);
      alice.send({ type: 'event', id: `chat-${seq}`, room: 'lobby', channel: 'chat', payload: { seq } });
      seq++;
      const err = await vandal.next(isError);
      expect(err, g.name).toMatchObject({ type: 'error', error_code: g.code, request_id: g.requestId, retryable: false });
      expect(err.payload['reason'], g.name).toBe(g.code);
      expect(typeof err.error, g.name).toBe('string');
      if (g.field !== undefined) expect(err.payload['field'], g.name).toBe(g.field);
      // The connection is still usable: a command round trip works and nothing else was sent.
      await vandal.barrier();
      expect(vandal.received.filter(isError), g.name).toEqual([]);
    }

    await alice.barrier();
    const chat: Envelope[] = [];
    for (let i = 0; i < seq; i++) chat.push(await bob.next((e) => e.type === 'event'));
    expect(chat.map((e) => e.payload['seq'])).toEqual([...Array(seq).keys()]);
    expect(chat.every((e) => e.from === alice.clientId)).toBe(true);
    await bob.barrier();
    expect([...alice.received, ...bob.received].filter(isError)).toEqual([]);
    expect(vandal.ws.readyState).toBe(WebSocket.OPEN);

    // Errors are counted by code.
    const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    expect(metrics).toContain('arqon_errors_total{code="INVALID_FRAME"} 6');
    expect(metrics).toContain('arqon_errors_total{code="FORBIDDEN_TYPE"} 4');
    await Promise.all([vandal.close(), alice.close(), bob.close()]);
  });

  it('answers a text frame of invalid UTF-8 with INVALID_FRAME and stays open', async () => {
    const { client } = await RawClient.connect(srv.url);
    client.ws.send(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), { binary: false });
    const err = await client.next(isError);
    expect(err).toMatchObject({ error_code: 'INVALID_FRAME', request_id: null });
    await client.barrier();
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it('answers a 1 MB garbage frame on the default limits with INVALID_JSON and stays open', async () => {
    const { client } = await RawClient.connect(srv.url);
    client.send('x'.repeat(1_000_000));
    const err = await client.next(isError);
    expect(err).toMatchObject({ error_code: 'INVALID_JSON', request_id: null });
    await client.barrier();
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it('sends the error to the sender only, addressed to the offending channel, for routing errors', async () => {
    const { client } = await RawClient.connect(srv.url);
    client.send({ type: 'event', id: 'nm1', room: 'r', channel: 'c', payload: {} });
    expect(await client.next(isError)).toMatchObject({ error_code: 'NOT_A_MEMBER', request_id: 'nm1', room: 'r', channel: 'c' });
    client.send({ type: 'event', id: 'bad-room', room: 'no spaces', channel: 'c' });
    expect(await client.next(isError)).toMatchObject({ error_code: 'INVALID_CHANNEL', request_id: 'bad-room', payload: { field: 'room' } });
    await client.barrier();
    await client.close();
  });
});

describe('frame size limits', () => {
  let srv: TestServer;
  beforeEach(async () => {
    srv = await startServer({ maxPayloadBytes: 64 * KiB });
  });
  afterEach(async () => {
    await srv.close();
  });

  it('accepts a frame at the limit', async () => {
    const { client: a } = await RawClient.connect(srv.url);
    const { client: b } = await RawClient.connect(srv.url);
    await a.ok('join_channel', { room: 'r', channel: 'c' });
    await b.ok('join_channel', { room: 'r', channel: 'c' });
    const frame = { type: 'event', id: 'big', room: 'r', channel: 'c', payload: { text: '' } };
    const text = 'y'.repeat(64 * KiB - Buffer.byteLength(JSON.stringify(frame)));
    a.send({ ...frame, payload: { text } });
    const got = await b.next((e) => e.type === 'event');
    expect((got.payload['text'] as string).length).toBe(text.length);
    await a.barrier();
    expect(a.received.filter(isError)).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('answers a frame over maxPayloadBytes with FRAME_TOO_LARGE, then closes with 4500', async () => {
    const { client } = await RawClient.connect(srv.url);
    const { client: peer } = await RawClient.connect(srv.url);
    await client.ok('join_channel', { room: 'r', channel: 'c' });
    await peer.ok('join_channel', { room: 'r', channel: 'c' });
    client.send(JSON.stringify({ type: 'event', id: 'huge', room: 'r', channel: 'c', payload: { text: 'z'.repeat(100 * KiB) } }));
    const err = await client.next(isError);
    expect(err).toMatchObject({ error_code: 'FRAME_TOO_LARGE', request_id: null, retryable: false });
    expect(err.payload['max_payload_bytes']).toBe(64 * KiB);
    expect(await client.closed).toMatchObject({ code: 4500 });
    // The frame was not delivered, and the closed client is cleaned up.
    const left = await peer.next((e) => e.type === 'system' && e.payload['event'] === 'member_left');
    expect(left.payload['client']).toMatchObject({ client_id: client.clientId });
    expect(peer.received.filter((e) => e.type === 'event')).toEqual([]);
    await peer.close();
  });

  it('lets the transport cut a frame over twice the limit with 1009', async () => {
    const { client } = await RawClient.connect(srv.url);
    client.send('z'.repeat(200 * KiB));
    expect(await client.closed).toMatchObject({ code: 1009 });
    expect(client.received.filter(isError)).toEqual([]);
    // The server is unharmed.
    const { client: next } = await RawClient.connect(srv.url);
    await next.barrier();
    await next.close();
  });
});

describe('abusive clients', () => {
  it('closes a client with 4501 once it sends more than maxInvalidFrames bad frames', async () => {
    const srv = await startServer({ maxInvalidFrames: 5 });
    try {
      const { client: vandal } = await RawClient.connect(srv.url);
      const { client: bystander } = await RawClient.connect(srv.url);
      for (let i = 0; i < 10; i++) vandal.send(`not json ${i}`);
      expect(await vandal.closed).toMatchObject({ code: 4501 });
      // Frames 1-6 were answered (the 6th crossed the limit); the rest met a closing socket.
      const errors = vandal.received.filter(isError);
      expect(errors).toHaveLength(6);
      expect(errors.every((e) => e.error_code === 'INVALID_JSON')).toBe(true);
      await bystander.barrier();
      expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
      await bystander.close();
    } finally {
      await srv.close();
    }
  });

  it('tolerates up to maxInvalidFrames bad frames', async () => {
    const srv = await startServer({ maxInvalidFrames: 5 });
    try {
      const { client } = await RawClient.connect(srv.url);
      for (let i = 0; i < 5; i++) client.send('[]');
      await client.barrier();
      expect(client.received.filter(isError)).toHaveLength(5);
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
      await client.close();
    } finally {
      await srv.close();
    }
  });
});

describe('connection limit', () => {
  it('refuses the upgrade past maxConnections with HTTP 503', async () => {
    const srv = await startServer({ maxConnections: 2 });
    try {
      const { client: a } = await RawClient.connect(srv.url);
      const { client: b } = await RawClient.connect(srv.url);
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(srv.url);
        ws.on('open', () => reject(new Error('third connection was accepted')));
        ws.on('error', () => {});
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ error_code: 'MAX_CONNECTIONS' });
      // The two admitted clients are unaffected.
      await a.barrier();
      await b.barrier();
      expect(srv.server.bus.clients.size).toBe(2);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await srv.close();
    }
  });
});
