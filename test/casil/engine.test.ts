/**
 * The engine on its own: scope and mode resolution per tenant, each policy
 * and outcome, nested redaction (copy-on-write), fail closed on a throwing
 * detector and on the time budget (with an injected clock).
 */
import { describe, expect, it } from 'vitest';
import { CasilEngine, casilMetadata, type CasilSettings, type InspectInput } from '../../src/casil/engine.js';
import type { Detector } from '../../src/casil/types.js';

const SETTINGS: CasilSettings = { mode: 'enforce', defaultDecision: 'block', timeBudgetMs: 20, metadata: false, maxPayloadBytes: 1 << 20 };
const AWS = 'AKIA' + 'Q3EGRIVXNXT7HZWA';

function input(payload: Record<string, unknown>, extra: Partial<InspectInput> = {}): InspectInput {
  return { tenant: 'default', room: 'lobby', channel: 'general', payload, metadata: undefined, size: 100, ...extra };
}

describe('defaults', () => {
  const engine = new CasilEngine(SETTINGS, undefined);

  it('allows clean traffic unchanged, classified low risk', () => {
    const payload = { text: 'hello there', n: 3 };
    const d = engine.inspect(input(payload))!;
    expect(d).toMatchObject({ mode: 'enforce', scope: 'default', outcome: 'ALLOW', reason: null, payload: undefined });
    expect(d.classification).toEqual({ kind: 'data', risk_level: 'low', flags: [] });
    expect(casilMetadata(d)).toEqual({ kind: 'data', risk_level: 'low', flags: [], decision: 'ALLOW', reason_code: null });
  });

  it('blocks a probable secret anywhere in the payload or metadata, including unaddressed messages', () => {
    expect(engine.inspect(input({ a: [{ b: `key ${AWS}` }] }))).toMatchObject({
      outcome: 'BLOCK', reason: 'CASIL_POLICY_BLOCKED_SECRET', secretTypes: ['aws_access_key'],
      classification: { risk_level: 'high', flags: ['contains_probable_secret'] },
    });
    expect(engine.inspect(input({ text: 'hi' }, { metadata: { note: AWS } }))?.outcome).toBe('BLOCK');
    expect(engine.inspect(input({ text: AWS }, { room: null, channel: null }))?.outcome).toBe('BLOCK');
  });

  it('blocks a message over the server limit as oversize without reading it', () => {
    const d = engine.inspect(input({ text: AWS }, { size: SETTINGS.maxPayloadBytes + 1 }))!;
    expect(d).toMatchObject({ outcome: 'BLOCK', reason: 'CASIL_POLICY_OVERSIZE', secretTypes: [], classification: { flags: ['oversize_payload'] } });
  });

  it('leaves PII alone by default (redaction is opt-in per scope)', () => {
    expect(engine.inspect(input({ text: 'mail a@b.io' }))?.outcome).toBe('ALLOW');
  });

  it('classifies kind deterministically', () => {
    expect(engine.inspect(input({ intent: { text: 'x' } }))?.classification.kind).toBe('control');
    expect(engine.inspect(input({ cpu: 1 }, { room: 'telemetry-eu' }))?.classification.kind).toBe('telemetry');
    expect(engine.inspect(input({ x: 1 }, { room: 'system' }))?.classification.kind).toBe('system');
    expect(engine.inspect(input({ x: 1 }, { room: 'systems-team' }))?.classification.kind).toBe('data');
  });
});

