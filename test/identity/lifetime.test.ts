/** scheduleExpiry, scheduleTokenExpiry and armAt in isolation: fake timers, a recording stand-in for the connection. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../../src/edge/connection.js';
import type { BusContext } from '../../src/edge/context.js';
import { armAt, clearExpiry, scheduleExpiry, scheduleTokenExpiry } from '../../src/edge/token-lifetime.js';
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

  it('with no grace, an already expired identity is closed at once without a warning', () => {
    const r = recorder(T0 - 3000);
    scheduleExpiry(r.conn, 60_000);
    vi.advanceTimersByTime(0);
    expect(r.sent).toEqual([]);
    expect(r.closes).toEqual([{ at: T0, code: 4003 }]);
  });

  it('graceMs delays the close past expiry; the warning still counts down to expiry itself', () => {
    const r = recorder(T0 + 10_000);
    scheduleExpiry(r.conn, 3000, Date.now, 5000);
    vi.advanceTimersByTime(7000);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.payload).toMatchObject({ expires_in_ms: 3000, expires_at: new Date(T0 + 10_000).toISOString() });
    vi.advanceTimersByTime(3000 + 4999);
    expect(r.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.closes).toEqual([{ at: T0 + 15_000, code: 4003 }]);
  });

  it('an identity 3 s past expiry (accepted within a 5 s tolerance) is closed at expiry + grace, not at once, and not warned', () => {
    const r = recorder(T0 - 3000);
    scheduleExpiry(r.conn, 60_000, Date.now, 5000);
    vi.advanceTimersByTime(1999);
    expect(r.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.closes).toEqual([{ at: T0 + 2000, code: 4003 }]);
    expect(r.sent).toEqual([]);
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

describe('scheduleTokenExpiry', () => {
  /** Only what scheduleTokenExpiry reads from the bus. */
  const busWith = (clock: () => number, tokenExpiryWarningS: number, jwtClockToleranceS: number): BusContext =>
    ({ clock, config: { tokenExpiryWarningS, jwtClockToleranceS } }) as unknown as BusContext;

  it("uses the server's clock, warning window and clock tolerance", () => {
    const skew = 3_600_000; // the injected clock runs an hour ahead of the (fake) real one
    const clock = (): number => Date.now() + skew;
    const r = recorder(T0 + skew + 10_000);
    scheduleTokenExpiry(busWith(clock, 2, 5), r.conn);
    vi.advanceTimersByTime(7999);
    expect(r.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.payload).toMatchObject({ expires_in_ms: 2000 });
    vi.advanceTimersByTime(2000 + 4999);
    expect(r.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.closes).toEqual([{ at: T0 + 15_000, code: 4003 }]);
  });

  it('with tolerance 0 closes at expiry', () => {
    const r = recorder(T0 + 1000);
    scheduleTokenExpiry(busWith(Date.now, 0, 0), r.conn);
    vi.advanceTimersByTime(1000);
    expect(r.closes).toEqual([{ at: T0 + 1000, code: 4003 }]);
  });
});

describe('armAt', () => {
  it('fires once at an absolute time of the given clock, re-arming past the setTimeout ceiling', () => {
    const holder: { expiryTimer: NodeJS.Timeout | undefined } = { expiryTimer: undefined };
    const fired: number[] = [];
    const clock = (): number => Date.now() - 1000; // a clock 1 s behind: the deadline is 1 s further away
    armAt(holder, T0 + 30 * 86_400_000, clock, () => fired.push(Date.now()));
    expect(holder.expiryTimer).toBeDefined();
    vi.advanceTimersByTime(30 * 86_400_000 + 999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([T0 + 30 * 86_400_000 + 1000]);
    vi.advanceTimersByTime(86_400_000);
    expect(fired).toHaveLength(1);
  });

  it('fires on the next tick for a time already past', () => {
    const holder: { expiryTimer: NodeJS.Timeout | undefined } = { expiryTimer: undefined };
    const fired: number[] = [];
    armAt(holder, T0 - 5000, Date.now, () => fired.push(Date.now()));
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([T0]);
  });
});
