/**
 * Universal Sentence Encoder lite ("use-lite-512") on onnxruntime-node through
 * @xenova/transformers, from the model that `npm run build:models` converts into
 * models/use-lite (see docs/models.md). Fully offline: remote models are off.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@xenova/transformers';
import { EmbeddingError } from './errors.js';
import { MODELS_DIR } from './models-dir.js';
import { intraOpThreadsOption, setIntraOpThreads } from './onnx-threads.js';
import type { EmbeddingProvider } from './provider.js';
import { UseLiteSegmenter } from './use-lite-segmenter.js';

const MODEL_ID = 'use-lite-512';
const MODEL_NAME = 'use-lite';
const DIMENSION = 512;
const SEPARATOR = '\u2581';
/** One onnxruntime thread: measured faster than the default pool on the 2-core target (onnx-threads.ts). */
const DEFAULT_INTRA_OP_THREADS = 1;

export interface UseLiteOptions {
  /** Folder holding `use-lite/`; defaults to the repository's models/. */
  readonly modelsDir?: string;
  /** Texts per model call; bounds the padded [batch, 128] tensors. Default 32. */
  readonly maxBatchSize?: number;
  /** onnxruntime intra-op threads; 0 keeps onnxruntime's default pool (see onnx-threads.ts). Default 1. */
  readonly intraOpThreads?: number;
}

/** The part of transformers.js's Unigram tokenizer model this provider relies on. */
interface UnigramModel {
  vocab: string[];
  scores: number[];
  tokenize(normalized: string): string[];
}

function isUnigramModel(model: unknown): model is UnigramModel {
  // transformers.js models are Callable instances: functions with properties.
  if ((typeof model !== 'object' && typeof model !== 'function') || model === null) return false;
  const m = model as Partial<UnigramModel>;
  return Array.isArray(m.vocab) && Array.isArray(m.scores) && typeof m.tokenize === 'function';
}

/**
 * Replaces the Unigram lattice of the loaded tokenizer with the original
 * segmentation (exact ties, zero scores, unknown symbols: see use-lite-segmenter.ts),
 * so ids match the TF.js original exactly. The normalizer, id lookup, padding and
 * truncation stay transformers.js's.
 */
function installOriginalSegmentation(pipe: FeatureExtractionPipeline): void {
  const model: unknown = pipe.tokenizer.model;
  if (!isUnigramModel(model)) {
    throw new EmbeddingError('MODEL_INCOMPATIBLE', MODEL_ID, 'models/use-lite/tokenizer.json did not load as a Unigram model');
  }
  const vocab = model.vocab;
  const segmenter = new UseLiteSegmenter(vocab.map((piece, id) => [piece, model.scores[id] ?? 0] as const));
  model.tokenize = (normalized: string): string[] =>
    // The Prepend normalizer also prefixes the empty text, which the original leaves empty:
    // "▁" alone can only come from "" (any other text normalises to "▁" + at least one symbol).
    normalized === SEPARATOR ? [] : segmenter.segment(normalized).map((id) => vocab[id] as string);
}

export class UseLiteProvider implements EmbeddingProvider {
  readonly modelId = MODEL_ID;
  readonly dimension = DIMENSION;
  #pipe: FeatureExtractionPipeline | null;
  readonly #maxBatchSize: number;

  private constructor(pipe: FeatureExtractionPipeline, maxBatchSize: number) {
    this.#pipe = pipe;
    this.#maxBatchSize = maxBatchSize;
  }

  /** Loads the converted model; fails with MODEL_NOT_BUILT when `npm run build:models` has not run. */
  static async load(options: UseLiteOptions = {}): Promise<UseLiteProvider> {
    const modelsDir = options.modelsDir ?? MODELS_DIR;
    const maxBatchSize = options.maxBatchSize ?? 32;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
    const intraOpThreads = intraOpThreadsOption(options.intraOpThreads, DEFAULT_INTRA_OP_THREADS);
    const onnxFile = join(modelsDir, MODEL_NAME, 'onnx', 'model.onnx');
    if (!existsSync(onnxFile)) {
      throw new EmbeddingError('MODEL_NOT_BUILT', MODEL_ID, `${onnxFile} is missing: run \`npm run build:models\` (npm ci runs it)`);
    }
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = modelsDir.endsWith('/') ? modelsDir : `${modelsDir}/`;
    let pipe: FeatureExtractionPipeline;
    try {
      pipe = await pipeline('feature-extraction', MODEL_NAME, { quantized: false, local_files_only: true });
      await setIntraOpThreads(pipe, onnxFile, intraOpThreads);
    } catch (err) {
      throw new EmbeddingError('MODEL_INCOMPATIBLE', MODEL_ID, `could not load ${join(modelsDir, MODEL_NAME)}`, { cause: err });
    }
    installOriginalSegmentation(pipe);
    return new UseLiteProvider(pipe, maxBatchSize);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.#open(); // a closed provider rejects every call, even one that needs no model
    const result: Float32Array[] = new Array<Float32Array>(texts.length);
    // The empty text has no token at all: its zero vector needs no model call (and a
    // batch of only empty texts would be a [n, 0] tensor).
    const pending: number[] = [];
    texts.forEach((text, i) => (text.length === 0 ? (result[i] = new Float32Array(DIMENSION)) : pending.push(i)));
    for (let from = 0; from < pending.length; from += this.#maxBatchSize) {
      const batch = pending.slice(from, from + this.#maxBatchSize);
      const pipe = this.#open();
      // The model already outputs the L2-normalised sentence vector [batch, 512] (or a zero
      // vector for a text with no known token), so no pooling and no re-normalisation.
      const output = await pipe(batch.map((i) => texts[i] as string), { pooling: 'none', normalize: false });
      const data = output.data as Float32Array;
      if (output.dims.length !== 2 || output.dims[0] !== batch.length || output.dims[1] !== DIMENSION) {
        throw new EmbeddingError('MODEL_INCOMPATIBLE', MODEL_ID, `model output has dims [${output.dims.join(', ')}], expected [${batch.length}, ${DIMENSION}]`);
      }
      batch.forEach((textIndex, row) => (result[textIndex] = data.slice(row * DIMENSION, (row + 1) * DIMENSION)));
    }
    return result;
  }

  /** The token ids the model sees for `text` (before truncation to 128), identical to the original tokenizer's. */
  tokenize(text: string): number[] {
    return this.#open().tokenizer.encode(text, null, { add_special_tokens: false });
  }

  async close(): Promise<void> {
    const pipe = this.#pipe;
    this.#pipe = null;
    await pipe?.dispose();
  }

  #open(): FeatureExtractionPipeline {
    if (this.#pipe === null) throw new EmbeddingError('PROVIDER_CLOSED', MODEL_ID, 'the use-lite provider is closed');
    return this.#pipe;
  }
}
