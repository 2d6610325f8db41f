/**
 * The in-flight table's per-tenant cap (semantic-requests.ts): a full tenant
 * finishes its oldest request early to admit a new one, other tenants are
 * untouched, and a renewed request is not a new one. The clock is injected
 * and timers never fire within these tests (timeout far away).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InFlightRequests, MAX_IN_FLIGHT_PER_TENANT, type RequestParties } from '../../src/router/semantic-requests.js';

const req = (tenant: string, requestId: string, agentId = 'agent-1'): RequestParties => ({
  tenant,
  requestId,
  senderClientId: 'alice',
  senderConnectionId: `cx-sender-${tenant}`,
  agentId,
});

describe('InFlightRequests per-tenant cap', () => {
  let table: InFlightRequests;
  let finished: Array<[string, string]>;
  afterEach(() => table.close());

  const make = (maxPerTenant?: number): InFlightRequests => {
    finished = [];
    table = new InFlightRequests({
      timeoutMs: 3_600_000,
      ...(maxPerTenant !== undefined ? { maxPerTenant } : {}),
      onFinish: (tenant, agentId) => finished.push([tenant, agentId]),
      clock: () => 1_000,
    });
    return table;
  };

  it('finishes the oldest request of a full tenant to admit a new one', () => {
    const t = make(2);
    expect(t.start(req('acme', 'r1', 'agent-a'))).toBe(true);
    expect(t.start(req('acme', 'r2', 'agent-b'))).toBe(true);
    expect(finished).toEqual([]);
    expect(t.start(req('acme', 'r3', 'agent-c'))).toBe(true);
    // r1 was evicted: its agent's load is released once, and the table stays at the cap.
    expect(finished).toEqual([['acme', 'agent-a']]);
    expect(t.size).toBe(2);
    expect(t.replied('acme', 'agent-a', 'alice', 'r1')).toBe(false);
    expect(t.replied('acme', 'agent-b', 'alice', 'r2')).toBe(true);
    expect(t.replied('acme', 'agent-c', 'alice', 'r3')).toBe(true);
    expect(finished).toEqual([['acme', 'agent-a'], ['acme', 'agent-b'], ['acme', 'agent-c']]);
    expect(t.size).toBe(0);
  });

  it('caps each tenant on its own', () => {
    const t = make(1);
    t.start(req('acme', 'r1'));
    t.start(req('globex', 'r1'));
    expect(finished).toEqual([]);
    expect(t.size).toBe(2);
    t.start(req('globex', 'r2'));
    expect(finished).toEqual([['globex', 'agent-1']]);
    expect(t.replied('acme', 'agent-1', 'alice', 'r1')).toBe(true);
  });

  it('renewing a request already in flight neither counts it twice nor evicts another', () => {
    const t = make(2);
    t.start(req('acme', 'r1'));
    t.start(req('acme', 'r2'));
    expect(t.start(req('acme', 'r1'))).toBe(false);
    expect(finished).toEqual([]);
    expect(t.size).toBe(2);
    // The renewal moved r1 to the back: the next admission evicts r2, now the oldest.
    t.start(req('acme', 'r3'));
    expect(t.replied('acme', 'agent-1', 'alice', 'r2')).toBe(false);
    expect(t.replied('acme', 'agent-1', 'alice', 'r1')).toBe(true);
  });

  it('defaults to MAX_IN_FLIGHT_PER_TENANT', () => {
    const t = make();
    for (let i = 0; i < MAX_IN_FLIGHT_PER_TENANT; i++) t.start(req('acme', `r${i}`));
    expect(finished).toEqual([]);
    t.start(req('acme', 'one-more'));
    expect(finished).toHaveLength(1);
    expect(t.size).toBe(MAX_IN_FLIGHT_PER_TENANT);
    expect(t.replied('acme', 'agent-1', 'alice', 'r0')).toBe(false);
  });
});
