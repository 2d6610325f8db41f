/**
 * One run against one server: connect and join, publish open loop at a fixed
 * total rate through warm-up + window, stop, wait for in-flight deliveries,
 * and report what the subscribers saw.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { procSched, type SchedStat, type ServerProcess } from './children.js';
import { BenchConnection, connectAll, DeliveryStats } from './clients.js';
import { LatencyRecorder, nowMs, type LatencySummary } from './latency.js';
import type { BenchOptions } from './options.js';
import type { BenchTarget } from './targets.js';

const ROOM = 'bench';
const CHANNEL = 'c1';

export interface RunResult {
  readonly target: string;
  readonly label: string;
  /** 1-based round this run belongs to (set by the caller). */
  readonly round: number;
  readonly subs: number;
  readonly pubs: number;
  /** Offered publish rate, msg/s, and deliveries/s it implies (× subscribers). */
  readonly offeredMsgs: number;
  readonly offeredDeliveries: number;
  /** Messages actually sent inside the window, and the rate that is. */
  readonly sent: number;
  readonly sentRate: number;
  /** Deliveries arriving at subscribers during the window, per second. */
  readonly delivered: number;
  /** sent × subs, and how many of those never arrived (within the drain). */
  readonly expected: number;
  readonly received: number;
  readonly lost: number;
  readonly latency: LatencySummary;
  /** CPU use during the window, % of one core. */
  readonly serverCpu: number;
  readonly generatorCpu: number;
  /** Time the server's / generator's main thread was runnable but got no CPU, % of the window: contention. */
  readonly serverWait: number;
  readonly generatorWait: number;
  /** Mean run-queue wait per time on CPU, µs: tens is normal wake-up latency, ~1000 means a busy machine. */
  readonly serverWaitPerSlice: number;
  /** Server write syscalls during the window, per second (all sockets, publishers included). */
  readonly serverWritesPerSecond: number;
  readonly generatorWaitPerSlice: number;
  /** How late the generator sent against its schedule (p99, max), ms: high means the generator, not the server, limits. */
  readonly sendLagP99: number;
  readonly sendLagMax: number;
  readonly loopDelayP99: number;
  readonly drainMs: number;
  readonly pubMaxBuffered: number;
  readonly closes: Record<string, number>;
  readonly control: Record<string, number>;
}

