/** The spine's pub/sub framing and key names (unit). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { positionOf } from '../../src/spine/catch-up.js';
import { SpineKeys } from '../../src/spine/keys.js';
import { decodeSpineMessage, encodeSpineMessage, positionTemplate, spineHeader } from '../../src/spine/wire.js';
import { withPosition } from '../../src/storage/stream-store.js';
import { envelope } from '../storage/stream-store.conformance.js';

describe('spine wire format', () => {
  it('carries kind, origin and the envelope bytes unchanged', () => {
    const bytes = Buffer.from('{"type":"event","payload":{"text":"a\\nb"}}');
    const decoded = decodeSpineMessage(encodeSpineMessage('E', 'node-1', bytes));
    expect(decoded).not.toBeNull();
    expect(decoded!.kind).toBe('E');
    expect(decoded!.origin).toBe('node-1');
    expect(decoded!.bytes.equals(bytes)).toBe(true);
  });

  it('carries the connection a stored event must skip at its origin', () => {
    const decoded = decodeSpineMessage(Buffer.from(`${spineHeader('S', 'node-1', 'cx_abc')}{}`));
    expect(decoded).toMatchObject({ kind: 'S', origin: 'node-1', skip: 'cx_abc' });
    expect(decoded!.bytes.toString()).toBe('{}');
    expect(decodeSpineMessage(Buffer.from(`${spineHeader('S', 'node-1')}{}`))).toMatchObject({ origin: 'node-1', skip: null });
  });

  it('splits a positioned envelope around its offset and epoch, so filling them in gives the same JSON', () => {
    const env = envelope({ payload: { t: '"offset":0' }, metadata: { k: 1 } });
    const t = positionTemplate(JSON.stringify(withPosition(env, 0, '')));
    expect(t).not.toBeNull();
    expect(`${t!.before}42${t!.between}ep0ch${t!.after}`).toBe(JSON.stringify(withPosition(env, 42, 'ep0ch')));
    expect(positionTemplate('{"metadata":{}}')).toBeNull();
    // The catch-up reads the position back from the tail of the bytes, without decoding them.
    expect(positionOf(Buffer.from(`${t!.before}42${t!.between}ep0ch${t!.after}`))).toEqual({ offset: 42, epoch: 'ep0ch' });
    expect(positionOf(Buffer.from('{"type":"system","payload":{}}'))).toBeNull();
  });

  it('ignores what is not a spine message', () => {
    for (const raw of ['', 'hello', 'X node\n{}', 'E\n{}', '\n']) expect(decodeSpineMessage(Buffer.from(raw)), raw).toBeNull();
  });
});

describe('spine keys', () => {
  it('keep tenants and client ids with separators apart', () => {
    const k = new SpineKeys('p');
    expect(k.channelTopic('a:b', 'r', 'c')).not.toBe(k.channelTopic('a', 'b:r', 'c'));
    expect(k.clientTopic('t', 'x:y')).toBe('p:pm:t:x%3Ay');
    expect(k.presence('t', 'r', 'c')).toBe('p:presence:t:r:c');
  });

  it('put every key under the prefix', () => {
    const k = new SpineKeys('pre');
    const names = [
      k.nodes(), k.alive('n'), k.nodePresence('n'), k.nodeTenants('n'), k.reapLock('n'), k.channels('t'), k.presence('t', 'r', 'c'),
      k.tenantConnections('t'), k.capabilities(), k.capabilityChanges(), k.nodeAgents('n'), k.channelTopic('t', 'r', 'c'), k.clientTopic('t', 'u'),
      k.casilPolicy(), k.casilChanges(),
    ];
    for (const n of names) expect(n.startsWith('pre:')).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('docs/operations.md, "Redis spine"', () => {
  it('lists every key and pub/sub channel the spine uses', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const k = new SpineKeys('P');
    const templates = [
      k.nodes(), k.alive('N'), k.nodePresence('N'), k.nodeTenants('N'), k.reapLock('N'), k.channels('T'), k.presence('T', 'R', 'C'),
      k.tenantConnections('T'), k.capabilities(), k.capabilityChanges(), k.nodeAgents('N'), k.channelTopic('T', 'R', 'C'), k.clientTopic('T', 'U'),
      k.casilPolicy(), k.casilChanges(),
    ];
    for (const t of templates) expect(doc, t).toContain(`| \`${t}\` |`);
  });
});
