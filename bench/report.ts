/** The printed table, the ArqonBus/bare ratios and the one-line JSON summary. */
import type { RunResult } from './load.js';
import type { BenchOptions, TargetName } from './options.js';

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmtMs = (n: number): string => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : 'n/a');
const fmtPct = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(0)}%` : 'n/a');
const fmtRatio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a');

/**
 * Contention: the main thread waited for a core more than 10 % of the window,
 * and more than 200 µs per wake-up on average. Plain wake-up latency on an idle
 * VM is ~50-150 µs per slice; another process holding the cores makes it ~0.5 ms+.
 */
function contended(waitPct: number, waitPerSliceUs: number): boolean {
  return waitPct > 10 && waitPerSliceUs > 200;
}

/** Server CPU time per delivery, µs: robust to CPU contention, unlike the rates and latencies. */
export function cpuPerDelivery(r: RunResult): number {
  return r.delivered > 0 ? (r.serverCpu / 100 / r.delivered) * 1e6 : NaN;
}

function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Server write syscalls per delivery: ~1 when every frame is its own write, less when writes are coalesced. */
export function writesPerDelivery(r: RunResult): number {
  return r.delivered > 0 ? r.serverWritesPerSecond / r.delivered : NaN;
}

/** Median of each headline figure over the rounds of one target. */
export interface Headline {
  readonly delivered: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuPerDelivery: number;
  readonly lost: number;
}

function headline(results: readonly RunResult[], target: TargetName): Headline | undefined {
  const runs = results.filter((r) => r.target === target);
  if (runs.length === 0) return undefined;
  return {
    delivered: median(runs.map((r) => r.delivered)),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    cpuPerDelivery: median(runs.map(cpuPerDelivery)),
    lost: runs.reduce((n, r) => n + r.lost, 0),
  };
}

export interface Ratios {
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuPerDelivery: number;
}

export function ratios(results: readonly RunResult[]): Ratios | undefined {
  const a = headline(results, 'arqon');
  const b = headline(results, 'bare');
  if (a === undefined || b === undefined) return undefined;
  return { throughput: a.delivered / b.delivered, p50: a.p50 / b.p50, p99: a.p99 / b.p99, cpuPerDelivery: a.cpuPerDelivery / b.cpuPerDelivery };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

export function printReport(opts: BenchOptions, results: readonly RunResult[]): void {
  const out = (s = ''): void => void process.stdout.write(s + '\n');
  out();
  out(
    `load: ${opts.subs} subscribers + ${opts.pubs} publishers in one channel, ${fmtInt(opts.rate)} msg/s total open loop ` +
      `(${fmtInt(opts.rate * opts.subs)} deliveries/s offered), payload ~${opts.payload} B, ` +
      `window ${opts.duration}s after ${opts.warmup}s warm-up${opts.rounds > 1 ? `, ${opts.rounds} rounds` : ''}`,
  );
  out();
  const head = ['server', 'sent msg/s', 'delivered/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'lost', 'srv CPU', 'CPU µs/dlv', 'writes/dlv', 'gen CPU', 'gen lag p99', 'cpu wait srv/gen'];
  const rows = results.map((r) => [
    opts.rounds > 1 ? `${r.label} #${r.round}` : r.label,
    fmtInt(r.sentRate),
    fmtInt(r.delivered),
    fmtMs(r.latency.p50),
    fmtMs(r.latency.p90),
    fmtMs(r.latency.p99),
    fmtMs(r.latency.p999),
    fmtMs(r.latency.max),
    `${fmtInt(r.lost)}/${fmtInt(r.expected)}`,
    fmtPct(r.serverCpu),
    cpuPerDelivery(r).toFixed(2),
    writesPerDelivery(r).toFixed(2),
    fmtPct(r.generatorCpu),
    fmtMs(r.sendLagP99),
    `${fmtPct(r.serverWait)}/${fmtPct(r.generatorWait)}`,
  ]);
  out(table([head, ...rows]));
  for (const r of results) {
    const notes: string[] = [];
    if (Object.keys(r.closes).length > 0) notes.push(`closed early: ${JSON.stringify(r.closes)}`);
    if (Object.keys(r.control).length > 0) notes.push(`control frames: ${JSON.stringify(r.control)}`);
    if (contended(r.serverWait, r.serverWaitPerSlice) || contended(r.generatorWait, r.generatorWaitPerSlice)) {
      notes.push('CPU contention (runnable but waiting for a core): rates and latencies are unreliable, compare CPU µs/dlv');
    }
    if (r.sendLagP99 > 5) notes.push(`generator sent late (p99 ${fmtMs(r.sendLagP99)} ms)`);
    if (r.generatorCpu > 85) notes.push('generator near one full core: it may be the limit');
    if (r.pubMaxBuffered > 256 * 1024) {
      notes.push(`publishers backed up (bufferedAmount up to ${fmtInt(r.pubMaxBuffered / 1024)} KiB): the server fell behind reading`);
    }
    if (r.lost > 0) notes.push(`${fmtInt(r.lost)} deliveries missing after ${fmtMs(r.drainMs)} ms drain`);
    if (notes.length > 0) out(`  ${opts.rounds > 1 ? `${r.label} #${r.round}` : r.label}: ${notes.join('; ')}`);
  }
  const q = ratios(results);
  if (q !== undefined) {
    out();
    out(
      `ArqonBus / bare${opts.rounds > 1 ? ' (medians)' : ''}: throughput ${fmtRatio(q.throughput)}  p50 ${fmtRatio(q.p50)}  ` +
        `p99 ${fmtRatio(q.p99)}  server CPU per delivery ${fmtRatio(q.cpuPerDelivery)}`,
    );
    out('  throughput: higher is better, 1.00x = delivers as much as bare ws; latency, CPU: lower is better, 1.00x = no overhead');
  }
  out();
  out(JSON.stringify(summary(opts, results, q)));
}

