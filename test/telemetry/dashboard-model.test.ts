/**
 * The dashboard's pure functions (src/telemetry/dashboard-model.ts), the same
 * code the page runs: frame parsing, text formatting of untrusted fields,
 * counts, filters, the stats state, close decisions, backoff and URLs.
 */
import { describe, expect, it } from 'vitest';
import {
  applyFrame, asText, closeDecision, eventSummary, fieldRows, frameText, maxEntries, newModel, reconnectDelay, sortedCounts,
  statsView, telemetryUrl, visibleEntries, type DashboardModel,
} from '../../src/telemetry/dashboard-model.js';

const frame = (payload: Record<string, unknown>, type = 'telemetry'): string =>
  JSON.stringify({ version: '1.0', id: 'arq_1', type, room: null, channel: null, from: null, timestamp: '2026-11-26T08:00:01.234Z', payload });
const ALL = { event: '', tenant: '', text: '' };

function openModel(openedAt: number): DashboardModel {
  const model = newModel();
  model.link.state = 'open';
  model.link.openedAt = openedAt;
  return model;
}

describe('dashboard model: frames', () => {
  it('records events with their tenant and a summary, and counts them by type and tenant', () => {
    const model = newModel();
    expect(applyFrame(model, frame({ event: 'welcome', stream: 'telemetry', server_version: '0.1.0' }, 'system'), 1)).toBe('welcome');
    expect(model.link.serverVersion).toBe('0.1.0');
    expect(applyFrame(model, frame({ event: 'connect', tenant: 'acme', client_id: 'alice', client_type: 'human', screen_name: null }), 2)).toBe('event');
    applyFrame(model, frame({ event: 'join', tenant: 'acme', client_id: 'alice', room: 'lobby', channel: 'general' }), 3);
    applyFrame(model, frame({ event: 'connect', tenant: 'beta', client_id: 'bob', client_type: 'ai-agent', screen_name: 'Bob' }), 4);
    expect(model.entries.map((e) => [e.seq, e.event, e.tenant, e.summary])).toEqual([
      [1, 'connect', 'acme', 'alice (human)'],
      [2, 'join', 'acme', 'alice joined lobby:general'],
      [3, 'connect', 'beta', 'bob (ai-agent, Bob)'],
    ]);
    expect(model.entries[0]!.time).toBe('2026-11-26T08:00:01.234Z');
    expect(sortedCounts(model.counts)).toEqual([['connect', 2], ['join', 1]]);
    expect(sortedCounts(model.tenants)).toEqual([['acme', 2], ['beta', 1]]);
    expect(model.stats).toBeNull();
  });

  it('keeps the stats apart from the log, reading numbers only', () => {
    const model = newModel();
    const stats = { event: 'stats', per_second: { messages_in: 12.5, messages_out: 'lots', errors: 1 }, totals: {}, observers_dropped: 3, connections: 7, channels: 2 };
    expect(applyFrame(model, frame(stats), 1000)).toBe('stats');
    expect(model.entries).toEqual([]);
    expect(model.counts.size).toBe(0);
    expect(model.stats).toEqual({
      at: 1000, connections: 7, channels: 2, observersDropped: 3,
      perSecond: { messages_in: 12.5, messages_out: 0, errors: 1, commands: 0, connects: 0, disconnects: 0 },
    });
  });

  it('decodes binary frames as UTF-8 JSON text', () => {
    const model = newModel();
    const text = frame({ event: 'join', tenant: 'acme', client_id: 'zoë', room: 'r', channel: 'c' });
    const bytes = new TextEncoder().encode(text);
    expect(frameText(bytes.buffer)).toBe(text);
    expect(frameText(Buffer.from(text))).toBe(text);
    expect(applyFrame(model, bytes.buffer, 0)).toBe('event');
    expect(model.entries[0]!.summary).toBe('zoë joined r:c');
    expect(frameText(new Uint8Array(1_000_001))).toBeNull();
    expect(frameText({ byteLength: 3 })).toBeNull();
  });

  it('ignores malformed frames without throwing', () => {
    const model = newModel();
    const bad: unknown[] = [
      'not json', '[]', 'null', '42', JSON.stringify({ type: 'telemetry' }), JSON.stringify({ type: 'telemetry', payload: [] }),
      JSON.stringify({ type: 'telemetry', payload: { event: 42 } }), frame({ event: 'connect' }, 'event'), new Uint8Array(3), undefined,
    ];
    for (const data of bad) expect(applyFrame(model, data, 0), String(data)).toBe('ignored');
    expect(model.entries).toEqual([]);
  });

  it('bounds the log: the oldest entries go first and are counted as dropped', () => {
    const model = newModel();
    const n = maxEntries() + 5;
    for (let i = 1; i <= n; i++) applyFrame(model, frame({ event: 'command', tenant: 't', client_id: `c${i}`, command: 'ping', status: 'success' }), i);
    expect(model.entries).toHaveLength(maxEntries());
    expect(model.entries[0]!.summary).toBe('c6 ping success');
    expect(model.entries.at(-1)!.summary).toBe(`c${n} ping success`);
    expect(model.dropped).toBe(5);
    expect(model.counts.get('command')).toBe(n);
  });

  it('uses Maps for counts, so hostile event and tenant names cannot reach Object.prototype', () => {
    const model = newModel();
    applyFrame(model, frame({ event: '__proto__', tenant: 'constructor', polluted: true }), 1);
    expect(model.counts.get('__proto__')).toBe(1);
    expect(model.tenants.get('constructor')).toBe(1);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(model.entries[0]!.summary).toBe('{"polluted":true}');
  });
});

