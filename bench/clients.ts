/**
 * Load-generator connections. Data frames are recognised without JSON.parse
 * (see readSendTime); only control frames (welcome, join ack, errors,
 * presence) are decoded, and those are rare once the load runs.
 */
import WebSocket from 'ws';
import { LatencyRecorder, nowMs, readSendTime } from './latency.js';
import type { BenchTarget } from './targets.js';

/** Counters shared by all subscribers of one run; the window is set when the load starts. */
export class DeliveryStats {
  windowStart = Infinity;
  windowEnd = Infinity;
  /** Deliveries of messages sent inside the window (received at any time up to the end of the drain). */
  received = 0;
  /** Deliveries that arrived inside the window, whatever their send time: the throughput figure. */
  arrivedInWindow = 0;
  readonly latency = new LatencyRecorder();
  /** Control frames by kind/code after setup (errors, presence, ...). */
  readonly control = new Map<string, number>();
  /** Close codes of connections that closed before teardown. */
  readonly closes = new Map<number, number>();
  tearingDown = false;

  bump(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

export type Role = 'sub' | 'pub';

export class BenchConnection {
  readonly ws: WebSocket;
  private welcomed = false;
  private failure: Error | undefined;
  private onJoined: ((err?: Error) => void) | undefined;
  private onWelcome: ((err?: Error) => void) | undefined;

  constructor(url: string, readonly role: Role, private readonly target: BenchTarget, private readonly stats: DeliveryStats) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    const isSub = role === 'sub';
    this.ws.on('message', (data: Buffer) => {
      const t = readSendTime(data);
      if (t === t) {
        // A data frame. Publishers receive the other publishers' messages too; only subscribers count.
        if (!isSub) return;
        const now = nowMs();
        if (now >= stats.windowStart && now < stats.windowEnd) stats.arrivedInWindow++;
        if (t >= stats.windowStart && t < stats.windowEnd) {
          stats.received++;
          stats.latency.add(now - t);
        }
        return;
      }
      this.onControl(data);
    });
    this.ws.on('error', (err) => this.fail(err));
    this.ws.on('close', (code) => {
      if (!stats.tearingDown) stats.closes.set(code, (stats.closes.get(code) ?? 0) + 1);
      this.fail(new Error(`connection closed with ${code}`));
    });
  }

  private onControl(data: Buffer): void {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      this.stats.bump(this.stats.control, 'invalid-json');
      return;
    }
    const { kind, detail } = this.target.classify(frame);
    if (kind === 'welcome' && !this.welcomed) {
      this.welcomed = true;
      this.onWelcome?.();
    } else if (kind === 'joined' && this.onJoined !== undefined) {
      this.onJoined();
      this.onJoined = undefined;
    } else if (kind === 'error') {
      if (this.onJoined !== undefined) this.onJoined(new Error(`join failed: ${detail ?? 'error'}`));
      else this.stats.bump(this.stats.control, `error:${detail ?? '?'}`);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.onWelcome?.(err);
    this.onJoined?.(err);
    this.onWelcome = undefined;
    this.onJoined = undefined;
  }

  /** Waits for the socket to open and the server's welcome. */
  welcome(): Promise<void> {
    if (this.welcomed) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.onWelcome = (err) => (err ? reject(err) : resolve());
    });
  }

  /** Joins room:channel and waits for the acknowledgement. */
  join(room: string, channel: string, requestId: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.onJoined = (err) => (err ? reject(err) : resolve());
      this.ws.send(this.target.joinFrame(room, channel, requestId));
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Connects and joins `count` clients, at most `parallel` handshakes in flight. */
export async function connectAll(
  url: string,
  role: Role,
  count: number,
  target: BenchTarget,
  stats: DeliveryStats,
  room: string,
  channel: string,
  out: BenchConnection[],
  parallel = 32,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const conn = new BenchConnection(url, role, target, stats);
      out.push(conn);
      try {
        await conn.welcome();
        await conn.join(room, channel, `join-${role}-${i}`);
      } catch (err) {
        throw new Error(`${role} connection #${i} to ${target.label}: ${(err as Error).message}`, { cause: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}
