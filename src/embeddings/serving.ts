/**
 * The provider stack the server runs: cache → batcher → model provider. The
 * cache answers repeated texts before they queue; the batcher coalesces the
 * misses of concurrent callers into length-bucketed model calls. Defaults live
 * beside each layer (cache.ts, batcher.ts). `stats()` reads both layers at
 * once, for /metrics (read at scrape time: nothing is counted twice).
 */
import { BatchingEmbeddingProvider, type BatcherOptions, type BatcherStats } from './batcher.js';
import { CachingEmbeddingProvider, type CacheOptions, type CacheStats } from './cache.js';
import type { EmbeddingProvider } from './provider.js';

export interface ServingOptions {
  readonly cache?: CacheOptions;
  readonly batcher?: BatcherOptions;
}

/** Both layers' counters, with the model they serve. */
export interface ServingStats {
  readonly modelId: string;
  readonly cache: CacheStats;
  readonly batcher: BatcherStats;
}

export class ServingEmbeddingProvider implements EmbeddingProvider {
  readonly modelId: string;
  readonly dimension: number;
  readonly #cache: CachingEmbeddingProvider;
  readonly #batcher: BatchingEmbeddingProvider;

  constructor(provider: EmbeddingProvider, options: ServingOptions = {}) {
    this.modelId = provider.modelId;
    this.dimension = provider.dimension;
    this.#batcher = new BatchingEmbeddingProvider(provider, options.batcher);
    this.#cache = new CachingEmbeddingProvider(this.#batcher, options.cache);
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return this.#cache.embed(texts);
  }

  stats(): ServingStats {
    return { modelId: this.modelId, cache: this.#cache.stats(), batcher: this.#batcher.stats() };
  }

  /** Serves what is queued, then closes the model provider. */
  close(): Promise<void> {
    return this.#cache.close();
  }
}

/** Wraps a model provider for serving; closing the result closes the provider. */
export function servingProvider(provider: EmbeddingProvider, options: ServingOptions = {}): ServingEmbeddingProvider {
  return new ServingEmbeddingProvider(provider, options);
}
