/**
 * CASIL on the wire: a real server, real WebSocket clients. Each outcome is
 * checked from the sender (the exact block envelope), from a second client
 * (delivery), from the history command, from a telemetry observer and from
 * the server log: a blocked message reaches none of them, a redacted one
 * reaches all of them only in its redacted form.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { RawClient } from '../helpers/raw-client.js';
import { AWS_KEY, casilWire, GH_TOKEN, LOBBY } from './wire.js';

type Json = Record<string, unknown>;

const { room: ROOM, channel: CHANNEL } = LOBBY;
const wire = casilWire(afterEach);
const { start, connect, pair, logLines } = wire;

const errorFor = (id: string) => (e: Envelope): boolean => e.type === 'error' && e.request_id === id;
const eventId = (id: string) => (e: Envelope): boolean => (e.type === 'event' || e.type === 'private') && e.id === id;
const casilEvent = (id: string) => (e: Envelope): boolean => e.type === 'telemetry' && e.payload['event'] === 'casil' && e.payload['request_id'] === id;

/** The block envelope without the standard fields every error envelope has. */
function blockShape(env: Envelope): Json {
  const { version: _v, id: _i, from: _f, timestamp: _t, retryable: _r, ...rest } = env;
  return rest;
}

async function history(c: RawClient): Promise<Envelope[]> {
  return (await c.ok<{ messages: Envelope[] }>('history', { room: ROOM, channel: CHANNEL })).messages;
}

