/**
 * CASIL on the hops the first version missed, against a real server and real
 * WebSocket clients: monitor mode leaving traffic byte for byte as sent,
 * content-carrying commands (set_metadata profile fields every channel member
 * receives, register_capabilities descriptions and examples), the intent text
 * semantic routing embeds, and secrets or PII hiding in object keys and JSON
 * numbers. Each blocked or redacted value is looked for where it must not be:
 * a second client, history, the telemetry stream and the log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import { AWS_KEY, casilWire, GH_TOKEN, LOBBY } from './wire.js';

type Json = Record<string, unknown>;

const PII = { scopes: [{ include: ['*'], pii: true }] };

const wire = casilWire(afterEach);
const { start, connect, pair, logLines } = wire;

const eventId = (id: string) => (e: Envelope): boolean => (e.type === 'event' || e.type === 'private') && e.id === id;
const updated = (clientId: string) => (e: Envelope): boolean =>
  e.type === 'system' && e.payload['event'] === 'member_updated' && (e.payload['client'] as Json)['client_id'] === clientId;

/** Nothing of `secrets` in what the observer, the log or the given clients received. */
function nowhere(secrets: readonly string[], ...seen: RawClient[]): void {
  for (const s of secrets) {
    for (const c of seen) expect(JSON.stringify(c.received)).not.toContain(s);
    expect(logLines.join('\n')).not.toContain(s);
  }
}

describe('monitor mode changes nothing', () => {
  it('delivers payload and metadata exactly as sent (but for the server-only metadata.casil, dropped in every mode)', async () => {
    await start({ casilMode: 'monitor', casil: { scopes: [{ include: ['*'], pii: true, secrets: 'redact', redact_keys: ['password'] }] } });
    const [a, b] = await pair();
    const payload = { text: `key ${AWS_KEY} mail jane@example.com`, password: 'hunter2', card: 4111111111111111, 'x@y.io': 1 };
    const metadata = { casil: { decision: 'client-value' }, trace: 't1' };
    a.send({ type: 'event', id: 'm1', ...LOBBY, payload, metadata });
    const got = await b.next(eventId('m1'));
    expect(got.payload).toEqual(payload);
    expect(got.metadata).toEqual({ trace: 't1', offset: 1, epoch: expect.any(String) });
  });
});

describe('set_metadata', () => {
  it('blocks a secret in profile fields: the command fails with the CASIL code and no member hears of it', async () => {
    await start();
    const observer = await connect(wire.srv.telemetryUrl);
    const [a, b] = await pair();
    const res = await a.command('set_metadata', { personality: `deploy key ${GH_TOKEN}`, metadata: { note: 'hi' } });
    expect(res).toMatchObject({ status: 'error', command: 'set_metadata', error: 'CASIL blocked message', error_code: 'CASIL_POLICY_BLOCKED_SECRET', retryable: false });
    // The handler never ran: the profile is unchanged and members were not told.
    expect(await a.ok('whoami')).toMatchObject({ personality: null, metadata: {} });
    await b.barrier();
    expect(b.received.filter(updated(a.clientId))).toEqual([]);
    await observer.next((e) => e.type === 'telemetry' && e.payload['event'] === 'casil' && e.payload['message_type'] === 'command');
    nowhere([GH_TOKEN], a, b, observer);
  });

  it('redacts PII in profile fields before members receive them', async () => {
    await start({ casil: PII });
    const [a, b] = await pair();
    await a.ok('set_metadata', { screen_name: 'jane', metadata: { contact: 'jane@example.com', phone: '+44 20 7946 0958' } });
    const update = await b.next(updated(a.clientId));
    expect((update.payload['client'] as Json)['metadata']).toEqual({ contact: '[REDACTED:email]', phone: '[REDACTED:phone]' });
    expect((await b.ok<{ members: Json[] }>('channel_info', LOBBY)).members.map((m) => m['metadata'])).toContainEqual({ contact: '[REDACTED:email]', phone: '[REDACTED:phone]' });
    nowhere(['jane@example.com', '7946 0958'], a, b);
  });
});

