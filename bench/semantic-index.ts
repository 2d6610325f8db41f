/**
 * Semantic routing latency: candidate generation + re-ranking (vectors given,
 * no embedding) at growing numbers of capability text vectors, the tiered
 * index (exact scan up to its threshold, HNSW above) against the exact-scan
 * baseline on the same data in the same run. Nothing asserts; it prints.
 *
 *   node --import tsx bench/semantic-index.ts
 *   node --import tsx bench/semantic-index.ts --sizes 1000,10000 --queries 300 --m 16 --ef-construction 100
 *
 * Data: capabilities of `--texts` texts each (description + examples), in
 * topics of 20 capabilities; a capability's texts lie near its own centre,
 * centres near their topic's (cosine ≈ 0.96 and ≈ 0.89), like sentence
 * embeddings of paraphrases. Queries lie near a random capability centre
 * (cosine ≈ 0.93). Seeded, so every run routes the same queries.
 *
 * Columns: build time of each router; route latency p50/p95 (µs) of each;
 * the exact/indexed ratio of p50s; top-1 agreement of `best` routes and
 * recall@10 of `find` (the indexed router against the exact one).
 * The graph defaults here are lighter than the router's (M 16, efConstruction
 * 100): hnswlib inserts one vector at a time on one thread, about 0.5 ms per
 * 512-dimension vector at M 12 / efConstruction 48, so 100k vectors take
 * ~50 s to build and the whole run stays under two minutes on two cores.
 * Pass --m / --ef-construction / --ef-search to measure others.
 */
import { parseArgs } from 'node:util';
import { SemanticRouter, type CapabilityWithVectors } from '../src/router/semantic/semantic-router.js';
// The seeded generators the router tests use: unit(centre + noise · random unit vector) has cosine ≈ 1/√(1 + noise²) to the centre.
import { near, prng, randomUnit } from '../test/router/semantic/fixtures.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000,100000' },
    dim: { type: 'string', default: '512' },
    texts: { type: 'string', default: '5' },
    queries: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '20' },
    m: { type: 'string', default: '12' },
    'ef-construction': { type: 'string', default: '48' },
    'ef-search': { type: 'string', default: '128' },
    'exact-threshold': { type: 'string', default: '2000' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'node --import tsx bench/semantic-index.ts [--sizes 100,1000,10000,100000] [--dim 512] [--texts 5] [--queries 100]\n' +
      '  [--warmup 20] [--m 12] [--ef-construction 48] [--ef-search 128] [--exact-threshold 2000]\n',
  );
  process.exit(0);
}
const int = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const SIZES = (values.sizes ?? '').split(',').map((s) => int('sizes', s.trim()));
const DIM = int('dim', values.dim);
const TEXTS = int('texts', values.texts);
const QUERIES = int('queries', values.queries);
const WARMUP = int('warmup', values.warmup);
const GRAPH = { m: int('m', values.m), efConstruction: int('ef-construction', values['ef-construction']), efSearch: int('ef-search', values['ef-search']) };
const EXACT_THRESHOLD = int('exact-threshold', values['exact-threshold']);
const MODEL = `bench-${DIM}`;
const TENANT = 'bench';


interface Dataset {
  readonly capabilities: CapabilityWithVectors[];
  readonly centres: Float32Array[];
}

function dataset(vectors: number, seed: number): Dataset {
  const rand = prng(seed);
  const count = Math.max(1, Math.round(vectors / TEXTS));
  const topics = Array.from({ length: Math.max(1, Math.ceil(count / 20)) }, () => randomUnit(DIM, rand));
  const centres: Float32Array[] = [];
  const capabilities: CapabilityWithVectors[] = [];
  for (let c = 0; c < count; c++) {
    const centre = near(topics[c % topics.length]!, 0.5, rand);
    centres.push(centre);
    const examples = Array.from({ length: TEXTS - 1 }, (_, j) => `example ${j} of capability ${c}`);
    capabilities.push({
      capability: { name: `cap-${c}`, description: `capability ${c} in topic ${c % topics.length}`, examples },
      vectors: { [MODEL]: Array.from({ length: TEXTS }, () => near(centre, 0.3, rand)) },
    });
  }
  return { capabilities, centres };
}

