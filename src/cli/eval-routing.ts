#!/usr/bin/env node
/**
 * `npm run eval:routing -- --dataset FILE [--model glove-sif|use-lite] [--weights C,E,L] [--threshold T|default] [--margin M] [--fit] [--json-only]`
 *
 * Offline routing evaluation with the production code path: a SemanticRouter
 * over the chosen embedding provider registers the dataset's agents (one
 * tenant), routes every validation and query text, and reports top-1
 * accuracy on in-scope queries, no-match recall on out-of-scope ones (expect
 * null) and per-query latency (embedding included). The no-match threshold is
 * chosen on `validation` (eval-metrics.ts: maximise balanced accuracy) unless
 * `--threshold` fixes it (`--threshold default`: the router's default for the
 * model, as a server would route). `--fit` fits the router's defaults on
 * `validation` instead (eval-fit.ts) and routes no query.
 * Never tune on `queries`. The JSON summary is always the last stdout line.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { GloveSifProvider } from '../embeddings/glove-sif.js';
import type { EmbeddingProvider } from '../embeddings/provider.js';
import { WorkerEmbeddingProvider } from '../embeddings/worker-provider.js';
import { SemanticRouter } from '../router/semantic/semantic-router.js';
import { scoringFor, type SemanticOptionsInput } from '../router/semantic/options.js';
import { parseEvalDataset, type EvalDataset, type EvalQuery } from './eval-dataset.js';
import { collectComponents, fitDefaults, formatFit, type FitResult } from './eval-fit.js';
import { chooseThreshold, latency, metricsAt, nearTieRate, type Latency, type QueryResult, type ThresholdMetrics } from './eval-metrics.js';

const MODELS = ['glove-sif', 'use-lite'] as const;
type ModelName = (typeof MODELS)[number];
const TENANT = 'eval';

export interface EvalArgs {
  readonly dataset: string;
  readonly model: ModelName;
  readonly weights: SemanticOptionsInput['weights'] | undefined;
  /** A number fixes the threshold; 'default' takes the router's; undefined chooses it on validation. */
  readonly threshold: number | 'default' | undefined;
  /** Overrides the model's balancing margin (reported near-ties). */
  readonly margin: number | undefined;
  readonly fit: boolean;
  readonly jsonOnly: boolean;
}

export class EvalUsageError extends Error {
  override readonly name = 'EvalUsageError';
}

const USAGE = 'usage: eval-routing --dataset FILE [--model glove-sif|use-lite] [--weights C,E,L] [--threshold T|default] [--margin M] [--fit] [--json-only]';

export function parseEvalArgs(argv: readonly string[]): EvalArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        dataset: { type: 'string' },
        model: { type: 'string', default: 'glove-sif' },
        weights: { type: 'string' },
        threshold: { type: 'string' },
        margin: { type: 'string' },
        fit: { type: 'boolean', default: false },
        'json-only': { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new EvalUsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.dataset === undefined) throw new EvalUsageError(`--dataset is required\n${USAGE}`);
  const model = values.model as string;
  if (!(MODELS as readonly string[]).includes(model)) throw new EvalUsageError(`--model must be one of ${MODELS.join(', ')}`);
  let weights: EvalArgs['weights'];
  if (values.weights !== undefined) {
    const w = values.weights.split(',').map(Number);
    if (w.length !== 3 || w.some((x) => !Number.isFinite(x))) throw new EvalUsageError('--weights takes three numbers: centroid,examples,lexical');
    weights = { centroid: w[0]!, examples: w[1]!, lexical: w[2]! };
  }
  let threshold: EvalArgs['threshold'];
  if (values.threshold === 'default') threshold = 'default';
  else if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (!Number.isFinite(threshold) || threshold < -1 || threshold > 1) throw new EvalUsageError('--threshold must be a number in [-1, 1]');
  }
  let margin: number | undefined;
  if (values.margin !== undefined) {
    margin = Number(values.margin);
    if (!Number.isFinite(margin) || margin < 0 || margin > 1) throw new EvalUsageError('--margin must be a number in [0, 1]');
  }
  const fit = values.fit === true;
  if (fit && threshold !== undefined) throw new EvalUsageError('--fit chooses the threshold itself: drop --threshold');
  return { dataset: values.dataset, model: model as ModelName, weights, threshold, margin, fit, jsonOnly: values['json-only'] === true };
}

