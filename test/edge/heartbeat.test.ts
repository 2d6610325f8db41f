import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../../src/edge/connection.js';
import { Heartbeat } from '../../src/edge/heartbeat.js';

/** The slice of a Connection the heartbeat reads; counts what it was asked to do. */
class FakeConnection {
  pings = 0;
  terminated = 0;
  isOpen = true;
  readonly socket = { ping: (): void => void this.pings++ };
  constructor(public lastSeen: number) {}
  terminate(): void {
    this.terminated++;
    this.isOpen = false;
  }
}

const INTERVAL = 1000;

function heartbeat(conns: FakeConnection[]) {
  const timedOut: FakeConnection[] = [];
  const hb = new Heartbeat(INTERVAL, () => conns as unknown as Connection[], (c) => {
    const fake = c as unknown as FakeConnection;
    timedOut.push(fake);
    fake.isOpen = false; // the server closes it (4001)
  });
  return { hb, timedOut };
}

describe('Heartbeat.tick', () => {
  it('pings connections seen within two intervals and times out the silent ones', () => {
    const now = 100_000;
    const fresh = new FakeConnection(now - 10);
    const edge = new FakeConnection(now - 2 * INTERVAL); // exactly two intervals: still alive
    const silent = new FakeConnection(now - 2 * INTERVAL - 1);
    const { hb, timedOut } = heartbeat([fresh, edge, silent]);
    hb.tick(now);
    expect(timedOut).toEqual([silent]);
    expect([fresh.pings, edge.pings, silent.pings]).toEqual([1, 1, 0]);
  });

  it('times a connection out once, then terminates it if it is still silent on the next tick', () => {
    const silent = new FakeConnection(0);
    const { hb, timedOut } = heartbeat([silent]);
    hb.tick(10_000);
    expect(timedOut).toHaveLength(1);
    expect(silent.terminated).toBe(0);
    hb.tick(11_000);
    expect(timedOut).toHaveLength(1);
    expect(silent.terminated).toBe(1);
  });

  it('does not ping a connection that is closing but was recently seen', () => {
    const closing = new FakeConnection(10_000);
    closing.isOpen = false;
    const { hb, timedOut } = heartbeat([closing]);
    hb.tick(10_500);
    expect(closing.pings).toBe(0);
    expect(closing.terminated).toBe(0);
    expect(timedOut).toEqual([]);
  });

  describe('timer', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('ticks every interval between start() and stop(); start() is idempotent', () => {
      vi.useFakeTimers();
      const conn = new FakeConnection(Date.now());
      const { hb } = heartbeat([conn]);
      hb.start();
      hb.start();
      vi.advanceTimersByTime(INTERVAL);
      expect(conn.pings).toBe(1);
      conn.lastSeen = Date.now();
      vi.advanceTimersByTime(INTERVAL);
      expect(conn.pings).toBe(2);
      hb.stop();
      vi.advanceTimersByTime(5 * INTERVAL);
      expect(conn.pings).toBe(2);
    });
  });
});
