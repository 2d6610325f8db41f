/** The spine's pub/sub framing and key names (unit). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SpineKeys } from '../../src/spine/keys.js';
import { decodeSpineMessage, encodeSpineMessage } from '../../src/spine/wire.js';

describe('spine wire format', () => {
  it('carries kind, origin and the envelope bytes unchanged', () => {
    const bytes = Buffer.from('{"type":"event","payload":{"text":"a\\nb"}}');
    const decoded = decodeSpineMessage(encodeSpineMessage('E', 'node-1', bytes));
    expect(decoded).not.toBeNull();
    expect(decoded!.kind).toBe('E');
    expect(decoded!.origin).toBe('node-1');
    expect(decoded!.bytes.equals(bytes)).toBe(true);
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
    ];
    for (const t of templates) expect(doc, t).toContain(`| \`${t}\` |`);
  });
});
