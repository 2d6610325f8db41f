/**
 * The intra-op thread option of the bundled providers: the session created
 * from the model file with one thread gives the vectors of transformers.js's
 * own session (onnxruntime's default threads).
 */
import { describe, expect, it } from 'vitest';
import { GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import { intraOpThreadsOption } from '../../src/embeddings/onnx-threads.js';
import type { EmbeddingProvider } from '../../src/embeddings/provider.js';
import { UseLiteProvider } from '../../src/embeddings/use-lite.js';
import { CORPUS } from './corpus.js';

async function compare(load: (intraOpThreads: number) => Promise<EmbeddingProvider>): Promise<void> {
  const [pinned, onnxDefault] = await Promise.all([load(1), load(0)]);
  try {
    const texts = CORPUS.slice(0, 80);
    const [a, b] = [await pinned.embed(texts), await onnxDefault.embed(texts)];
    a.forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo(b[i]![j]!, 5)));
  } finally {
    await Promise.all([pinned.close(), onnxDefault.close()]);
  }
}

describe('intraOpThreads', () => {
  it('takes the provider default when unset and refuses negative or fractional counts before loading', async () => {
    expect(intraOpThreadsOption(undefined, 1)).toBe(1);
    expect(intraOpThreadsOption(0, 1)).toBe(0);
    expect(() => intraOpThreadsOption(-1, 1)).toThrow(RangeError);
    await expect(GloveSifProvider.load({ intraOpThreads: 1.5 })).rejects.toThrow(RangeError);
    await expect(UseLiteProvider.load({ intraOpThreads: -2 })).rejects.toThrow(RangeError);
  });

  it('gives glove-sif the same vectors with one thread as with onnxruntime’s default', async () => {
    await compare((intraOpThreads) => GloveSifProvider.load({ intraOpThreads }));
  });

  it('gives use-lite the same vectors with one thread as with onnxruntime’s default', { timeout: 30_000 }, async () => {
    await compare((intraOpThreads) => UseLiteProvider.load({ intraOpThreads }));
  });
});
