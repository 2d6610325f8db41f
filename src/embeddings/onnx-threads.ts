/**
 * The onnxruntime intra-op thread count of a loaded transformers.js pipeline.
 *
 * transformers.js 2.17 creates its session from a buffer with no session options,
 * and onnxruntime-node 1.14 ignores session options given with a buffer anyway
 * (only `create(path, options)` parses them: `intraOpNumThreads: 'x'` throws with
 * a path and is silently accepted with a buffer). So the one way to choose the
 * thread count is to create a second session from the model file, with the
 * options, and put it in place of the pipeline's. Its class is taken from the
 * pipeline's own session, so it is the onnxruntime-node instance transformers.js
 * loaded (no import of a package we do not declare).
 *
 * Measured (docs/models.md, `npm run bench:embeddings -- --only threads`): on the
 * 2-core target, loaded by other jobs, one thread ran use-lite's single short
 * text 4–22% faster than onnxruntime's default pool (one thread per physical
 * core) in five interleaved runs, everything up to ~30% faster on the busiest
 * machine, and a batch at worst 7% slower; so use-lite defaults to 1. glove-sif
 * (a gather and a mean) showed no gain, so it keeps onnxruntime's default and
 * skips the second load.
 */
import type { FeatureExtractionPipeline } from '@xenova/transformers';

/** 0 = leave the session transformers.js created (onnxruntime's default thread pool). */
export const ONNX_DEFAULT_THREADS = 0;

/** Validates an `intraOpThreads` option (before any model is loaded); returns it or the provider's default. */
export function intraOpThreadsOption(threads: number | undefined, providerDefault: number): number {
  const value = threads ?? providerDefault;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`intraOpThreads must be a non-negative integer, got ${value}`);
  return value;
}

interface SessionClass {
  create(path: string, options: Record<string, unknown>): Promise<unknown>;
}

interface HasSession {
  session: { constructor: unknown } | null | undefined;
}

function hasSession(model: unknown): model is HasSession {
  if (typeof model !== 'object' || model === null || !('session' in model)) return false;
  const session = (model as { session: unknown }).session;
  return typeof session === 'object' && session !== null;
}

/**
 * Replaces the pipeline's session with one created from `onnxFile` with `threads`
 * intra-op threads (and one inter-op thread: the graphs are sequential). `threads`
 * 0 leaves the pipeline as transformers.js built it. Returns whether it replaced it.
 */
export async function setIntraOpThreads(pipe: FeatureExtractionPipeline, onnxFile: string, threads: number): Promise<boolean> {
  if (intraOpThreadsOption(threads, ONNX_DEFAULT_THREADS) === ONNX_DEFAULT_THREADS) return false;
  const model: unknown = pipe.model;
  // A transformers.js that no longer keeps its session there: keep its default rather than fail.
  if (!hasSession(model)) return false;
  const Session = model.session?.constructor as Partial<SessionClass> | undefined;
  if (typeof Session?.create !== 'function') return false;
  model.session = (await Session.create(onnxFile, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  })) as HasSession['session'];
  return true;
}
