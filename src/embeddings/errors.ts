/**
 * Errors of the embedding providers: start-up and operator errors (a model that
 * was not built, a provider used after close, an overloaded or dead worker), not
 * wire errors. The edge converts them once (src/router/semantic-wire.ts `relabel`):
 * OVERLOADED becomes SEMANTIC_OVERLOADED (retryable), the others SEMANTIC_UNAVAILABLE.
 */
export type EmbeddingErrorCode =
  | 'MODEL_NOT_BUILT'
  | 'MODEL_INCOMPATIBLE'
  | 'PROVIDER_CLOSED'
  /** Past a bound: the worker provider's requests in flight, or the batcher's queued texts. */
  | 'OVERLOADED'
  /** The worker process hosting the model died. */
  | 'WORKER_FAILED';

export class EmbeddingError extends Error {
  readonly code: EmbeddingErrorCode;
  readonly modelId: string;

  constructor(code: EmbeddingErrorCode, modelId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddingError';
    this.code = code;
    this.modelId = modelId;
  }
}