describe('redaction', () => {
  const engine = new CasilEngine(SETTINGS, {
    scopes: [{ include: ['*'], secrets: 'redact', pii: true, redact_keys: ['SSN', 'password'], redact_paths: ['order.items[*].card_number', 'profile.address'] }],
  });

  it('masks keys, paths, PII and secrets in nested fields, copying only what changes', () => {
    const untouched = { list: [1, 2, 3], deep: { ok: 'fine' } };
    const payload = {
      user: { name: 'Jane', ssn: '123-45-6789', contact: { email: 'jane@example.com', phone: '+44 20 7946 0958' } },
      order: { items: [{ sku: 'A1', card_number: '4111111111111111' }, { sku: 'B2', card_number: 'none' }] },
      profile: { address: { street: '1 Main St', city: 'Springfield' } },
      notes: [`deploy with ${AWS} then pay 4111 1111 1111 1111`],
      untouched,
    };
    const before = structuredClone(payload);
    const d = engine.inspect(input(payload))!;
    expect(d.outcome).toBe('ALLOW_WITH_REDACTION');
    expect(d.reason).toBe('CASIL_POLICY_REDACTED');
    expect(d.payload).toEqual({
      user: { name: 'Jane', ssn: '[REDACTED]', contact: { email: '[REDACTED:email]', phone: '[REDACTED:phone]' } },
      order: { items: [{ sku: 'A1', card_number: '[REDACTED]' }, { sku: 'B2', card_number: '[REDACTED]' }] },
      profile: { address: '[REDACTED]' },
      notes: ['deploy with [REDACTED:aws_access_key] then pay [REDACTED:card]'],
      untouched,
    });
    expect(d.payload!['untouched']).toBe(untouched); // shared, not copied
    expect(payload).toEqual(before); // the original is never mutated
    expect(d.classification).toEqual({ kind: 'data', risk_level: 'high', flags: ['contains_probable_secret', 'contains_pii', 'sensitive_field'] });
    expect(new Set(d.piiTypes)).toEqual(new Set(['email', 'phone', 'card']));
  });

  it('does not touch a private message target', () => {
    const d = engine.inspect(input({ target: 'jane@example.com', text: 'hi jane@example.com' }, { skipKey: 'target' }))!;
    expect(d.payload).toEqual({ target: 'jane@example.com', text: 'hi [REDACTED:email]' });
  });
});

describe('scopes, tenants and modes', () => {
  const policy = {
    scopes: [
      { name: 'public', include: ['public:*'], mode: 'off' as const },
      { name: 'small', include: ['iot-*'], max_payload_bytes: 64 },
      { name: 'rest', include: ['*'], exclude: ['scratch:*'] },
    ],
    tenants: {
      lab: { mode: 'monitor' as const },
      bank: { scopes: [{ name: 'bank-all', include: ['*'], pii: ['card' as const] }] },
      quiet: { mode: 'off' as const },
    },
  };
  const engine = new CasilEngine(SETTINGS, policy);

  it('uses the first matching scope; excluded or unmatched channels are not inspected', () => {
    expect(engine.inspect(input({ text: AWS }, { room: 'public' }))).toBeNull();
    expect(engine.inspect(input({ text: AWS }, { room: 'scratch' }))).toBeNull();
    expect(engine.inspect(input({ text: 'x' }, { room: 'iot-7', size: 65 }))).toMatchObject({ scope: 'small', outcome: 'BLOCK', reason: 'CASIL_POLICY_OVERSIZE' });
    expect(engine.inspect(input({ text: 'x' }, { room: 'iot-7', size: 64 }))?.outcome).toBe('ALLOW');
    expect(engine.inspect(input({ text: AWS }))).toMatchObject({ scope: 'rest', outcome: 'BLOCK' });
  });

  it('applies a tenant mode over the server scopes, and a tenant\'s own scopes instead of them', () => {
    expect(engine.inspect(input({ text: AWS }, { tenant: 'lab' }))).toMatchObject({
      mode: 'monitor', outcome: 'ALLOW', reason: 'CASIL_MONITOR_MODE', verdict: 'BLOCK', verdictReason: 'CASIL_POLICY_BLOCKED_SECRET', payload: undefined,
    });
    expect(engine.inspect(input({ text: AWS }, { tenant: 'quiet' }))).toBeNull();
    // bank's own scope covers public:* too, and redacts cards.
    expect(engine.inspect(input({ text: 'card 4111111111111111' }, { tenant: 'bank', room: 'public' }))).toMatchObject({
      scope: 'bank-all', outcome: 'ALLOW_WITH_REDACTION', payload: { text: 'card [REDACTED:card]' },
    });
  });

  it('monitor mode reports redactions without applying them', () => {
    const monitor = new CasilEngine({ ...SETTINGS, mode: 'monitor' }, { scopes: [{ pii: true }] });
    expect(monitor.inspect(input({ text: 'a@b.io' }))).toMatchObject({
      outcome: 'ALLOW', reason: 'CASIL_MONITOR_MODE', verdict: 'ALLOW_WITH_REDACTION', payload: undefined,
    });
  });

  it('is inactive only when every mode in force is off, and reload recomputes it', () => {
    const off = new CasilEngine({ ...SETTINGS, mode: 'off' }, undefined);
    expect(off.active).toBe(false);
    expect(off.inspect(input({ text: AWS }))).toBeNull();
    expect(off.reload({ tenants: { acme: { mode: 'enforce' } } })).toEqual({ ok: true, version: 2 });
    expect(off.active).toBe(true);
    expect(off.inspect(input({ text: AWS }))).toBeNull();
    expect(off.inspect(input({ text: AWS }, { tenant: 'acme' }))?.outcome).toBe('BLOCK');
  });

  it('refuses an invalid reload and keeps the policy in force', () => {
    const e = new CasilEngine(SETTINGS, { scopes: [{ include: ['secure-*'] }] });
    expect(e.reload({ scopes: [{ include: ['bad:pat:tern'] }] })).toEqual({
      ok: false, error: 'policy.scopes[0].include[0]: invalid pattern "bad:pat:tern": expected *, ROOM or ROOM:CHANNEL',
    });
    expect(e.version).toBe(1);
    expect(e.inspect(input({ text: AWS }))).toBeNull();
    expect(e.inspect(input({ text: AWS }, { room: 'secure-x' }))?.outcome).toBe('BLOCK');
  });
});