describe('dashboard model: text', () => {
  it('summarizes every documented event type', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ event: 'disconnect', client_id: 'a', code: 1000 }, 'a closed 1000'],
      [{ event: 'leave', client_id: 'a', room: 'r', channel: 'c' }, 'a left r:c'],
      [{ event: 'command', client_id: 'a', command: 'history', status: 'error', duration_ms: 0.42 }, 'a history error 0.42 ms'],
      [{ event: 'error', client_id: 'a', error_code: 'UNKNOWN_TYPE', request_id: 'bad-1' }, 'a UNKNOWN_TYPE (request bad-1)'],
      [{ event: 'slow_consumer', client_id: 'a' }, 'a closed 4002 (slow consumer)'],
      [{ event: 'heartbeat_timeout', client_id: 'a' }, 'a closed 4001 (heartbeat timeout)'],
      [{ event: 'intent_routed', client_id: 'u', mode: 'best', model: 'glove-sif-100', matches: [{ agent: 'billing', capability: 'refunds', score: 0.81 }], duration_ms: 3 },
        'u → billing/refunds 0.81 (best, glove-sif-100) 3 ms'],
      [{ event: 'intent_no_match', client_id: 'u', mode: 'best', reason: 'below_threshold', candidates: [] }, 'u no match: below_threshold; best none (best)'],
      [{ event: 'casil', client_id: 'u', decision: 'BLOCK', reason_code: 'CASIL_SECRET_DETECTED', message_type: 'event', room: 'r', channel: 'c' },
        'u BLOCK CASIL_SECRET_DETECTED event r:c'],
      [{ event: 'brand_new', tenant: 't', client_id: 'a', n: 2 }, '{"client_id":"a","n":2}'],
    ];
    for (const [payload, text] of cases) expect(eventSummary(payload), String(payload['event'])).toBe(text);
  });

  it('keeps untrusted strings as literal, bounded text', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    expect(eventSummary({ event: 'connect', client_id: hostile, client_type: 'human', screen_name: '</script><b>' }))
      .toBe(`${hostile} (human, </script><b>)`);
    const long = asText('x'.repeat(5000));
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
    expect(asText({ nested: [1, 2] })).toBe('{"nested":[1,2]}');
    expect(asText(undefined)).toBe('-');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(asText(cyclic)).toBe('?');
    expect(fieldRows({ status: 'ok', reasons: [], uptime_s: 4 })).toEqual([['status', 'ok'], ['reasons', '[]'], ['uptime_s', '4']]);
    expect(fieldRows('nope')).toEqual([]);
  });
});

