/** scheduleExpiry in isolation: fake timers, a recording stand-in for the connection. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../../src/edge/connection.js';
import { clearExpiry, scheduleExpiry } from '../../src/edge/token-lifetime.js';
import { anonymousIdentity } from '../../src/identity/identity.js';

interface Recorder {
  readonly conn: Connection;
  readonly sent: Array<{ at: number; payload: Record<string, unknown> }>;
  readonly closes: Array<{ at: number; code: number }>;
}

/** Only what scheduleExpiry touches: identity.expiresAt, isOpen, expiryTimer, send, close. */
function recorder(expiresAt: number | null, open = true): Recorder {
  const sent: Recorder['sent'] = [];
  const closes: Recorder['closes'] = [];
  const fake = {
    identity: { ...anonymousIdentity('alice', 'human', null), anonymous: false, expiresAt },
    isOpen: open,
    expiryTimer: undefined as NodeJS.Timeout | undefined,
    send(bytes: Buffer): boolean {
      sent.push({ at: Date.now(), payload: (JSON.parse(bytes.toString()) as { payload: Record<string, unknown> }).payload });
      return true;
    },
    close(code: number): void {
      closes.push({ at: Date.now(), code });
    },
  };
  return { conn: fake as unknown as Connection, sent, closes };
}

const T0 = 1_900_000_000_000;
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('scheduleExpiry', () => {
  it('warns warningMs before expiry, then closes 4003 at expiry', () => {
    const r = recorder(T0 + 10_000);
    scheduleExpiry(r.conn, 3000);
    vi.advanceTimersByTime(6999);
    expect(r.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]).toMatchObject({ at: T0 + 7000, payload: { event: 'token_expiring', expires_in_ms: 3000, expires_at: new Date(T0 + 10_000).toISOString() } });
    vi.advanceTimersByTime(2999);
    expect(r.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.closes).toEqual([{ at: T0 + 10_000, code: 4003 }]);
  });

  it('with less life left than the warning window, warns halfway through it (not never, not at once), then closes', () => {
    const r = recorder(T0 + 30_000);
    scheduleExpiry(r.conn, 60_000);
    vi.advanceTimersByTime(14_999);
    expect(r.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.payload).toMatchObject({ event: 'token_expiring', expires_in_ms: 15_000 });
    vi.advanceTimersByTime(15_000);
    expect(r.closes).toEqual([{ at: T0 + 30_000, code: 4003 }]);
  });

  it('warningMs 0 sends no warning; the close still comes at expiry', () => {
    const r = recorder(T0 + 1000);
    scheduleExpiry(r.conn, 0);
    vi.advanceTimersByTime(1000);
    expect(r.sent).toEqual([]);
    expect(r.closes).toEqual([{ at: T0 + 1000, code: 4003 }]);
  });

  it('an already expired identity (accepted within the clock tolerance) is closed at once without a warning', () => {
    const r = recorder(T0 - 3000);
    scheduleExpiry(r.conn, 60_000);
    vi.advanceTimersByTime(0);
    expect(r.sent).toEqual([]);
    expect(r.closes).toEqual([{ at: T0, code: 4003 }]);
  });

  it('no expiry → no timer', () => {
    const r = recorder(null);
    scheduleExpiry(r.conn, 60_000);
    expect(r.conn.expiryTimer).toBeUndefined();
    vi.advanceTimersByTime(365 * 86_400_000);
    expect(r.closes).toEqual([]);
  });

  it('an expiry beyond the setTimeout ceiling (~24.8 days) re-arms and closes exactly on time', () => {
    const exp = T0 + 40 * 86_400_000;
    const r = recorder(exp);
    scheduleExpiry(r.conn, 60_000);
    vi.advanceTimersByTime(40 * 86_400_000 - 60_001);
    expect(r.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.sent).toHaveLength(1);
    vi.advanceTimersByTime(60_000);
    expect(r.closes).toEqual([{ at: exp, code: 4003 }]);
  });

  it('rescheduling replaces the previous timers (refresh_token)', () => {
    const r = recorder(T0 + 5000);
    scheduleExpiry(r.conn, 1000);
    vi.advanceTimersByTime(4500); // the first warning has fired, its close is armed
    expect(r.sent).toHaveLength(1);
    (r.conn as { identity: { expiresAt: number } }).identity.expiresAt = T0 + 20_000;
    scheduleExpiry(r.conn, 1000);
    vi.advanceTimersByTime(14_499);
    expect(r.closes).toEqual([]);
    expect(r.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(r.sent).toHaveLength(2);
    vi.advanceTimersByTime(1000);
    expect(r.closes).toEqual([{ at: T0 + 20_000, code: 4003 }]);
  });

  it('clearExpiry cancels everything', () => {
    const r = recorder(T0 + 5000);
    scheduleExpiry(r.conn, 1000);
    clearExpiry(r.conn);
    vi.advanceTimersByTime(10_000);
    expect(r.sent).toEqual([]);
    expect(r.closes).toEqual([]);
    expect(r.conn.expiryTimer).toBeUndefined();
  });

  it('arms nothing on a connection that is no longer open (a refresh that finished after the close)', () => {
    const r = recorder(T0 + 86_400_000, false);
    scheduleExpiry(r.conn, 1000);
    expect(r.conn.expiryTimer).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });
});
