/**
 * The telemetry stream: lifecycle and activity events fanned out to observer
 * sockets as `telemetry` envelopes. Costs one flag check when nobody watches.
 * Each observer has a bounded queue that drops its oldest entries, so a slow
 * observer never slows the bus or other observers.
 */
import type { WebSocket } from 'ws';
import { telemetryEnvelope } from '../protocol/outbound.js';

export type TelemetryEventName =
  | 'connect'
  | 'disconnect'
  | 'join'
  | 'leave'
  | 'command'
  | 'error'
  | 'slow_consumer'
  | 'heartbeat_timeout'
  | 'intent_routed'
  | 'intent_no_match'
  | 'casil'
  | 'stats';

export interface TelemetryEvent {
  readonly event: TelemetryEventName;
  readonly tenant?: string;
  readonly [field: string]: unknown;
}

/** Activity counters, always kept (plain integer adds); the stats event reports their per-second deltas. */
export interface ActivityCounters {
  messages_in: number;
  messages_out: number;
  connects: number;
  disconnects: number;
  errors: number;
  commands: number;
}

/** Bytes an observer socket may have unsent before events queue instead. */
const OBSERVER_HIGH_WATER = 256 * 1024;

/** A fixed-capacity FIFO that overwrites its oldest entry when full. O(1) push and shift. */
class DropOldestQueue<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  length = 0;
  dropped = 0;

  constructor(private readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    if (this.length === this.capacity) {
      this.head = (this.head + 1) % this.capacity;
      this.length--;
      this.dropped++;
    }
    this.items[(this.head + this.length) % this.capacity] = item;
    this.length++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return item;
  }
}

class Observer {
  /** Last pong (or attach time); the heartbeat reads it. */
  lastSeen: number;
  readonly queue: DropOldestQueue<Buffer>;
  private readonly onWritten = (): void => this.flush();

  constructor(
    readonly socket: WebSocket,
    capacity: number,
    /** null: every tenant's events and the server-wide stats; else only this tenant's events. */
    readonly tenant: string | null,
  ) {
    this.lastSeen = Date.now();
    this.queue = new DropOldestQueue(capacity);
  }

  push(bytes: Buffer): void {
    this.queue.push(bytes);
    this.flush();
  }

  /** Sends while the socket is below its high-water mark; write callbacks resume it. */
  private flush(): void {
    while (this.queue.length > 0 && this.socket.readyState === 1 && this.socket.bufferedAmount <= OBSERVER_HIGH_WATER) {
      // Text frames: the bytes are JSON (ws would send a Buffer as a binary frame, a Blob in browsers).
      this.socket.send(this.queue.shift()!, { binary: false }, this.onWritten);
    }
  }
}

export class TelemetryHub {
  private readonly observers = new Set<Observer>();
  private statsTimer: NodeJS.Timeout | undefined;
  readonly counters: ActivityCounters = { messages_in: 0, messages_out: 0, connects: 0, disconnects: 0, errors: 0, commands: 0 };
  private last: ActivityCounters = { ...this.counters };

  constructor(
    private readonly capacity: number,
    private readonly gauges: () => Record<string, number>,
  ) {}

  /** True when at least one observer listens; emit sites check it before building an event. */
  get active(): boolean {
    return this.observers.size > 0;
  }

  get observerCount(): number {
    return this.observers.size;
  }

  /**
   * The heartbeat for observers (they send nothing, so only pongs prove them
   * alive): ping each; terminate one silent for two intervals, which frees its
   * slot under --max-telemetry-observers.
   */
  heartbeat(now: number, intervalMs: number): void {
    for (const o of this.observers) {
      if (o.lastSeen < now - 2 * intervalMs) o.socket.terminate();
      else if (o.socket.readyState === 1) o.socket.ping();
    }
  }

  /** Adds an observer; `tenant` limits it to one tenant's events (dashboards), null sees all (admins). */
  attach(socket: WebSocket, tenant: string | null = null): void {
    const observer = new Observer(socket, this.capacity, tenant);
    this.observers.add(observer);
    socket.on('pong', () => {
      observer.lastSeen = Date.now();
    });
    socket.on('close', () => {
      this.observers.delete(observer);
      if (this.observers.size === 0) this.stopStats();
    });
    socket.on('error', () => socket.terminate());
    // Observers only listen; anything they send is ignored.
    if (this.statsTimer === undefined) this.startStats();
  }

  /**
   * Encodes the event once and queues the same bytes for every observer
   * allowed to see it: tenant-scoped observers get only their tenant's events;
   * tenant-less ones (server-wide stats) go to unscoped observers only.
   */
  emit(event: TelemetryEvent): void {
    if (this.observers.size === 0) return;
    const bytes = Buffer.from(JSON.stringify(telemetryEnvelope({ ...event })));
    for (const o of this.observers) {
      if (o.tenant === null || o.tenant === event.tenant) o.push(bytes);
    }
  }

  /**
   * Closes every observer with 1001 and forgets it. Returns the sockets so the
   * caller can wait for them and terminate the ones that never finish the
   * close handshake (an observer that stopped reading would otherwise hold
   * the listener open for ws's 30 s close timeout).
   */
  close(): WebSocket[] {
    this.stopStats();
    const sockets = [...this.observers].map((o) => o.socket);
    for (const s of sockets) s.close(1001, 'server shutting down');
    this.observers.clear();
    return sockets;
  }

  private startStats(): void {
    this.last = { ...this.counters };
    let lastAt = Date.now();
    this.statsTimer = setInterval(() => {
      const now = Date.now();
      const seconds = Math.max((now - lastAt) / 1000, 0.001);
      const perSecond: Record<string, number> = {};
      for (const k of Object.keys(this.counters) as Array<keyof ActivityCounters>) {
        perSecond[k] = Math.round(((this.counters[k] - this.last[k]) / seconds) * 100) / 100;
      }
      this.last = { ...this.counters };
      lastAt = now;
      let dropped = 0;
      for (const o of this.observers) dropped += o.queue.dropped;
      this.emit({ event: 'stats', per_second: perSecond, totals: { ...this.counters }, observers_dropped: dropped, ...this.gauges() });
    }, 1000);
    this.statsTimer.unref();
  }

  private stopStats(): void {
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
  }
}
