/**
 * The binary Protobuf subprotocol against the real server: negotiation, every
 * message type over proto, mixed JSON and proto members of one channel, one
 * transcoding per fan-out, malformed frames. Real `ws` clients, port 0.
 */
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { protoTranscodings } from '../../src/edge/codec-proto.js';
import { mintToken, secretSigningKey } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { decodeEnvelopeObject, encodeEnvelopeObject } from '../../src/protocol/proto-codec.js';
import { handshake, RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Predicate = (env: Envelope) => boolean;

/** RawClient's twin for `arqonbus.v1.proto`: sends and expects binary frames, records text frames apart. */
class ProtoClient {
  readonly received: Envelope[] = [];
  readonly textFrames: string[] = [];
  private waiters: Array<{ match: Predicate; resolve: (env: Envelope) => void }> = [];
  private seq = 0;
  readonly closed: Promise<{ code: number }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return void this.textFrames.push(data.toString());
      const env = decodeEnvelopeObject(data) as unknown as Envelope;
      const i = this.waiters.findIndex((w) => w.match(env));
      if (i !== -1) this.waiters.splice(i, 1)[0]!.resolve(env);
      else this.received.push(env);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve({ code })));
  }

  static async connect(url: string, query: Record<string, string> = {}, protocols: string[] = ['arqonbus.v1.proto']): Promise<{ client: ProtoClient; welcome: Envelope }> {
    const u = new URL(url);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const client = new ProtoClient(new WebSocket(u, protocols));
    const welcome = await client.next((e) => e.type === 'system' && e.payload['event'] === 'welcome');
    return { client, welcome };
  }

  next(match: Predicate, timeoutMs = 5000): Promise<Envelope> {
    const i = this.received.findIndex(match);
    if (i !== -1) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(this.received.slice(-3))}`)), timeoutMs);
      this.waiters.push({ match, resolve: (env) => (clearTimeout(timer), resolve(env)) });
    });
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(encodeEnvelopeObject(frame));
  }

  async command(command: string, parameters: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = `req-${++this.seq}`;
    this.send({ type: 'command', id, payload: { command, parameters } });
    return (await this.next((e) => e.type === 'command_response' && e.payload['request_id'] === id)).payload;
  }

  async ok<T = Record<string, unknown>>(command: string, parameters: Record<string, unknown> = {}): Promise<T> {
    const res = await this.command(command, parameters);
    if (res['status'] !== 'success') throw new Error(`${command} failed: ${JSON.stringify(res)}`);
    return res['result'] as T;
  }

  close(): Promise<{ code: number }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }
}

const byId = (id: string): Predicate => (e) => e.id === id;

let srv: TestServer;
const open: Array<{ close(): Promise<unknown> }> = [];
async function proto(query: Record<string, string> = {}): Promise<ProtoClient> {
  const { client } = await ProtoClient.connect(srv.url, query);
  open.push(client);
  return client;
}
async function json(query: Record<string, string> = {}): Promise<RawClient> {
  const { client } = await RawClient.connect(srv.url, query);
  open.push(client);
  return client;
}

describe('binary subprotocol', () => {
  beforeEach(async () => {
    srv = await startServer();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  describe('negotiation', () => {
    it('selects arqonbus.v1.proto and speaks binary from the welcome on', async () => {
      const { client, welcome } = await ProtoClient.connect(srv.url, { screen_name: 'p' });
      open.push(client);
      expect(client.ws.protocol).toBe('arqonbus.v1.proto');
      expect(welcome.payload).toMatchObject({ event: 'welcome', protocol_version: '1.0', client: { screen_name: 'p' } });
      expect(client.textFrames).toEqual([]);
      expect([...srv.server.bus.clients.all()].map((c) => c.codec.protocol)).toEqual(['proto']);
    });

    it('defaults to JSON when nothing is offered, and echoes arqonbus.v1.json when it is', async () => {
      expect(await handshake(srv.url, [])).toEqual({ protocol: '' });
      expect(await handshake(srv.url, ['arqonbus.v1.json'])).toEqual({ protocol: 'arqonbus.v1.json' });
      const c = await json();
      expect((await c.ok('ping'))['pong']).toBeDefined();
    });

    it('takes the first supported subprotocol in the client order', async () => {
      expect(await handshake(srv.url, ['mqtt', 'arqonbus.v1.proto', 'arqonbus.v1.json'])).toEqual({ protocol: 'arqonbus.v1.proto' });
      expect(await handshake(srv.url, ['arqonbus.v1.json', 'arqonbus.v1.proto'])).toEqual({ protocol: 'arqonbus.v1.json' });
    });

    it('refuses an upgrade that offers only unknown subprotocols with 400 INVALID_PARAMETERS', async () => {
      const refused = await handshake(srv.url, ['centrifuge-protobuf', 'mqtt']);
      expect(refused).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETERS' } });
      expect(String((refused as { body: Record<string, unknown> }).body['error'])).toContain('arqonbus.v1.proto');
    });

    it('keeps the telemetry stream JSON', async () => {
      expect(await handshake(srv.telemetryUrl, ['arqonbus.v1.json'])).toEqual({ protocol: 'arqonbus.v1.json' });
      expect(await handshake(srv.telemetryUrl, [])).toEqual({ protocol: '' });
    });
  });

  describe('every message type over proto', () => {
    it('events carry history offsets, and history returns them', async () => {
      const p = await proto();
      const joined = await p.ok<{ offset: number; epoch: string }>('join_channel', { room: 'lobby', channel: 'general' });
      p.send({ type: 'event', id: 'e1', room: 'lobby', channel: 'general', payload: { text: 'hi', n: 12345678901234, deep: [[null]] }, metadata: { echo: true } });
      const got = await p.next(byId('e1'));
      expect(got).toMatchObject({ type: 'event', room: 'lobby', channel: 'general', payload: { text: 'hi', n: 12345678901234, deep: [[null]] } });
      expect(got.metadata).toMatchObject({ offset: joined.offset + 1, epoch: joined.epoch });
      const page = await p.ok<{ messages: Envelope[] }>('history', { room: 'lobby', channel: 'general', since_offset: joined.offset, epoch: joined.epoch });
      expect(page.messages.map((m) => m.id)).toEqual(['e1']);
    });

    it('private messages, to a proto and to a JSON client', async () => {
      const p = await proto();
      const j = await json();
      const me = (await p.ok<{ client_id: string }>('whoami'))['client_id'];
      p.send({ type: 'private', id: 'pv1', payload: { target: [me, j.clientId], note: 'psst' } });
      const toProto = await p.next(byId('pv1'));
      const toJson = await j.next(byId('pv1'));
      expect(toProto).toStrictEqual(toJson);
      expect(toProto).toMatchObject({ type: 'private', from: me, payload: { note: 'psst' } });
    });

    it('command and command_response, including the v1 top-level command form and a failure', async () => {
      const p = await proto();
      p.send({ command: 'ping', id: 'v1', args: {} });
      expect((await p.next((e) => e.type === 'command_response' && e.payload['request_id'] === 'v1')).payload).toMatchObject({ command: 'ping', status: 'success' });
      expect(await p.command('no_such_command')).toMatchObject({ status: 'error', error_code: 'UNKNOWN_COMMAND' });
    });

    it('error envelopes, with and without a request id', async () => {
      const p = await proto();
      p.send({ type: 'event', id: 'x1', room: 'lobby', channel: 'nowhere', payload: {} });
      const notMember = await p.next((e) => e.type === 'error');
      expect(notMember).toMatchObject({ request_id: 'x1', room: 'lobby', channel: 'nowhere', retryable: false });
      expect(typeof notMember.error_code).toBe('string');
      p.send({ id: 'x2' });
      expect(await p.next((e) => e.type === 'error')).toMatchObject({ request_id: 'x2', error_code: 'INVALID_FIELD' });
      p.send({ type: 'nope' });
      expect(await p.next((e) => e.type === 'error')).toMatchObject({ request_id: null, error_code: 'UNKNOWN_TYPE' });
    });

    it('system presence events', async () => {
      const p = await proto();
      await p.ok('join_channel', { room: 'lobby', channel: 'presence' });
      const j = await json({ screen_name: 'jay' });
      await j.ok('join_channel', { room: 'lobby', channel: 'presence' });
      expect(await p.next((e) => e.type === 'system' && e.payload['event'] === 'member_joined')).toMatchObject({
        room: 'lobby', channel: 'presence', from: null, payload: { client: { client_id: j.clientId, screen_name: 'jay' } },
      });
    });
  });

  it('a semantic intent is routed to a proto agent, and its reply reaches a JSON asker', async () => {
    const secret = 'proto-test-secret-0123456789abcdef';
    await srv.close();
    srv = await startServer({ auth: 'jwt', jwtSecret: secret });
    const token = (sub: string, extra: Record<string, unknown> = {}): Promise<string> =>
      mintToken(secretSigningKey(secret), { sub, tenant: 'acme', permissions: { publish: ['*'], subscribe: ['*'], history: ['*'] }, ...extra }, { ttlS: 600 });
    const agent = await proto({ token: await token('billing-bot', { client_type: 'ai-agent', caps: ['*'] }) });
    await agent.ok('register_capabilities', {
      capabilities: [{ name: 'billing.payments', description: 'Card payments, billing, invoices and refunds', examples: ['my card payment was declined', 'please refund my payment'] }],
    });
    const user = await json({ token: await token('user') });
    user.send({ type: 'event', id: 'i1', payload: { intent: { text: 'my card payment was declined' } } });
    const intent = await agent.next(byId('i1'));
    expect(intent).toMatchObject({ type: 'event', room: null, channel: null, from: 'user', metadata: { route: { capability: 'billing.payments', mode: 'best' } } });
    agent.send({ type: 'private', id: 'r1', payload: { target: 'user', text: 'on it' }, metadata: { in_reply_to: 'i1' } });
    expect(await user.next(byId('r1'))).toMatchObject({ from: 'billing-bot', payload: { text: 'on it' }, metadata: { in_reply_to: 'i1' } });
  });

  it('JSON and proto members of one channel get the same message', async () => {
    const publisher = await json();
    const j = await json();
    const p = await proto();
    for (const c of [publisher, j]) await c.ok('join_channel', { room: 'mix', channel: 'c' });
    await p.ok('join_channel', { room: 'mix', channel: 'c' });
    publisher.send({ type: 'event', id: 'm1', room: 'mix', channel: 'c', payload: { text: 'same', big: 2 ** 53, arr: [1, null, { x: [] }] }, metadata: { k: 'v' } });
    const viaJson = await j.next(byId('m1'));
    const viaProto = await p.next(byId('m1'));
    expect(viaProto).toStrictEqual(viaJson);
    expect(viaProto.metadata?.['offset']).toBeGreaterThan(0);
  });

  it('transcodes once per fan-out, whatever the number of proto subscribers', async () => {
    const publisher = await json();
    await publisher.ok('join_channel', { room: 'fan', channel: 'out' });
    const subscribers = await Promise.all(Array.from({ length: 50 }, () => proto()));
    for (const s of subscribers) await s.ok('join_channel', { room: 'fan', channel: 'out' });
    await publisher.barrier();
    const before = protoTranscodings();
    publisher.send({ type: 'event', id: 'f1', room: 'fan', channel: 'out', payload: { text: 'to all' } });
    const got = await Promise.all(subscribers.map((s) => s.next(byId('f1'))));
    expect(got.map((e) => e.payload['text'])).toEqual(Array(50).fill('to all'));
    expect(protoTranscodings() - before).toBe(1);
  });

  describe('malformed frames', () => {
    it('answers random bytes with INVALID_FRAME and keeps the connection', async () => {
      const p = await proto();
      const garbage = [Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x0a, 0x7f, 0x01]), Buffer.from([0x42, 0x80, 0x80, 0x80, 0x80, 0x08])];
      for (const bytes of garbage) {
        p.ws.send(bytes);
        expect(await p.next((e) => e.type === 'error')).toMatchObject({ error_code: 'INVALID_FRAME', request_id: null });
      }
      expect((await p.ok('ping'))['pong']).toBeDefined();
    });

    it('answers a text frame on a proto connection with INVALID_FRAME (in binary)', async () => {
      const p = await proto();
      p.ws.send(JSON.stringify({ type: 'command', id: 't1', payload: { command: 'ping' } }));
      expect(await p.next((e) => e.type === 'error')).toMatchObject({ error_code: 'INVALID_FRAME' });
      expect(p.textFrames).toEqual([]);
    });

    it('still answers a binary frame on a JSON connection with INVALID_FRAME', async () => {
      const j = await json();
      j.send(Buffer.from(encodeEnvelopeObject({ type: 'command', id: 'b1', payload: { command: 'ping' } })));
      expect(await j.next((e) => e.type === 'error')).toMatchObject({ error_code: 'INVALID_FRAME' });
    });

    it('closes a proto connection that keeps sending garbage as abusive (4501)', async () => {
      await srv.close();
      srv = await startServer({ maxInvalidFrames: 3 });
      const p = await proto();
      for (let i = 0; i < 5; i++) p.ws.send(Buffer.from([0xff, 0xff]));
      expect((await p.closed).code).toBe(4501);
    });
  });
});
