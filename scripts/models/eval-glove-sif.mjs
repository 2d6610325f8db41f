#!/usr/bin/env node
// Routing sanity figure for GloVe-SIF (not a test): nearest-centroid top-1 on BANKING77
// (PolyAI, CC BY 4.0) with `--shots` train examples per category as the agent description,
// evaluated on a held-out part of train.csv. test.csv is never read.
//
//   node --import tsx scripts/models/eval-glove-sif.mjs [--split heldout|dev] [--shots 10]
//        [--models-dir models] [--data ../shared/eval/banking77/train.csv]
//
// "dev" is the half of the non-support rows used to tune the build (a, PC source); "heldout"
// is the other half, used only for the reported figure. See build-glove-sif.data.mjs.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { DEFAULT_TRAIN_CSV, readBanking77, splitTrain } from './build-glove-sif.data.mjs';

const { values: opts } = parseArgs({
  options: {
    split: { type: 'string', default: 'heldout' },
    shots: { type: 'string', default: '10' },
    'models-dir': { type: 'string' },
    data: { type: 'string', default: DEFAULT_TRAIN_CSV },
    seed: { type: 'string', default: '77' },
  },
});
if (opts.split !== 'heldout' && opts.split !== 'dev') throw new Error('--split: heldout | dev');

const { GloveSifProvider } = await import('../../src/embeddings/glove-sif.ts');
const provider = await GloveSifProvider.load(opts['models-dir'] ? { modelsDir: resolve(opts['models-dir']) } : {});
const d = provider.dimension;

const { support, dev, heldout, categories } = splitTrain(readBanking77(opts.data), {
  shots: Number(opts.shots),
  seed: Number(opts.seed),
});
const queries = opts.split === 'dev' ? dev : heldout;

// Agent centroids: normalised mean of the support embeddings.
const supportVectors = await provider.embed(support.map((r) => r.text));
const centroids = new Map();
support.forEach((r, i) => {
  const c = centroids.get(r.category) ?? new Float32Array(d);
  const v = supportVectors[i];
  for (let k = 0; k < d; k++) c[k] += v[k];
  centroids.set(r.category, c);
});
for (const c of centroids.values()) {
  const n = Math.hypot(...c);
  if (n > 0) for (let k = 0; k < d; k++) c[k] /= n;
}

// Queries one at a time, as the router embeds them, timing each call.
for (const r of queries.slice(0, 200)) await provider.embed([r.text]); // warm-up
let correct = 0;
let noMatch = 0;
const times = [];
for (const r of queries) {
  const t0 = performance.now();
  const [q] = await provider.embed([r.text]);
  times.push(performance.now() - t0);
  let best = null;
  let bestScore = 0; // a zero vector scores 0 everywhere: "no match"
  for (const [category, c] of centroids) {
    let s = 0;
    for (let k = 0; k < d; k++) s += q[k] * c[k];
    if (s > bestScore) {
      bestScore = s;
      best = category;
    }
  }
  if (best === null) noMatch++;
  else if (best === r.category) correct++;
}
await provider.close();

times.sort((x, y) => x - y);
const pct = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(3);
const mean = times.reduce((s, t) => s + t, 0) / times.length;
console.log(
  `glove-sif BANKING77 nearest-centroid, ${opts.shots} shots x ${categories} categories, ` +
    `train.csv ${opts.split} split (${queries.length} queries):`,
);
console.log(`  top-1 accuracy ${((100 * correct) / queries.length).toFixed(1)}% (${correct}/${queries.length}), no match ${noMatch}`);
console.log(`  embed() latency per single query: mean ${mean.toFixed(3)} ms, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
console.log('  data: BANKING77 (PolyAI, CC BY 4.0)');