export function summary(opts: BenchOptions, results: readonly RunResult[], q: Ratios | undefined): Record<string, unknown> {
  const round = (n: number, d = 3): number | null => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);
  const runs = results.map((r) => ({
    target: r.target,
    round: r.round,
    sent_msgs_per_s: round(r.sentRate, 1),
    delivered_per_s: round(r.delivered, 0),
    expected: r.expected,
    lost: r.lost,
    p50_ms: round(r.latency.p50),
    p90_ms: round(r.latency.p90),
    p99_ms: round(r.latency.p99),
    p999_ms: round(r.latency.p999),
    max_ms: round(r.latency.max),
    server_cpu_pct: round(r.serverCpu, 1),
    server_cpu_us_per_delivery: round(cpuPerDelivery(r)),
    server_writes_per_delivery: round(writesPerDelivery(r)),
    generator_cpu_pct: round(r.generatorCpu, 1),
    generator_send_lag_p99_ms: round(r.sendLagP99),
    generator_loop_delay_p99_ms: round(r.loopDelayP99),
    publisher_max_buffered_bytes: r.pubMaxBuffered,
    server_cpu_wait_pct: round(r.serverWait, 1),
    generator_cpu_wait_pct: round(r.generatorWait, 1),
    server_wait_per_slice_us: round(r.serverWaitPerSlice, 1),
    generator_wait_per_slice_us: round(r.generatorWaitPerSlice, 1),
    closes: r.closes,
  }));
  return {
    bench: 'broadcast',
    load: { subs: opts.subs, pubs: opts.pubs, rate: opts.rate, duration_s: opts.duration, warmup_s: opts.warmup, payload_bytes: opts.payload, rounds: opts.rounds },
    runs,
    ratios: q === undefined ? null : { throughput: round(q.throughput), p50: round(q.p50), p99: round(q.p99), cpu_per_delivery: round(q.cpuPerDelivery) },
  };
}
