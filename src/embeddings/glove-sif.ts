/**
 * GloVe-SIF ("glove-sif-100"): the fast static sentence model, 100 dimensions, well under a
 * millisecond per query, so it runs on the calling thread (no worker needed).
 *
 * `node scripts/models/build-glove-sif.mjs` (run by `npm run build:models`) builds it into
 * models/glove-sif/, loaded like use-lite through transformers.js's feature-extraction
 * pipeline: a WordLevel tokenizer.json and an ONNX graph that gathers one row per token from
 * a float16 table, takes the masked mean and L2-normalises it. SIF weighting a/(a + p(w)) and
 * removal of the first principal component u are linear, so the build bakes them into the rows:
 *
 *   row_w = a/(a + p(w)) · v_w − ((a/(a + p(w)) · v_w)·u) u,   SIF(s) = (1/n) Σ_{w∈s} row_w
 *
 * with n counting every token of s (an unknown token has a zero row): exactly SIF, then
 * L2-normalised. A text with no known token (or none at all) gets the zero vector, never NaN.
 * Its cosine with anything is 0: the semantic router must treat a zero vector as "no match",
 * not as a weak match. Details and figures: models/glove-sif/README.md.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { env, pipeline, type FeatureExtractionPipeline } from '@xenova/transformers';

import { EmbeddingError } from './errors.js';
import { MODELS_DIR } from './models-dir.js';
import { intraOpThreadsOption, ONNX_DEFAULT_THREADS, setIntraOpThreads } from './onnx-threads.js';
import type { EmbeddingProvider } from './provider.js';

export const GLOVE_SIF_MODEL_ID = 'glove-sif-100';
export const GLOVE_SIF_DIMENSION = 100;
const MODEL_NAME = 'glove-sif';
/** onnxruntime's default pool: one thread measured no faster for this model (onnx-threads.ts). */
const DEFAULT_INTRA_OP_THREADS = ONNX_DEFAULT_THREADS;

export interface GloveSifOptions {
  /** Folder holding `glove-sif/`; defaults to the repository's models/. */
  readonly modelsDir?: string;
  /** Texts per model call; bounds the padded [batch, tokens] tensors. Default 64. */
  readonly maxBatchSize?: number;
  /** onnxruntime intra-op threads; 0 (the default) keeps onnxruntime's default pool (see onnx-threads.ts). */
  readonly intraOpThreads?: number;
}

export class GloveSifProvider implements EmbeddingProvider {
  readonly modelId = GLOVE_SIF_MODEL_ID;
  readonly dimension = GLOVE_SIF_DIMENSION;
  #pipe: FeatureExtractionPipeline | null;
  readonly #maxBatchSize: number;

  private constructor(pipe: FeatureExtractionPipeline, maxBatchSize: number) {
    this.#pipe = pipe;
    this.#maxBatchSize = maxBatchSize;
  }

  /** Loads the built model; fails with MODEL_NOT_BUILT when `npm run build:models` has not run. */
  static async load(options: GloveSifOptions = {}): Promise<GloveSifProvider> {
    const modelsDir = options.modelsDir ?? MODELS_DIR;
    const maxBatchSize = options.maxBatchSize ?? 64;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
    const intraOpThreads = intraOpThreadsOption(options.intraOpThreads, DEFAULT_INTRA_OP_THREADS);
    await checkBuildRecord(join(modelsDir, MODEL_NAME));
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = modelsDir.endsWith('/') ? modelsDir : `${modelsDir}/`;
    try {
      const pipe = await pipeline('feature-extraction', MODEL_NAME, { quantized: false, local_files_only: true });
      await setIntraOpThreads(pipe, join(modelsDir, MODEL_NAME, 'onnx', 'model.onnx'), intraOpThreads);
      return new GloveSifProvider(pipe, maxBatchSize);
    } catch (err) {
      throw new EmbeddingError('MODEL_INCOMPATIBLE', GLOVE_SIF_MODEL_ID, `could not load ${join(modelsDir, MODEL_NAME)}`, { cause: err });
    }
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const result: Float32Array[] = [];
    for (let from = 0; from < texts.length; from += this.#maxBatchSize) {
      const batch = texts.slice(from, from + this.#maxBatchSize);
      // The graph outputs the finished vector [batch, 100]: no pooling, no re-normalisation.
      // It also copes with a batch of empty texts (a [n, 0] input gives zero vectors).
      const output = await this.#open()(batch, { pooling: 'none', normalize: false });
      const data = output.data as Float32Array;
      if (output.dims.length !== 2 || output.dims[0] !== batch.length || output.dims[1] !== GLOVE_SIF_DIMENSION) {
        throw new EmbeddingError(
          'MODEL_INCOMPATIBLE',
          GLOVE_SIF_MODEL_ID,
          `model output has dims [${output.dims.join(', ')}], expected [${batch.length}, ${GLOVE_SIF_DIMENSION}]`,
        );
      }
      for (let row = 0; row < batch.length; row++) {
        result.push(data.slice(row * GLOVE_SIF_DIMENSION, (row + 1) * GLOVE_SIF_DIMENSION));
      }
    }
    return result;
  }

  async close(): Promise<void> {
    const pipe = this.#pipe;
    this.#pipe = null;
    await pipe?.dispose();
  }

  #open(): FeatureExtractionPipeline {
    if (this.#pipe === null) throw new EmbeddingError('PROVIDER_CLOSED', GLOVE_SIF_MODEL_ID, 'the glove-sif provider is closed');
    return this.#pipe;
  }
}

/** The build record, written last by the build, marks a complete build of this model. */
async function checkBuildRecord(modelDir: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(modelDir, 'glove-sif.json'), 'utf8');
  } catch {
    throw new EmbeddingError(
      'MODEL_NOT_BUILT',
      GLOVE_SIF_MODEL_ID,
      `${modelDir} is not built: run \`npm run build:models\` (npm ci runs it)`,
    );
  }
  const record = parseJson(text) as { modelId?: unknown; dimension?: unknown } | null;
  if (record?.modelId !== GLOVE_SIF_MODEL_ID || record?.dimension !== GLOVE_SIF_DIMENSION) {
    throw new EmbeddingError('MODEL_INCOMPATIBLE', GLOVE_SIF_MODEL_ID, `${modelDir}/glove-sif.json does not describe ${GLOVE_SIF_MODEL_ID}`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
