import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseEvalDataset, EvalDatasetError } from '../../src/cli/eval-dataset.js';
import {
  agentScores,
  bestModeAccuracy,
  crossValidated,
  fitDefaults,
  MARGINS,
  resultsAt,
  weightGrid,
  type ComponentRow,
} from '../../src/cli/eval-fit.js';
import { chooseThreshold, latency, metricsAt, type QueryResult } from '../../src/cli/eval-metrics.js';
import { parseEvalArgs, EvalUsageError } from '../../src/cli/eval-routing.js';
import { FITTED_SCORING } from '../../src/router/semantic/model-defaults.js';

// Runs the real CLI (through tsx) with the real glove-sif model on a tiny hand-made dataset.

const run = promisify(execFile);
const dataset = {
  source: 'hand-made test data',
  agents: [
    {
      id: 'weather',
      capabilities: [{ name: 'forecast', description: 'Weather forecast', examples: ['will it rain tomorrow', 'what is the temperature today', 'is it sunny this weekend'] }],
    },
    {
      id: 'payments',
      capabilities: [{ name: 'refund', description: 'Refund a card payment', examples: ['I want my money back', 'refund my purchase', 'the payment was charged twice'] }],
    },
    {
      id: 'music',
      capabilities: [{ name: 'play', description: 'Play music', examples: ['play some jazz', 'put on my favourite song', 'next track please'] }],
    },
  ],
  validation: [
    { text: 'is it going to rain on friday', expect: 'weather' },
    { text: 'how cold will it be tonight', expect: 'weather' },
    { text: 'please refund this charge', expect: 'payments' },
    { text: 'I was charged for something I did not buy', expect: 'payments' },
    { text: 'play a rock song', expect: 'music' },
    { text: 'skip this track', expect: 'music' },
    { text: 'book a table for two at an italian restaurant', expect: null },
    { text: 'translate hello into german', expect: null },
  ],
  queries: [
    { text: 'will it snow tomorrow morning', expect: 'weather' },
    { text: 'what is the forecast for sunday', expect: 'weather' },
    { text: 'give me my money back for this payment', expect: 'payments' },
    { text: 'refund the double charge on my card', expect: 'payments' },
    { text: 'play my favourite jazz album', expect: 'music' },
    { text: 'put on some music', expect: 'music' },
    { text: 'reserve a hotel room in paris', expect: null },
    { text: 'what is the capital of peru', expect: null },
  ],
};

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eval-routing-'));
  file = join(dir, 'tiny.json');
  await writeFile(file, JSON.stringify(dataset));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('eval-routing CLI', () => {
  it('prints a JSON summary with sane figures as its last line', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/eval-routing.ts', '--dataset', file, '--model', 'glove-sif'], {
      cwd: join(import.meta.dirname, '..', '..'),
    });
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.some((l) => l.includes('hand-made test data'))).toBe(true);
    const s = JSON.parse(lines[lines.length - 1]!);
    expect(s).toMatchObject({ model: 'glove-sif', modelId: 'glove-sif-100', agents: 3, thresholdFrom: 'validation', source: 'hand-made test data' });
    expect(s.queries).toMatchObject({ inScope: 6, outOfScope: 2 });
    expect(s.validation).toMatchObject({ inScope: 6, outOfScope: 2 });
    expect(s.threshold).toBe(s.queries.threshold);
    expect(s.threshold).toBeGreaterThanOrEqual(-1);
    expect(s.threshold).toBeLessThanOrEqual(1);
    for (const key of ['top1Accuracy', 'inScopeAccuracy', 'noMatchRecall', 'balanced']) {
      expect(s.queries[key]).toBeGreaterThanOrEqual(0);
      expect(s.queries[key]).toBeLessThanOrEqual(1);
    }
    // Three well-separated agents: the ranking should be mostly right.
    expect(s.queries.top1Accuracy).toBeGreaterThanOrEqual(4 / 6);
    expect(s.queries.inScopeAccuracy).toBeLessThanOrEqual(s.queries.top1Accuracy);
    expect(s.latencyMs.p50).toBeGreaterThan(0);
    expect(s.latencyMs.p99).toBeGreaterThanOrEqual(s.latencyMs.p50);
  }, 60_000);

  it('--json-only prints the summary alone; a bad dataset exits 2', async () => {
    const cwd = join(import.meta.dirname, '..', '..');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/eval-routing.ts', '--dataset', file, '--json-only', '--threshold', '0.5'], { cwd });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ thresholdFrom: 'flag', threshold: 0.5 });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ agents: [], queries: [] }));
    await expect(run(process.execPath, ['--import', 'tsx', 'src/cli/eval-routing.ts', '--dataset', bad], { cwd })).rejects.toMatchObject({ code: 2 });
  }, 60_000);

  it('--threshold default routes with the model\'s fitted profile', async () => {
    const cwd = join(import.meta.dirname, '..', '..');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/eval-routing.ts', '--dataset', file, '--json-only', '--threshold', 'default'], { cwd });
    const s = JSON.parse(stdout.trim());
    const fitted = FITTED_SCORING['glove-sif-100']!;
    expect(s).toMatchObject({ thresholdFrom: 'default', threshold: fitted.threshold, weights: fitted.weights, balanceMargin: fitted.balanceMargin });
  }, 60_000);

  it('--fit fits weights, threshold and margin on validation and prints the grid', async () => {
    const cwd = join(import.meta.dirname, '..', '..');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/eval-routing.ts', '--dataset', file, '--fit'], { cwd });
    const lines = stdout.trim().split('\n');
    expect(lines.some((l) => l.startsWith('chosen: weights'))).toBe(true);
    const s = JSON.parse(lines[lines.length - 1]!);
    expect(s).toMatchObject({ modelId: 'glove-sif-100', agents: 3, texts: dataset.validation.length });
    expect(s.grid).toHaveLength(weightGrid().length);
    expect(s.chosen).toEqual(s.grid[0]);
    expect(MARGINS).toContain(s.balanceMargin);
    // Fitting never routes the queries: the summary has no query figures.
    expect(s.queries).toBeUndefined();
    await expect(run(process.execPath, ['--import', 'tsx', 'src/cli/eval-routing.ts', '--dataset', file, '--fit', '--threshold', '0.5'], { cwd })).rejects.toMatchObject({ code: 2 });
  }, 60_000);
});

