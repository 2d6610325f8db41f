/**
 * The SDK with `protocol: 'proto'` against the real server: negotiation,
 * events, commands, history, private messages and resume over the binary
 * subprotocol, side by side with a JSON SDK client on the same channel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArqonClient, ArqonClientError, type ClientOptions } from '../../src/client/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { next, offsetOf, terminateServerSide } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<TestServer> {
  const s = await startServer();
  cleanups.push(() => s.close());
  return s;
}

async function connected(options: ClientOptions): Promise<ArqonClient> {
  const c = new ArqonClient({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...options });
  cleanups.push(() => c.close());
  await c.connect();
  return c;
}

/** The wire protocol the server chose for each connection, by connection id. */
function protocols(s: TestServer): Map<string, string> {
  return new Map([...s.server.bus.clients.all()].map((c) => [c.connectionId, c.codec.protocol]));
}

describe("ArqonClient with protocol 'proto'", () => {
  it('rejects an unknown protocol option', () => {
    expect(() => new ArqonClient({ url: 'ws://127.0.0.1:1', protocol: 'xml' as 'json' })).toThrow(ArqonClientError);
    expect(new ArqonClient({ url: 'ws://127.0.0.1:1' }).options.protocol).toBe('json');
  });

  it('negotiates the binary subprotocol; the default client stays on JSON', async () => {
    const s = await server();
    const p = await connected({ url: s.url, protocol: 'proto', screenName: 'bin' });
    const j = await connected({ url: s.url });
    expect(p.welcome).toMatchObject({ event: 'welcome', client: { screen_name: 'bin' } });
    const chosen = protocols(s);
    expect(chosen.get(p.welcome!.connection_id!)).toBe('proto');
    expect(chosen.get(j.welcome!.connection_id!)).toBe('json');
  });

  it('publishes, receives, commands, history and private messages end to end, like a JSON client', async () => {
    const s = await server();
    const p = await connected({ url: s.url, protocol: 'proto' });
    const j = await connected({ url: s.url });
    await p.join('lobby', 'general');
    await j.join('lobby', 'general');

    const viaJson = next(j, 'event', (e) => e.payload['text'] === 'from proto');
    const echoed = next(p, 'event', (e) => e.payload['text'] === 'from proto');
    const id = p.publish('lobby', 'general', { text: 'from proto', big: 9007199254740991, nested: [[null, { a: [] }]] }, { echo: true });
    const [a, b] = await Promise.all([viaJson, echoed]);
    expect(b).toStrictEqual(a);
    expect(a).toMatchObject({ id, from: p.welcome!.client_id, payload: { big: 9007199254740991, nested: [[null, { a: [] }]] } });
    expect(offsetOf(a)).toBeGreaterThan(0);

    const toProto = next(p, 'event', (e) => e.payload['text'] === 'from json');
    j.publish('lobby', 'general', { text: 'from json' });
    expect(offsetOf(await toProto)).toBe(offsetOf(a) + 1);

    const info = await p.command<{ members: unknown[] }>('channel_info', { room: 'lobby', channel: 'general' });
    expect(info.members).toHaveLength(2);
    const page = await p.history('lobby', 'general', { limit: 10 });
    expect(page.messages.map((m) => m.payload['text'])).toEqual(['from proto', 'from json']);

    const priv = next(j, 'private');
    p.sendPrivate(j.welcome!.client_id, { note: 'hi' });
    expect(await priv).toMatchObject({ from: p.welcome!.client_id, payload: { note: 'hi' } });

    await expect(p.command('no_such_command')).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND' });
  });

  it('reconnects over proto and replays what it missed', async () => {
    const s = await server();
    const p = await connected({ url: s.url, protocol: 'proto' });
    const j = await connected({ url: s.url });
    await p.join('lobby', 'resume');
    await j.join('lobby', 'resume');
    const first = next(p, 'event');
    j.publish('lobby', 'resume', { seq: 1 });
    await first;

    const resumed = next(p, 'resumed');
    const replayed = next(p, 'event', (e) => e.payload['seq'] === 2);
    terminateServerSide(s, p);
    await next(p, 'status', (st) => st.state === 'reconnecting');
    j.publish('lobby', 'resume', { seq: 2 });
    expect(await resumed).toMatchObject({ room: 'lobby', channel: 'resume', recovered: true });
    expect(offsetOf(await replayed)).toBe(2);
    expect(protocols(s).get(p.welcome!.connection_id!)).toBe('proto');
  });
});
