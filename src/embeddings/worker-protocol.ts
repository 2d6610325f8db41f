/**
 * Messages between WorkerEmbeddingProvider (the bus process) and worker.ts (the
 * model process), over a fork IPC channel with advanced serialization, so
 * Float32Arrays arrive as Float32Arrays.
 */
import type { EmbeddingErrorCode } from './errors.js';
import type { UseLiteOptions } from './use-lite.js';

/** Which provider the worker hosts; the worker owns the model, the bus only a handle. */
export type WorkerModelSpec = { readonly model: 'use-lite'; readonly options?: UseLiteOptions };

export type ToWorker = { readonly type: 'embed'; readonly id: number; readonly texts: readonly string[] } | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'ready'; readonly modelId: string; readonly dimension: number }
  | { readonly type: 'vectors'; readonly id: number; readonly vectors: Float32Array[] }
  | { readonly type: 'failed'; readonly id: number | null; readonly code: EmbeddingErrorCode; readonly message: string }
  | { readonly type: 'closed' };
