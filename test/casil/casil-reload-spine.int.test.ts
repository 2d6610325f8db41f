/**
 * `casil_reload` across nodes (Redis spine): a reload on one node is stored
 * under `<prefix>:casil:policy`, announced, and applied by every node (and by
 * nodes starting later); an invalid one changes nothing anywhere; a node
 * that cannot validate a shared policy keeps its own; `policy: null` returns
 * every node to its configured policy. Real nodes on port 0, real Redis.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { createLogger } from '../../src/telemetry/logger.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { Cluster, LOBBY, until } from '../spine/cluster.js';

const AWS_KEY = 'AKIA' + 'Q3EGRIVXNXT7HZWA';
type NodeConfig = Parameters<Cluster['addNode']>[0];
/** A node config with a file policy (the cluster helper's overrides type lists config keys only; `casil` is the file section). */
const withPolicy = (casil: unknown): NodeConfig => ({ casil }) as unknown as NodeConfig;
const REDACT = { scopes: [{ name: 'soft', include: ['*'], secrets: 'redact' }] };

let cluster: Cluster;

beforeEach(async () => {
  cluster = await Cluster.start(0);
});
afterEach(async () => {
  await cluster.close();
});

const eventId = (id: string) => (e: Envelope): boolean => e.type === 'event' && e.id === id;
const errorFor = (id: string) => (e: Envelope): boolean => e.type === 'error' && e.request_id === id;
const policyOn = (node: TestServer): unknown => node.server.bus.casil.engine.source;
const versionOn = (node: TestServer): number => node.server.bus.casil.engine.version;

/** Publishes on `a`; what `b` got, or the error `a` got. */
async function publish(a: RawClient, b: RawClient, id: string, text: string): Promise<{ delivered?: unknown; error?: string }> {
  a.send({ type: 'event', id, ...LOBBY, payload: { text } });
  return Promise.race([b.next(eventId(id)).then((e) => ({ delivered: e.payload['text'] })), a.next(errorFor(id)).then((e) => ({ error: e.error_code! }))]);
}

/** Two members of lobby:general on node 1, and an admin on node 0. */
async function setup(): Promise<{ admin: RawClient; alice: RawClient; bob: RawClient }> {
  const admin = await cluster.connect(0, 'root', 'acme', { admin: true });
  const alice = await cluster.connect(1, 'alice');
  const bob = await cluster.connect(1, 'bob');
  for (const c of [alice, bob]) await c.ok('join_channel', LOBBY);
  return { admin, alice, bob };
}

describe('casil_reload with the Redis spine', () => {
  it('a reload on node A applies on node B; an invalid one is refused on A and changes nothing on B', async () => {
    const [a, b] = [await cluster.addNode(), await cluster.addNode()];
    const { admin, alice, bob } = await setup();
    expect(await publish(alice, bob, 'm1', `key ${AWS_KEY}`)).toEqual({ error: 'CASIL_POLICY_BLOCKED_SECRET' });

    expect(await admin.ok('casil_reload', { policy: REDACT })).toMatchObject({ reloaded: true, shared: true, version: 2 });
    expect(policyOn(a)).toEqual(REDACT);
    await until(() => versionOn(b) === 2, 8000, 'node B applies the reload');
    expect(policyOn(b)).toEqual(REDACT);
    expect(await publish(alice, bob, 'm2', `key ${AWS_KEY}`)).toEqual({ delivered: 'key [REDACTED:aws_access_key]' });
    expect(JSON.parse((await cluster.admin.get(`${cluster.prefix}:casil:policy`))!)).toMatchObject({ policy: REDACT, node: a.server.bus.spine!.nodeId });

    const bad = await admin.command('casil_reload', { policy: { scopes: [{ include: ['*'], secrets: 'shred' }] } });
    expect(bad).toMatchObject({ status: 'error', error_code: 'CASIL_POLICY_INVALID' });
    expect(JSON.parse((await cluster.admin.get(`${cluster.prefix}:casil:policy`))!)).toMatchObject({ policy: REDACT });
    expect(await publish(alice, bob, 'm3', `key ${AWS_KEY}`)).toEqual({ delivered: 'key [REDACTED:aws_access_key]' });
    // The next valid reload is B's third policy: nothing was applied in between.
    const block = { scopes: [{ include: ['*'], pii: ['email'] }] };
    expect(await admin.ok('casil_reload', { policy: block })).toMatchObject({ version: 3, shared: true });
    await until(() => versionOn(b) === 3, 8000, 'node B applies the second reload');
    expect(versionOn(b)).toBe(3);
    expect(await publish(alice, bob, 'm4', `key ${AWS_KEY}`)).toEqual({ error: 'CASIL_POLICY_BLOCKED_SECRET' });
    expect(await publish(alice, bob, 'm5', 'mail jane@example.com')).toEqual({ delivered: 'mail [REDACTED:email]' });
  });

  it('a node starting later applies the stored policy over its config file\'s; null returns every node to its configured policy', async () => {
    const PII = { scopes: [{ include: ['*'], pii: true }] };
    const a = await cluster.addNode(withPolicy(PII));
    const admin = await cluster.connect(0, 'root', 'acme', { admin: true });
    await admin.ok('casil_reload', { policy: REDACT });
    const late = await cluster.addNode(withPolicy(PII));
    // Applied during start-up, before the port opened.
    expect(policyOn(late)).toEqual(REDACT);
    const plain = await cluster.addNode();
    expect(policyOn(plain)).toEqual(REDACT);

    expect(await admin.ok('casil_reload', { policy: null })).toMatchObject({ shared: true, scopes: [{ pii: ['email', 'phone', 'card'] }] });
    expect(await cluster.admin.exists(`${cluster.prefix}:casil:policy`)).toBe(0);
    expect(policyOn(a)).toEqual(PII);
    await until(() => versionOn(late) === 3 && versionOn(plain) === 3, 8000, 'the other nodes reset');
    expect(policyOn(late)).toEqual(PII);
    expect(policyOn(plain)).toBeUndefined();
  });

  it('a node that cannot validate the shared policy keeps its own and logs why', async () => {
    await cluster.addNode();
    const lines: string[] = [];
    const b = await startServer(cluster.config({ nodeId: 'strict-node', logLevel: 'warn' }), { logger: createLogger('warn', (l) => lines.push(l)) });
    cluster.nodes.push(b);
    // What a newer version (or a hand edit) could store: this version cannot validate it.
    const key = `${cluster.prefix}:casil:policy`;
    await cluster.admin.set(key, JSON.stringify({ policy: { scopes: [{ include: ['*'], secrets: 'shred' }] }, node: 'future', at: new Date().toISOString() }));
    await cluster.admin.publish(`${cluster.prefix}:casil:changes`, 'Efuture\nset');
    await until(() => lines.some((l) => l.includes('shared policy refused')), 8000, 'the refusal is logged');
    expect(versionOn(b)).toBe(1);
    expect(policyOn(b)).toBeUndefined();
    expect(lines.find((l) => l.includes('shared policy refused'))).toContain('secrets: expected one of block, redact, allow');
  });
});