describe('eval helpers', () => {
  const r = (expect: string | null, top: string | null, score: number): QueryResult => ({ expect, top, score, second: -Infinity, ms: 1 });

  it('chooses the threshold that maximises balanced accuracy', () => {
    const results = [r('a', 'a', 0.9), r('b', 'b', 0.8), r('a', 'b', 0.7), r(null, 'a', 0.5), r(null, 'b', 0.6)];
    const chosen = chooseThreshold(results)!;
    expect(chosen.threshold).toBeCloseTo(0.65);
    expect(chosen).toMatchObject({ inScopeAccuracy: 2 / 3, noMatchRecall: 1, top1Accuracy: 2 / 3 });
    expect(metricsAt(results, 0.95)).toMatchObject({ inScopeAccuracy: 0, noMatchRecall: 1 });
    expect(chooseThreshold([r('a', 'a', 0.9)])).toBeNull();
  });

  it('computes nearest-rank latency percentiles', () => {
    const ms = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(latency(ms)).toMatchObject({ p50: 50, p99: 99, mean: 50.5 });
  });

  it('rejects malformed datasets and arguments with the offending path', () => {
    expect(() => parseEvalDataset({ agents: [{ id: 'a', capabilities: [{}] }], queries: [{ text: 'x', expect: 'b' }] })).toThrow(EvalDatasetError);
    expect(() => parseEvalDataset({ agents: [{ id: 'a', capabilities: [{}] }], queries: [{ text: 'x', expect: 'b' }] })).toThrow(/queries\[0\]\.expect/);
    expect(() => parseEvalArgs([])).toThrow(EvalUsageError);
    expect(() => parseEvalArgs(['--dataset', 'x', '--model', 'bert'])).toThrow(/--model/);
    expect(parseEvalArgs(['--dataset', 'x', '--weights', '0.3,0.5,0.2']).weights).toEqual({ centroid: 0.3, examples: 0.5, lexical: 0.2 });
  });
});