describe('BLOCK', () => {
  it('answers the sender with exactly the CASIL envelope; nothing is delivered, stored, streamed or logged', async () => {
    await start();
    const observer = await connect(wire.srv.telemetryUrl);
    const [a, b] = await pair();

    a.send({ type: 'event', id: 'leak-1', room: ROOM, channel: CHANNEL, payload: { text: `deploy with ${AWS_KEY}` }, metadata: { echo: true } });
    expect(blockShape(await a.next(errorFor('leak-1')))).toEqual({
      type: 'error', request_id: 'leak-1', error: 'CASIL blocked message', error_code: 'CASIL_POLICY_BLOCKED_SECRET',
      payload: { reason: 'CASIL_POLICY_BLOCKED_SECRET' }, room: ROOM, channel: CHANNEL,
    });

    // A clean event after it is the first one b sees and the first one stored (offset 1).
    a.send({ type: 'event', id: 'ok-1', room: ROOM, channel: CHANNEL, payload: { text: 'all good' } });
    const delivered = await b.next(eventId('ok-1'));
    expect(delivered.metadata).toMatchObject({ offset: 1 });
    expect(b.received.filter(eventId('leak-1'))).toEqual([]);
    expect((await history(b)).map((e) => e.id)).toEqual(['ok-1']);

    // Telemetry records the decision (codes only) and the error; never the content.
    const record = await observer.next(casilEvent('leak-1'));
    expect(record.payload).toMatchObject({
      tenant: 'default', decision: 'BLOCK', reason_code: 'CASIL_POLICY_BLOCKED_SECRET', mode: 'enforce', kind: 'data', risk_level: 'high',
      flags: ['contains_probable_secret'], secret_types: ['aws_access_key'], room: ROOM, channel: CHANNEL,
    });
    await observer.next((e) => e.type === 'telemetry' && e.payload['event'] === 'error' && e.payload['request_id'] === 'leak-1');
    expect(JSON.stringify(observer.received)).not.toContain(AWS_KEY);
    expect(JSON.stringify(record)).not.toContain(AWS_KEY);
    expect(logLines.join('\n')).not.toContain(AWS_KEY);
  });

  it('blocks a private message the same way (room and channel null); the target gets nothing', async () => {
    await start();
    const [a, b] = await pair();
    a.send({ type: 'private', id: 'p-leak', payload: { target: b.clientId, text: `token ${GH_TOKEN}` } });
    expect(blockShape(await a.next(errorFor('p-leak')))).toEqual({
      type: 'error', request_id: 'p-leak', error: 'CASIL blocked message', error_code: 'CASIL_POLICY_BLOCKED_SECRET',
      payload: { reason: 'CASIL_POLICY_BLOCKED_SECRET' }, room: null, channel: null,
    });
    a.send({ type: 'private', id: 'p-ok', payload: { target: b.clientId, text: 'fine' } });
    await b.next(eventId('p-ok'));
    expect(b.received.filter(eventId('p-leak'))).toEqual([]);
  });

  it('blocks a secret in an intent before semantic routing runs', async () => {
    await start({ semanticModel: 'off' });
    const a = await connect();
    a.send({ type: 'event', id: 'i-leak', payload: { intent: { text: `use ${AWS_KEY}` } } });
    expect((await a.next(errorFor('i-leak'))).error_code).toBe('CASIL_POLICY_BLOCKED_SECRET');
    // Semantic routing (off here) would have answered SEMANTIC_UNAVAILABLE had it run.
    a.send({ type: 'event', id: 'i-clean', payload: { intent: { text: 'hello' } } });
    expect((await a.next(errorFor('i-clean'))).error_code).toBe('SEMANTIC_UNAVAILABLE');
    expect(a.received.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('blocks a message over its scope size limit with CASIL_POLICY_OVERSIZE', async () => {
    await start({ casil: { scopes: [{ include: ['iot-*'], max_payload_bytes: 256 }, { include: ['*'] }] } });
    const a = await connect();
    const b = await connect();
    for (const c of [a, b]) await c.ok('join_channel', { room: 'iot-eu', channel: 'temps' });
    a.send({ type: 'event', id: 'big', room: 'iot-eu', channel: 'temps', payload: { readings: 'x'.repeat(300) } });
    expect(blockShape(await a.next(errorFor('big')))).toEqual({
      type: 'error', request_id: 'big', error: 'CASIL blocked message', error_code: 'CASIL_POLICY_OVERSIZE',
      payload: { reason: 'CASIL_POLICY_OVERSIZE' }, room: 'iot-eu', channel: 'temps',
    });
    a.send({ type: 'event', id: 'small', room: 'iot-eu', channel: 'temps', payload: { readings: 'x'.repeat(100) } });
    await b.next(eventId('small'));
    expect(b.received.filter(eventId('big'))).toEqual([]);
  });
});

describe('ALLOW_WITH_REDACTION', () => {
  const policy = { scopes: [{ include: ['*'], pii: true, secrets: 'redact', redact_keys: ['password'], redact_paths: ['billing.card.number'] }] };

  it('delivers, stores and streams only the redacted form, nested fields included', async () => {
    await start({ casil: policy });
    const observer = await connect(wire.srv.telemetryUrl);
    const [a, b] = await pair();
    const payload = {
      text: 'reach me at jane@example.com or +44 20 7946 0958',
      account: { login: 'jane', password: 'hunter2', keys: [`aws ${AWS_KEY}`] },
      billing: { card: { number: '4111111111111111', holder: 'J DOE' } },
    };
    a.send({ type: 'event', id: 'r1', room: ROOM, channel: CHANNEL, payload });
    const redacted = {
      text: 'reach me at [REDACTED:email] or [REDACTED:phone]',
      account: { login: 'jane', password: '[REDACTED]', keys: ['aws [REDACTED:aws_access_key]'] },
      billing: { card: { number: '[REDACTED]', holder: 'J DOE' } },
    };
    expect((await b.next(eventId('r1'))).payload).toEqual(redacted);
    expect((await history(a)).map((e) => e.payload)).toEqual([redacted]);
    const record = await observer.next(casilEvent('r1'));
    expect(record.payload).toMatchObject({ decision: 'ALLOW_WITH_REDACTION', reason_code: 'CASIL_POLICY_REDACTED', risk_level: 'high', sensitive_fields: 2 });
    expect(record.payload['flags']).toEqual(['contains_probable_secret', 'contains_pii', 'sensitive_field']);
    for (const original of ['jane@example.com', 'hunter2', AWS_KEY, '4111111111111111', '7946 0958']) {
      expect(JSON.stringify(observer.received)).not.toContain(original);
      expect(logLines.join('\n')).not.toContain(original);
    }
  });

  it('redacts private messages but keeps their target', async () => {
    await start({ casil: policy });
    const [a, b] = await pair();
    a.send({ type: 'private', id: 'pr1', payload: { target: b.clientId, note: 'card 4111 1111 1111 1111' } });
    expect((await b.next(eventId('pr1'))).payload).toEqual({ target: b.clientId, note: 'card [REDACTED:card]' });
  });

  it('hands semantic routing the redacted intent', async () => {
    await start({ casil: policy });
    const agentClient = await connect(wire.srv.url, { client_type: 'ai-agent' });
    await agentClient.ok('register_capabilities', {
      capabilities: [{ name: 'billing.payments', description: 'Card payments, billing, invoices and refunds', examples: ['my card payment was declined'] }],
    });
    const user = await connect();
    user.send({ type: 'event', id: 'q1', payload: { intent: { text: 'my card payment was declined' }, contact: 'jane@example.com' } });
    const got = await agentClient.next(eventId('q1'));
    expect(got.payload).toEqual({ intent: { text: 'my card payment was declined' }, contact: '[REDACTED:email]' });
  });
});

describe('modes', () => {
  it('monitor: traffic flows unchanged and the decision is recorded with CASIL_MONITOR_MODE', async () => {
    await start({ casilMode: 'monitor' });
    const observer = await connect(wire.srv.telemetryUrl);
    const [a, b] = await pair();
    a.send({ type: 'event', id: 'm1', room: ROOM, channel: CHANNEL, payload: { text: `key ${AWS_KEY}` } });
    expect((await b.next(eventId('m1'))).payload).toEqual({ text: `key ${AWS_KEY}` });
    expect((await observer.next(casilEvent('m1'))).payload).toMatchObject({
      mode: 'monitor', decision: 'ALLOW', reason_code: 'CASIL_MONITOR_MODE', verdict: 'BLOCK', verdict_reason_code: 'CASIL_POLICY_BLOCKED_SECRET',
    });
    const metrics = await (await fetch(`${wire.srv.httpUrl}/metrics`)).text();
    expect(metrics).toContain('arqon_casil_decisions_total{outcome="ALLOW",reason="CASIL_MONITOR_MODE",tenant="default",mode="monitor"} 1');
  });

  it('off: nothing is inspected or recorded', async () => {
    await start({ casilMode: 'off' });
    expect(wire.srv.server.bus.casil.active).toBe(false);
    const observer = await connect(wire.srv.telemetryUrl);
    const [a, b] = await pair();
    a.send({ type: 'event', id: 'o1', room: ROOM, channel: CHANNEL, payload: { text: `key ${AWS_KEY}` } });
    expect((await b.next(eventId('o1'))).payload).toEqual({ text: `key ${AWS_KEY}` });
    await a.barrier();
    expect(observer.received.filter(casilEvent('o1'))).toEqual([]);
    const metrics = await (await fetch(`${wire.srv.httpUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/^arqon_casil_decisions_total\{/m);
  });

  it('removes a client-supplied metadata.casil from inspected messages when the option is off', async () => {
    await start();
    const [a, b] = await pair();
    a.send({ type: 'event', id: 'c0', room: ROOM, channel: CHANNEL, payload: { text: 'hi' }, metadata: { casil: { decision: 'forged' }, trace: 't' } });
    expect((await b.next(eventId('c0'))).metadata).toEqual({ trace: 't', offset: 1, epoch: expect.any(String) });
  });

  it('enforce by default, with metadata.casil when configured (a client cannot forge it)', async () => {
    await start({ casilMetadata: true });
    const [a, b] = await pair();
    a.send({ type: 'event', id: 'c1', room: ROOM, channel: CHANNEL, payload: { text: 'hi' }, metadata: { casil: { decision: 'forged' }, trace: 't' } });
    const got = await b.next(eventId('c1'));
    expect(got.metadata).toMatchObject({
      trace: 't', offset: 1, casil: { kind: 'data', risk_level: 'low', flags: [], decision: 'ALLOW', reason_code: null },
    });
    expect((await history(a))[0]?.metadata?.['casil']).toEqual(got.metadata!['casil']);
  });
});
