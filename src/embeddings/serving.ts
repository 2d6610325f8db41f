/**
 * The provider stack the server runs: cache → batcher → model provider. The
 * cache answers repeated texts before they queue; the batcher coalesces the
 * misses of concurrent callers into length-bucketed model calls. Defaults live
 * beside each layer (cache.ts, batcher.ts).
 */
import { BatchingEmbeddingProvider, type BatcherOptions } from './batcher.js';
import { CachingEmbeddingProvider, type CacheOptions } from './cache.js';
import type { EmbeddingProvider } from './provider.js';

export interface ServingOptions {
  readonly cache?: CacheOptions;
  readonly batcher?: BatcherOptions;
}

/** Wraps a model provider for serving; closing the result closes the provider. */
export function servingProvider(provider: EmbeddingProvider, options: ServingOptions = {}): CachingEmbeddingProvider {
  return new CachingEmbeddingProvider(new BatchingEmbeddingProvider(provider, options.batcher), options.cache);
}