async function loadProvider(model: ModelName): Promise<EmbeddingProvider> {
  return model === 'glove-sif' ? GloveSifProvider.load() : WorkerEmbeddingProvider.start({ model: 'use-lite' });
}

/** Routes one text with no threshold (min_score -1): its best agent, score, runner-up score and time. */
async function routeOne(router: SemanticRouter, q: EvalQuery): Promise<QueryResult> {
  const start = process.hrtime.bigint();
  const outcome = await router.route({ tenant: TENANT, text: q.text, mode: 'k', k: 2, minScore: -1 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const [first, second] = outcome.matched ? outcome.matches : [];
  return { expect: q.expect, top: first?.agentId ?? null, score: first?.score ?? -Infinity, second: second?.score ?? -Infinity, ms };
}

async function routeAll(router: SemanticRouter, queries: readonly EvalQuery[]): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  // Sequential on purpose: per-query latency, not throughput.
  for (const q of queries) out.push(await routeOne(router, q));
  return out;
}

export interface EvalSummary {
  readonly dataset: string;
  readonly source: string | null;
  readonly model: ModelName;
  readonly modelId: string;
  readonly agents: number;
  readonly weights: SemanticRouter['options']['weights'];
  readonly balanceMargin: number;
  readonly thresholdFrom: 'validation' | 'flag' | 'default';
  readonly threshold: number;
  readonly validation: ThresholdMetrics | null;
  readonly queries: ThresholdMetrics & { readonly nearTieRate: number | null };
  readonly latencyMs: Latency;
  readonly registerMs: number;
}

/** The production router over the model's provider, with every agent of the dataset registered (index built at once). */
async function withRouter<T>(
  args: EvalArgs,
  dataset: EvalDataset,
  log: (line: string) => void,
  body: (router: SemanticRouter, modelId: string, registerMs: number) => Promise<T>,
): Promise<T> {
  const provider = await loadProvider(args.model);
  const router = new SemanticRouter({
    providers: [provider],
    options: {
      ...(args.weights === undefined ? {} : { weights: args.weights }),
      ...(args.margin === undefined ? {} : { balanceMargin: args.margin }),
      index: { build: 'sync' },
    },
  });
  try {
    const t0 = process.hrtime.bigint();
    for (const agent of dataset.agents) await router.register(TENANT, agent.id, agent.capabilities);
    await router.idle(TENANT);
    const registerMs = Number(process.hrtime.bigint() - t0) / 1e6;
    log(`registered ${dataset.agents.length} agents in ${registerMs.toFixed(0)} ms (${provider.modelId})`);
    return await body(router, provider.modelId, registerMs);
  } finally {
    router.close();
    await provider.close();
  }
}

export interface FitSummary extends FitResult {
  readonly dataset: string;
  readonly source: string | null;
  readonly model: ModelName;
  readonly modelId: string;
  readonly agents: number;
}

/** `--fit`: fits weights, threshold and margin on `validation` only (eval-fit.ts); `queries` is not read. */
export async function fit(args: EvalArgs, dataset: EvalDataset, log: (line: string) => void = () => {}): Promise<FitSummary> {
  if (dataset.validation.length === 0) throw new EvalUsageError('--fit needs a dataset with validation texts');
  return withRouter(args, dataset, log, async (router, modelId) => {
    const rows = await collectComponents(router, TENANT, dataset.validation);
    log(`validation: ${rows.length} texts scored`);
    return { dataset: args.dataset, source: dataset.source, model: args.model, modelId, agents: dataset.agents.length, ...fitDefaults(rows) };
  });
}

export async function evaluate(args: EvalArgs, dataset: EvalDataset, log: (line: string) => void = () => {}): Promise<EvalSummary> {
  return withRouter(args, dataset, log, async (router, modelId, registerMs) => {
    const profile = scoringFor(router.options, modelId);
    // Warm-up (first inference allocates): not timed, and its result is not used.
    for (let i = 0; i < 5; i++) await routeOne(router, dataset.queries[0]!);

    let validation: ThresholdMetrics | null = null;
    let threshold = typeof args.threshold === 'number' ? args.threshold : profile.threshold;
    let thresholdFrom: EvalSummary['thresholdFrom'] = typeof args.threshold === 'number' ? 'flag' : 'default';
    if (dataset.validation.length > 0) {
      const results = await routeAll(router, dataset.validation);
      if (args.threshold === undefined) {
        const chosen = chooseThreshold(results);
        if (chosen !== null) {
          threshold = chosen.threshold;
          thresholdFrom = 'validation';
        } else {
          log('validation lacks in-scope or out-of-scope texts: keeping the default threshold');
        }
      }
      validation = metricsAt(results, threshold);
      log(`validation: ${results.length} texts routed`);
    }
    const results = await routeAll(router, dataset.queries);
    return {
      dataset: args.dataset,
      source: dataset.source,
      model: args.model,
      modelId,
      agents: dataset.agents.length,
      weights: profile.weights,
      balanceMargin: profile.balanceMargin,
      thresholdFrom,
      threshold,
      validation,
      queries: { ...metricsAt(results, threshold), nearTieRate: nearTieRate(results, profile.balanceMargin) },
      latencyMs: latency(results.map((r) => r.ms)),
      registerMs,
    };
  });
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

export function formatReport(s: EvalSummary): string {
  const w = s.weights;
  const lines = [
    `model ${s.modelId}; ${s.agents} agents; weights centroid ${w.centroid} / examples ${w.examples} / lexical ${w.lexical}; margin ${s.balanceMargin}`,
    `threshold ${s.threshold.toFixed(4)} (from ${s.thresholdFrom})`,
  ];
  if (s.validation !== null) {
    const v = s.validation;
    lines.push(`validation  in-scope accuracy ${pct(v.inScopeAccuracy)}  top-1 ${pct(v.top1Accuracy)}  no-match recall ${pct(v.noMatchRecall)}  (${v.inScope} in / ${v.outOfScope} out)`);
  }
  const q = s.queries;
  lines.push(
    `queries     in-scope accuracy ${pct(q.inScopeAccuracy)}  top-1 ${pct(q.top1Accuracy)}  no-match recall ${pct(q.noMatchRecall)}  (${q.inScope} in / ${q.outOfScope} out)`,
    `            near-ties within margin ${pct(q.nearTieRate)} (load-balanced in best mode)`,
    `latency     p50 ${s.latencyMs.p50.toFixed(3)} ms  p99 ${s.latencyMs.p99.toFixed(3)} ms  mean ${s.latencyMs.mean.toFixed(3)} ms per query (embedding included)`,
  );
  if (s.source !== null) lines.push(`data: ${s.source}`);
  return lines.join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: EvalArgs;
  let dataset: EvalDataset;
  try {
    args = parseEvalArgs(argv);
    dataset = parseEvalDataset(JSON.parse(await readFile(resolve(args.dataset), 'utf8')));
  } catch (err) {
    process.stderr.write(`eval-routing: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const log = (line: string): void => {
    if (!args.jsonOnly) process.stderr.write(`${line}\n`);
  };
  if (args.fit) {
    const fitted = await fit(args, dataset, log);
    if (!args.jsonOnly) process.stdout.write(`${formatFit(fitted.modelId, fitted, { centroid: 0.4, examples: 0.4, lexical: 0.2 })}\n`);
    process.stdout.write(`${JSON.stringify(fitted)}\n`);
    return 0;
  }
  const summary = await evaluate(args, dataset, log);
  if (!args.jsonOnly) process.stdout.write(`${formatReport(summary)}\n`);
  // Infinity never reaches JSON: every figure is finite or null.
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`eval-routing: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