describe('fitting defaults (eval-fit)', () => {
  /** A text whose expected agent `a` wins on one component only; `b` on the others. */
  const cand = (agentId: string, centroid: number, examples: number, lexical: number | null) => ({ agentId, centroid, examples, lexical });

  it('builds one grid setting per weight ratio, never without a vector component', () => {
    const grid = weightGrid([0, 0.5, 1]);
    const ratio = (w: { centroid: number; examples: number; lexical: number }): string => {
      const m = Math.max(w.centroid, w.examples, w.lexical);
      return [w.centroid / m, w.examples / m, w.lexical / m].join(',');
    };
    expect(new Set(grid.map(ratio)).size).toBe(grid.length);
    expect(grid.every((w) => w.centroid + w.examples > 0)).toBe(true);
    // 3^3 settings, less the 3 without a vector component, less the 6 whose non-zero weights are all 0.5
    // (each a scaled copy of the same setting with 1s).
    expect(grid).toHaveLength(27 - 3 - 6);
  });

  it('scores each agent by its best capability under the given weights', () => {
    const row: ComponentRow = { expect: 'a', candidates: [cand('a', 0.2, 0.2, 1), cand('a', 0.9, 0.1, 0), cand('b', 0.6, 0.6, 0)] };
    expect(agentScores(row, { centroid: 1, examples: 0, lexical: 0 })).toEqual([{ agentId: 'a', score: 0.9 }, { agentId: 'b', score: 0.6 }]);
    expect(agentScores(row, { centroid: 0, examples: 1, lexical: 0 }).map((a) => a.agentId)).toEqual(['b', 'a']);
    expect(resultsAt([row], { centroid: 0, examples: 1, lexical: 1 })[0]).toMatchObject({ top: 'a', score: 0.6, second: 0.3 });
  });

  it('chooses the weights whose threshold generalises across folds, and the margin by expected best-mode accuracy', () => {
    // In scope: the lexical component names the right agent, the vectors a wrong one.
    // Out of scope: every component is low. Only weights with lexical > 0 can separate them.
    const rows: ComponentRow[] = [];
    for (let i = 0; i < 40; i++) {
      const j = (i % 7) / 100;
      rows.push({ expect: 'a', candidates: [cand('a', 0.5, 0.5, 0.9 - j), cand('b', 0.6 + j, 0.6, 0.1)] });
      rows.push({ expect: null, candidates: [cand('a', 0.3 + j, 0.3, 0.05), cand('b', 0.3, 0.3 + j, 0.05)] });
    }
    const fit = fitDefaults(rows, weightGrid([0, 0.5, 1]));
    expect(fit.chosen.weights.lexical).toBeGreaterThan(0);
    expect(fit.chosen.cv).toBe(1);
    expect(metricsAt(resultsAt(rows, fit.chosen.weights), fit.chosen.threshold)).toMatchObject({ inScopeAccuracy: 1, noMatchRecall: 1 });
    expect(crossValidated(resultsAt(rows, { centroid: 1, examples: 1, lexical: 0 }))).toBeLessThan(1);
    // Every in-scope text has a clear winner: no margin gains anything, so the smallest is chosen.
    expect(fit.balanceMargin).toBe(0);
    expect(fit.margins.map((m) => m.margin)).toEqual([...MARGINS]);
  });

  it('credits a near-tie 1/|tie set| of a text in best mode', () => {
    const rows: ComponentRow[] = [
      { expect: 'a', candidates: [cand('b', 0.81, 0.81, null), cand('a', 0.8, 0.8, null)] },
      { expect: 'a', candidates: [cand('a', 0.9, 0.9, null), cand('b', 0.5, 0.5, null)] },
    ];
    const w = { centroid: 1, examples: 1, lexical: 0 };
    expect(bestModeAccuracy(rows, w, 0.5, 0)).toBe(0.5);
    expect(bestModeAccuracy(rows, w, 0.5, 0.02)).toBe(0.75);
    expect(bestModeAccuracy(rows, w, 0.95, 0.02)).toBe(0);
  });
});