function build(data: Dataset, exactThreshold: number): { router: SemanticRouter; ms: number } {
  const router = new SemanticRouter({
    models: [{ modelId: MODEL, dimension: DIM }],
    // No load-balancing margin: `best` is then the top-ranked agent, so the two routers' picks compare.
    options: { index: { ...GRAPH, exactThreshold, build: 'sync' }, maxCandidateTexts: 4096, balanceMargin: 0 },
  });
  const t0 = performance.now();
  // One agent per capability.
  data.capabilities.forEach((cap, i) => router.registerEmbedded(TENANT, `agent-${i}`, [cap]));
  return { router, ms: performance.now() - t0 };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Timing {
  readonly p50: number;
  readonly p95: number;
  readonly top1: string[];
}

async function timeRoutes(router: SemanticRouter, warmup: readonly Float32Array[], queries: readonly Float32Array[]): Promise<Timing> {
  for (const q of warmup) await router.route({ tenant: TENANT, vector: q, modelId: MODEL });
  const us: number[] = [];
  const top1: string[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const out = await router.route({ tenant: TENANT, vector: q, modelId: MODEL, minScore: -1 });
    us.push((performance.now() - t0) * 1000);
    top1.push(out.matched ? out.matches[0]!.agentId : '-');
  }
  us.sort((a, b) => a - b);
  return { p50: quantile(us, 0.5), p95: quantile(us, 0.95), top1 };
}

async function recallAt10(indexed: SemanticRouter, exact: SemanticRouter, queries: readonly Float32Array[]): Promise<number> {
  let hit = 0;
  let total = 0;
  for (const q of queries) {
    const intent = { tenant: TENANT, vector: q, modelId: MODEL };
    const truth = (await exact.find(intent, 10)).map((m) => m.agentId);
    const got = new Set((await indexed.find(intent, 10)).map((m) => m.agentId));
    hit += truth.filter((a) => got.has(a)).length;
    total += truth.length;
  }
  return total === 0 ? NaN : hit / total;
}

interface Row {
  readonly vectors: number;
  readonly capabilities: number;
  readonly tier: string;
  readonly buildIndexed: number;
  readonly buildExact: number;
  readonly indexed: Timing;
  readonly exact: Timing;
  readonly agree: number;
  readonly recall: number;
}

async function runSize(vectors: number): Promise<Row> {
  const data = dataset(vectors, 1000 + vectors);
  const rand = prng(7 + vectors);
  const queries = Array.from({ length: QUERIES + WARMUP }, () => near(data.centres[Math.floor(rand() * data.centres.length)]!, 0.4, rand));
  const measured = queries.slice(WARMUP);
  const exact = build(data, Number.MAX_SAFE_INTEGER);
  const indexed = build(data, EXACT_THRESHOLD);
  const tier = indexed.router.stats(TENANT)[0]?.kind ?? '-';
  const warmup = queries.slice(0, WARMUP);
  const e = await timeRoutes(exact.router, warmup, measured);
  const i = await timeRoutes(indexed.router, warmup, measured);
  const agree = i.top1.filter((a, n) => a === e.top1[n]).length / measured.length;
  const recall = await recallAt10(indexed.router, exact.router, measured.slice(0, Math.min(50, measured.length)));
  exact.router.close();
  indexed.router.close();
  return {
    vectors,
    capabilities: data.capabilities.length,
    tier,
    buildIndexed: indexed.ms,
    buildExact: exact.ms,
    indexed: { ...i, top1: [] },
    exact: { ...e, top1: [] },
    agree,
    recall,
  };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

function print(rows: readonly Row[]): void {
  const head = ['vectors', 'caps', 'tier', 'build idx ms', 'build exact ms', 'p50 idx µs', 'p95 idx µs', 'p50 exact µs', 'p95 exact µs', 'exact/idx p50', 'top-1 agree', 'recall@10'];
  const body = rows.map((r) => [
    fmt(r.vectors),
    fmt(r.capabilities),
    r.tier,
    fmt(r.buildIndexed),
    fmt(r.buildExact),
    fmt(r.indexed.p50),
    fmt(r.indexed.p95),
    fmt(r.exact.p50),
    fmt(r.exact.p95),
    `${fmt(r.exact.p50 / r.indexed.p50, 2)}x`,
    `${fmt(r.agree * 100, 1)}%`,
    `${fmt(r.recall * 100, 1)}%`,
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => cell.padStart(widths[c]!)).join('  ');
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
}

const started = performance.now();
process.stderr.write(
  `semantic-index: dim ${DIM}, ${TEXTS} texts/capability, ${QUERIES} queries (+${WARMUP} warm-up), ` +
    `exact threshold ${EXACT_THRESHOLD}, HNSW M ${GRAPH.m} efConstruction ${GRAPH.efConstruction} efSearch ${GRAPH.efSearch}\n`,
);
const rows: Row[] = [];
for (const size of SIZES) {
  process.stderr.write(`  ${size.toLocaleString('en-US')} vectors ...`);
  const t0 = performance.now();
  rows.push(await runSize(size));
  process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
print(rows);
process.stdout.write(
  `${JSON.stringify({ bench: 'semantic-index', dim: DIM, graph: GRAPH, rows: rows.map(({ indexed, exact, ...r }) => ({ ...r, indexedP50: indexed.p50, indexedP95: indexed.p95, exactP50: exact.p50, exactP95: exact.p95 })) })}\n`,
);
process.stderr.write(`total ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
