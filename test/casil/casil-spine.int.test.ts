/**
 * CASIL across nodes (Redis spine): a message is inspected once, at the node
 * it enters, and what crosses the spine (channel fan-out, private messages,
 * the shared Redis history) is already the redacted form. The receiving node
 * does not inspect again, so every node must run the same policy: a node with
 * CASIL off lets its own clients' traffic through to the others.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { Cluster, LOBBY } from '../spine/cluster.js';

const AWS_KEY = 'AKIA' + 'Q3EGRIVXNXT7HZWA';
/** A node config with a policy: the cluster helper's overrides type lists config keys only, and `casil` is the file section. */
const WITH_PII = { casil: { scopes: [{ include: ['*'], pii: true }] } } as unknown as Parameters<Cluster['addNode']>[0];

let cluster: Cluster;

beforeEach(async () => {
  cluster = await Cluster.start(0);
});
afterEach(async () => {
  await cluster.close();
});

const eventId = (id: string) => (e: Envelope): boolean => (e.type === 'event' || e.type === 'private') && e.id === id;

describe('CASIL across nodes', () => {
  it('redacts at the ingress node: members, private targets and history on another node get only the redacted form', async () => {
    await cluster.addNode(WITH_PII);
    await cluster.addNode(WITH_PII);
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    for (const c of [alice, bob]) await c.ok('join_channel', LOBBY);

    alice.send({ type: 'event', id: 'x1', ...LOBBY, payload: { text: 'mail jane@example.com', 'bob@example.com': 1 } });
    const redacted = { text: 'mail [REDACTED:email]', '[REDACTED:email]': 1 };
    expect((await bob.next(eventId('x1'))).payload).toEqual(redacted);
    expect((await bob.ok<{ messages: Envelope[] }>('history', LOBBY)).messages.map((m) => m.payload)).toEqual([redacted]);

    alice.send({ type: 'private', id: 'x2', payload: { target: 'bob', note: 'card 4111 1111 1111 1111' } });
    expect((await bob.next(eventId('x2'))).payload).toEqual({ target: 'bob', note: 'card [REDACTED:card]' });

    alice.send({ type: 'event', id: 'x3', ...LOBBY, payload: { text: AWS_KEY } });
    expect((await alice.next((e) => e.type === 'error' && e.request_id === 'x3')).error_code).toBe('CASIL_POLICY_BLOCKED_SECRET');
    await bob.barrier();
    expect(bob.received.filter(eventId('x3'))).toEqual([]);
  });

  it('does not inspect again at the receiving node: the policy that applies is the ingress node\'s', async () => {
    await cluster.addNode();
    await cluster.addNode({ casilMode: 'off' });
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    for (const c of [alice, bob]) await c.ok('join_channel', LOBBY);
    bob.send({ type: 'event', id: 'y1', ...LOBBY, payload: { text: AWS_KEY } });
    expect((await alice.next(eventId('y1'))).payload).toEqual({ text: AWS_KEY });
  });
});