describe('fail closed', () => {
  const failing: Detector = {
    name: 'broken', category: 'secret',
    detect() {
      throw new TypeError('detector bug quoting content: s3cr3t');
    },
  };

  it('blocks with CASIL_INTERNAL_ERROR when a detector throws, and reports only the error class', () => {
    const d = new CasilEngine(SETTINGS, undefined, { extraDetectors: [failing] }).inspect(input({ text: 'anything' }))!;
    expect(d).toMatchObject({ outcome: 'BLOCK', reason: 'CASIL_INTERNAL_ERROR', error: 'TypeError', classification: { flags: ['inspection_failed'], risk_level: 'high' } });
    expect(JSON.stringify(d)).not.toContain('s3cr3t');
  });

  it('allows unchanged instead when the default decision is allow', () => {
    const d = new CasilEngine({ ...SETTINGS, defaultDecision: 'allow' }, { scopes: [{ pii: true }] }, { extraDetectors: [failing] })
      .inspect(input({ text: 'a@b.io' }))!;
    expect(d).toMatchObject({ outcome: 'ALLOW', reason: 'CASIL_INTERNAL_ERROR', payload: undefined });
  });

  it('fails closed when the inspection runs over its time budget', () => {
    let t = 0;
    // Each clock read advances 25 ms: the end-of-inspection check sees 25 ms > the 20 ms budget.
    const engine = new CasilEngine(SETTINGS, undefined, { now: () => (t += 25) });
    expect(engine.inspect(input({ text: 'short' }))).toMatchObject({ outcome: 'BLOCK', reason: 'CASIL_INTERNAL_ERROR', error: 'BudgetExceeded' });
    // With a clock that stands still, the same message is allowed.
    expect(new CasilEngine(SETTINGS, undefined, { now: () => 0 }).inspect(input({ text: 'short' }))?.outcome).toBe('ALLOW');
  });

  it('checks the budget during long walks, not only at the end', () => {
    let reads = 0;
    const engine = new CasilEngine(SETTINGS, undefined, { now: () => (++reads > 1 ? 1_000 : 0) });
    const big = { items: Array.from({ length: 10_000 }, (_, i) => `item ${i}`) };
    expect(engine.inspect(input(big))?.reason).toBe('CASIL_INTERNAL_ERROR');
    expect(reads).toBeLessThan(10); // stopped at the first in-walk check, after 256 leaves
  });
});
