/**
 * Sentence embeddings: one interface, several named implementations (the
 * converted Universal Sentence Encoder lite, the static GloVe-SIF model).
 * Vectors are L2-normalised Float32Arrays of `dimension` length; vectors of
 * different models never mix (the router keys its indexes by `modelId`).
 */

export interface EmbeddingModelInfo {
  /** Stable id, e.g. "use-lite-512" or "glove-sif-100"; clients send it with vector intents. */
  readonly modelId: string;
  readonly dimension: number;
}

export interface EmbeddingProvider extends EmbeddingModelInfo {
  /** Embeds texts (same order). Never returns NaN: a text with no known token gets a zero vector. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}
