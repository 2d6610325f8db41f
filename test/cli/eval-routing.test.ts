import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseEvalDataset, EvalDatasetError } from '../../src/cli/eval-dataset.js';
import { chooseThreshold, latency, metricsAt, type QueryResult } from '../../src/cli/eval-metrics.js';
import { parseEvalArgs, EvalUsageError } from '../../src/cli/eval-routing.js';

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
    expect(s.latencyMs.p50).toBeLessThan(1000);
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
