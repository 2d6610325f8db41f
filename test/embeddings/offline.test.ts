/**
 * Model loading is offline whatever the process set before: transformers.js's
 * `env` is process-global, so each provider turns remote models off (and local
 * files on) itself as it loads, and asks for local files only. Nothing here
 * may reach a model hub; a load that tried would fail without network anyway,
 * so the test checks the switches, not an attempt.
 */
import { env } from '@xenova/transformers';
import { afterEach, describe, expect, it } from 'vitest';
import { GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import type { EmbeddingProvider } from '../../src/embeddings/provider.js';
import { UseLiteProvider } from '../../src/embeddings/use-lite.js';

const saved = { allowRemoteModels: env.allowRemoteModels, allowLocalModels: env.allowLocalModels };
afterEach(() => {
  env.allowRemoteModels = saved.allowRemoteModels;
  env.allowLocalModels = saved.allowLocalModels;
});

describe('embedding providers load offline', () => {
  it.each([
    ['glove-sif', (): Promise<EmbeddingProvider> => GloveSifProvider.load()],
    ['use-lite', (): Promise<EmbeddingProvider> => UseLiteProvider.load()],
  ])('%s turns remote models off even when something turned them on', { timeout: 30_000 }, async (_name, load) => {
    env.allowRemoteModels = true;
    env.allowLocalModels = false;
    const provider = await load();
    try {
      expect(env.allowRemoteModels).toBe(false);
      expect(env.allowLocalModels).toBe(true);
      const [v] = await provider.embed(['offline and local']);
      expect(v).toHaveLength(provider.dimension);
    } finally {
      await provider.close();
    }
  });
});
