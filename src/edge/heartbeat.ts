/**
 * One timer for all connections: every interval, a connection that has sent
 * nothing (no frame, no pong) for two intervals is terminated; the others are pinged.
 */
import type { Connection } from './connection.js';

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly connections: () => Iterable<Connection>,
    private readonly onTimeout: (conn: Connection) => void,
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
    const deadline = now - 2 * this.intervalMs;
    for (const conn of this.connections()) {
      if (conn.lastSeen < deadline) {
        this.onTimeout(conn);
      } else if (conn.isOpen) {
        conn.socket.ping();
      }
    }
  }
}
