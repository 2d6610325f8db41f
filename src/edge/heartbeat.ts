/**
 * One timer for all connections: every interval, a connection that has sent
 * nothing (no frame, no pong) for two intervals is timed out once (the server
 * closes it with 4001) and terminated if it is still silent a tick later; the
 * others are pinged.
 */
import type { Connection } from './connection.js';

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly connections: () => Iterable<Connection>,
    private readonly onTimeout: (conn: Connection) => void,
    /** Runs first on every tick (the telemetry observers' heartbeat). */
    private readonly alsoEachTick?: (now: number, intervalMs: number) => void,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(Date.now()), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  tick(now: number): void {
    this.alsoEachTick?.(now, this.intervalMs);
    const deadline = now - 2 * this.intervalMs;
    for (const conn of this.connections()) {
      if (conn.lastSeen >= deadline) {
        if (conn.isOpen) conn.socket.ping();
      } else if (conn.isOpen) {
        this.onTimeout(conn);
      } else {
        // Closing (timed out earlier, or closed for another reason) and still silent:
        // the peer will not finish the close handshake. Timed out only once.
        conn.terminate();
      }
    }
  }
}