describe('dashboard model: filters', () => {
  it('filters by event type, tenant and text, newest first, up to a limit', () => {
    const model = newModel();
    const events = [
      { event: 'connect', tenant: 'acme', client_id: 'alice', client_type: 'human' },
      { event: 'connect', tenant: 'beta', client_id: 'bob', client_type: 'human' },
      { event: 'join', tenant: 'acme', client_id: 'alice', room: 'lobby', channel: 'general' },
      { event: 'join', tenant: 'beta', client_id: 'bob', room: 'ops', channel: 'alerts' },
    ];
    for (const e of events) applyFrame(model, frame(e), 0);
    const ids = (filter: typeof ALL, limit = 10): number[] => visibleEntries(model, filter, limit).map((e) => e.seq);
    expect(ids(ALL)).toEqual([4, 3, 2, 1]);
    expect(ids(ALL, 2)).toEqual([4, 3]);
    expect(ids({ ...ALL, event: 'join' })).toEqual([4, 3]);
    expect(ids({ ...ALL, tenant: 'beta' })).toEqual([4, 2]);
    expect(ids({ ...ALL, event: 'connect', tenant: 'acme' })).toEqual([1]);
    expect(ids({ ...ALL, text: '  ALERTS ' })).toEqual([4]);
    expect(ids({ ...ALL, event: 'casil' })).toEqual([]);
  });
});

describe('dashboard model: link', () => {
  it('tells live stats from a tenant-only stream', () => {
    const model = openModel(10_000);
    expect(statsView(model, 10_500)).toBe('waiting');
    expect(statsView(model, 13_001)).toBe('tenant-only');
    applyFrame(model, frame({ event: 'stats', per_second: {}, connections: 0, channels: 0, observers_dropped: 0 }), 11_000);
    expect(statsView(model, 11_500)).toBe('live');
    expect(statsView(model, 14_500)).toBe('stale');
    // Stats from before the current stream opened do not count for it.
    model.link.openedAt = 20_000;
    expect(statsView(model, 24_000)).toBe('tenant-only');
    model.link.state = 'reconnecting';
    expect(statsView(model, 24_000)).toBe('offline');
  });

  it('stops on refusals and expiry, reconnects otherwise', () => {
    expect(closeDecision(false, 1006, 'up')).toMatchObject({ state: 'refused', retry: false });
    expect(closeDecision(false, 1006, 'up').detail).toMatch(/^token refused/);
    expect(closeDecision(false, 1006, 'unreachable')).toMatchObject({ state: 'reconnecting', retry: true, detail: 'server unreachable' });
    expect(closeDecision(false, 1006, 'shutting_down')).toMatchObject({ state: 'reconnecting', retry: true });
    expect(closeDecision(true, 4003, 'up')).toMatchObject({ state: 'expired', retry: false });
    expect(closeDecision(true, 1001, 'up')).toMatchObject({ state: 'reconnecting', retry: true });
    expect(closeDecision(true, 1006, 'up')).toMatchObject({ state: 'reconnecting', retry: true, detail: 'connection lost (1006)' });
  });

  it('backs off from 250–500 ms to at most 15 s', () => {
    expect([reconnectDelay(1, 0), reconnectDelay(1, 1)]).toEqual([250, 500]);
    expect([reconnectDelay(3, 0), reconnectDelay(3, 0.5), reconnectDelay(3, 1)]).toEqual([1000, 1500, 2000]);
    expect([reconnectDelay(50, 0), reconnectDelay(50, 1)]).toEqual([7500, 15_000]);
    expect(reconnectDelay(2, 7)).toBe(1000); // out-of-range randomness is clamped
  });

  it('builds the stream URL for the page origin, token in the query only', () => {
    expect(telemetryUrl('http://127.0.0.1:9100', 'a.b+c/d=')).toBe('ws://127.0.0.1:9100/telemetry?token=a.b%2Bc%2Fd%3D');
    expect(telemetryUrl('https://bus.example:443', 't')).toBe('wss://bus.example:443/telemetry?token=t');
    expect(telemetryUrl('http://[::1]:9100', '')).toBe('ws://[::1]:9100/telemetry');
  });
});