describe('register_capabilities', () => {
  it('blocks a secret in a capability description or example; nothing is registered', async () => {
    await start();
    const agent = await connect(wire.srv.url, { client_type: 'ai-agent' });
    const res = await agent.command('register_capabilities', {
      capabilities: [{ name: 'ops.deploy', description: 'Deploys services', examples: [`deploy with ${AWS_KEY}`] }],
    });
    expect(res).toMatchObject({ status: 'error', error_code: 'CASIL_POLICY_BLOCKED_SECRET' });
    expect(await agent.ok('find_agents', { text: 'deploy services', k: 5 })).toMatchObject({ count: 0 });
  });
});

describe('intents', () => {
  it('embeds and delivers the redacted intent text: the agent still matches, PII never leaves ingress', async () => {
    await start({ casil: PII });
    const observer = await connect(wire.srv.telemetryUrl);
    const agent = await connect(wire.srv.url, { client_type: 'ai-agent' });
    await agent.ok('register_capabilities', {
      capabilities: [{ name: 'billing.payments', description: 'Card payments, billing, invoices and refunds', examples: ['my card payment was declined'] }],
    });
    const user = await connect();
    user.send({ type: 'event', id: 'q1', payload: { intent: { text: 'my card payment was declined, mail me at jane@example.com' } } });
    const got = await agent.next(eventId('q1'));
    expect(got.payload).toEqual({ intent: { text: 'my card payment was declined, mail me at [REDACTED:email]' } });
    expect(got.metadata?.['route']).toMatchObject({ capability: 'billing.payments' });
    await observer.next((e) => e.type === 'telemetry' && e.payload['event'] === 'intent_routed' && e.payload['request_id'] === 'q1');
    nowhere(['jane@example.com'], agent, user, observer);
  });
});

describe('private message labels', () => {
  it('cannot pick a scope: a label naming an uninspected channel still gets the unaddressed scope', async () => {
    await start({ casil: { scopes: [{ name: 'public', include: ['public:*'], mode: 'off' }, { name: 'rest', include: ['*'] }] } });
    const [a, b] = await pair();
    a.send({ type: 'private', id: 'l1', room: 'public', channel: 'anything', payload: { target: b.clientId, text: AWS_KEY } });
    expect(await a.next((e) => e.type === 'error' && e.request_id === 'l1')).toMatchObject({
      error_code: 'CASIL_POLICY_BLOCKED_SECRET', payload: { reason: 'CASIL_POLICY_BLOCKED_SECRET' }, room: 'public', channel: 'anything',
    });
    await b.barrier();
    expect(b.received.filter(eventId('l1'))).toEqual([]);
  });
});

describe('keys and numbers', () => {
  it('blocks a secret used as a field name', async () => {
    await start();
    const [a, b] = await pair();
    a.send({ type: 'event', id: 'k1', ...LOBBY, payload: { creds: { [AWS_KEY]: 'primary' } } });
    expect((await a.next((e) => e.type === 'error' && e.request_id === 'k1')).error_code).toBe('CASIL_POLICY_BLOCKED_SECRET');
    await b.barrier();
    expect(await b.ok<{ messages: Envelope[] }>('history', LOBBY)).toMatchObject({ messages: [] });
    nowhere([AWS_KEY], b);
    // Metrics label decisions by codes, tenant and mode only.
    const metrics = await (await fetch(`${wire.srv.httpUrl}/metrics`)).text();
    expect(metrics).toContain('arqon_casil_decisions_total{outcome="BLOCK",reason="CASIL_POLICY_BLOCKED_SECRET",tenant="default",mode="enforce"} 1');
    expect(metrics).not.toContain(AWS_KEY);
  });

  it('redacts e-mails used as field names and card numbers sent as numbers, in delivery and history', async () => {
    await start({ casil: PII });
    const [a, b] = await pair();
    a.send({ type: 'event', id: 'k2', ...LOBBY, payload: { scores: { 'jane@example.com': 3, 'bob@example.com': 5 }, card: 4111111111111111, ts: 1732612345678 } });
    const redacted = { scores: { '[REDACTED:email]': 3, '[REDACTED:email]#2': 5 }, card: '[REDACTED:card]', ts: 1732612345678 };
    expect((await b.next(eventId('k2'))).payload).toEqual(redacted);
    expect((await b.ok<{ messages: Envelope[] }>('history', LOBBY)).messages.map((m) => m.payload)).toEqual([redacted]);
  });
});