function payloadPad(bytes: number): string {
  // {"t":1712345678901.1234,"pad":"..."} has ~33 bytes around the pad.
  return 'x'.repeat(Math.max(0, bytes - 33));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runLoad(server: ServerProcess, target: BenchTarget, opts: BenchOptions): Promise<RunResult> {
  const stats = new DeliveryStats();
  const subs: BenchConnection[] = [];
  const pubs: BenchConnection[] = [];
  try {
    await withTimeout(
      (async () => {
        await connectAll(server.url, 'sub', opts.subs, target, stats, ROOM, CHANNEL, subs);
        await connectAll(server.url, 'pub', opts.pubs, target, stats, ROOM, CHANNEL, pubs);
      })(),
      opts.setupTimeout * 1000,
      `connecting and joining ${opts.subs + opts.pubs} clients to ${target.label}`,
    );
    await sleep(200); // let join presence frames settle
    stats.control.clear();
    return await publish(server, target, opts, stats, subs, pubs);
  } finally {
    stats.tearingDown = true;
    for (const c of [...subs, ...pubs]) c.terminate();
  }
}

async function publish(
  server: ServerProcess,
  target: BenchTarget,
  opts: BenchOptions,
  stats: DeliveryStats,
  subs: readonly BenchConnection[],
  pubs: readonly BenchConnection[],
): Promise<RunResult> {
  const prefix = `{"type":"event","room":"${ROOM}","channel":"${CHANNEL}","payload":{"t":`;
  const suffix = `,"pad":"${payloadPad(opts.payload)}"}}`;
  const interval = (1000 * pubs.length) / opts.rate; // ms between two messages of one publisher
  const t0 = nowMs() + 50;
  const windowStart = t0 + opts.warmup * 1000;
  const windowEnd = windowStart + opts.duration * 1000;
  stats.windowStart = windowStart;
  stats.windowEnd = windowEnd;

  const sentBy = new Array<number>(pubs.length).fill(0);
  let sentInWindow = 0;
  let pubMaxBuffered = 0;
  const lag = new LatencyRecorder();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const snapshot = (at: number) => ({
    at,
    server: server.cpuMs(),
    gen: process.cpuUsage(),
    serverSched: server.sched(),
    serverWrites: server.writeSyscalls(),
    genSched: procSched('self'),
  });
  let cpu0 = snapshot(0);
  let cpu1 = cpu0;
  let inWindow = false;

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = nowMs();
      if (!inWindow && now >= windowStart) {
        inWindow = true;
        cpu0 = snapshot(now);
        loop.enable();
      }
      if (now >= windowEnd) {
        cpu1 = snapshot(now);
        loop.disable();
        resolve();
        return;
      }
      for (let p = 0; p < pubs.length; p++) {
        const conn = pubs[p]!;
        // Publishers are phase-shifted so their sends interleave evenly.
        let due = t0 + (sentBy[p]! + p / pubs.length) * interval;
        while (due <= now && due < windowEnd) {
          const t = nowMs();
          if (conn.open) conn.ws.send(prefix + t + suffix);
          if (t >= windowStart && t < windowEnd) {
            sentInWindow++;
            lag.add(t - due);
          }
          sentBy[p]!++;
          due += interval;
        }
        if (conn.ws.bufferedAmount > pubMaxBuffered) pubMaxBuffered = conn.ws.bufferedAmount;
      }
      setTimeout(tick, Math.max(0, Math.min(windowEnd, nextDue(t0, sentBy, interval, pubs.length)) - nowMs()));
    };
    setTimeout(tick, Math.max(0, t0 - nowMs()));
  });

  // Drain: no more publishing; wait until every expected delivery arrived or the drain limit.
  const openSubs = (): number => subs.reduce((n, c) => n + (c.open ? 1 : 0), 0);
  const expected = sentInWindow * opts.subs;
  const drainStart = nowMs();
  while (stats.received < expected && nowMs() - drainStart < opts.drain * 1000) await sleep(10);
  const drainMs = nowMs() - drainStart;
  if (openSubs() < subs.length) stats.bump(stats.control, `subscribers-closed:${subs.length - openSubs()}`);

  const windowS = (cpu1.at - cpu0.at) / 1000;
  const genCpuUs = cpu1.gen.user - cpu0.gen.user + (cpu1.gen.system - cpu0.gen.system);
  const pctOfWindow = (ms: number): number => (ms / (windowS * 1000)) * 100;
  const lagSummary = lag.summary();
  return {
    target: target.name,
    label: target.label,
    round: 1,
    subs: opts.subs,
    pubs: opts.pubs,
    offeredMsgs: opts.rate,
    offeredDeliveries: opts.rate * opts.subs,
    sent: sentInWindow,
    sentRate: sentInWindow / opts.duration,
    delivered: stats.arrivedInWindow / windowS,
    expected,
    received: stats.received,
    lost: expected - stats.received,
    latency: stats.latency.summary(),
    serverCpu: pctOfWindow(cpu1.server - cpu0.server),
    generatorCpu: pctOfWindow(genCpuUs / 1000),
    serverWait: pctOfWindow(cpu1.serverSched.waitMs - cpu0.serverSched.waitMs),
    generatorWait: pctOfWindow(cpu1.genSched.waitMs - cpu0.genSched.waitMs),
    serverWaitPerSlice: waitPerSliceUs(cpu0.serverSched, cpu1.serverSched),
    serverWritesPerSecond: (cpu1.serverWrites - cpu0.serverWrites) / windowS,
    generatorWaitPerSlice: waitPerSliceUs(cpu0.genSched, cpu1.genSched),
    sendLagP99: lagSummary.p99,
    sendLagMax: lagSummary.max,
    loopDelayP99: loop.percentile(99) / 1e6,
    drainMs,
    pubMaxBuffered,
    closes: Object.fromEntries(stats.closes),
    control: Object.fromEntries(stats.control),
  };
}

function waitPerSliceUs(a: SchedStat, b: SchedStat): number {
  return ((b.waitMs - a.waitMs) / (b.slices - a.slices)) * 1000;
}

/** The earliest scheduled send time over all publishers. */
function nextDue(t0: number, sentBy: readonly number[], interval: number, pubs: number): number {
  let min = Infinity;
  for (let p = 0; p < sentBy.length; p++) min = Math.min(min, t0 + (sentBy[p]! + p / pubs) * interval);
  return min;
}
