/**
 * The converted Universal Sentence Encoder lite against the TF.js original it
 * was converted from: token ids, embeddings, the zero-vector contract. Runs the
 * real built model (npm ci builds it) and the real TF.js model, both offline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer } from '@xenova/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingError } from '../../src/embeddings/errors.js';
import { UseLiteProvider } from '../../src/embeddings/use-lite.js';
import { CORPUS } from './corpus.js';
import { loadOriginal, type OriginalUseLite } from './original.js';

const SEPARATOR_ID = 30; // "▁"
const UNK_ID = 0;

let provider: UseLiteProvider;
let original: OriginalUseLite;

beforeAll(async () => {
  [provider, original] = await Promise.all([UseLiteProvider.load(), loadOriginal()]);
}, 60_000);

afterAll(async () => {
  await provider?.close();
});

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
};
const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
/** The provider contract's "no known token": nothing but unknown symbols and word separators. */
const hasKnownToken = (ids: readonly number[]): boolean => ids.some((id) => id !== UNK_ID && id !== SEPARATOR_ID);
const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(2)}%`;

describe('use-lite tokenizer', () => {
  it('gives the original token ids for every corpus text', async () => {
    const mismatches = CORPUS.filter((text) => provider.tokenize(text).join() !== original.encode(text).join());
    // For the record: the plain tokenizer.json (transformers.js Unigram lattice, without the
    // original segmentation the provider installs) differs on ties, leading ":" and "".
    const plain = await AutoTokenizer.from_pretrained('use-lite');
    const plainSame = CORPUS.filter((t) => plain.encode(t, null, { add_special_tokens: false }).join() === original.encode(t).join()).length;
    console.info(
      `use-lite tokenizer: ${CORPUS.length} texts; provider ${pct(CORPUS.length - mismatches.length, CORPUS.length)} identical, ` +
        `plain tokenizer.json ${pct(plainSame, CORPUS.length)} identical`,
    );
    expect(mismatches).toEqual([]);
  });
});

describe('use-lite embeddings', () => {
  it('match the TF.js original for every text with a known token', { timeout: 60_000 }, async () => {
    // Sorted by length so that batches carry little padding (TF.js is the slow side).
    const texts = CORPUS.filter((t) => hasKnownToken(original.encode(t))).sort((a, b) => original.encode(a).length - original.encode(b).length);
    const [ours, theirs] = await Promise.all([provider.embed(texts), original.embed(texts)]);
    const cosines = texts.map((_, i) => cosine(ours[i] as Float32Array, theirs[i] as number[]));
    const min = Math.min(...cosines);
    const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
    console.info(`use-lite parity vs TF.js: ${texts.length} texts, cosine min ${min.toFixed(7)}, mean ${mean.toFixed(7)}`);
    const worst = texts.map((t, i) => ({ t, c: cosines[i] as number })).filter(({ c }) => !(c >= 0.9999));
    expect(worst).toEqual([]); // the minimum is 0.999
  });

  it('returns an exact zero vector, never NaN, for texts with no known token', async () => {
    const texts = CORPUS.filter((t) => !hasKnownToken(original.encode(t)));
    expect(texts).toEqual(expect.arrayContaining(['', ' ', '🚀', '😀 😀', '\t']));
    const vectors = await provider.embed(texts);
    for (const [i, v] of vectors.entries()) {
      expect(v.length, texts[i]).toBe(512);
      expect(Array.from(v).every((x) => x === 0), JSON.stringify(texts[i])).toBe(true);
    }
    // Mixed into a batch with ordinary texts too (padding rows with no known token).
    const [zero, hello] = await provider.embed(['🚀', 'hello world']);
    expect(norm(zero as Float32Array)).toBe(0);
    expect(norm(hello as Float32Array)).toBeCloseTo(1, 5);
  });

  it('gives 512-d unit vectors in input order', async () => {
    const texts = ['order created', 'The quick brown fox jumps over the lazy dog.', 'a'];
    const vectors = await provider.embed(texts);
    expect(provider.modelId).toBe('use-lite-512');
    expect(provider.dimension).toBe(512);
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(512);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    const again = await provider.embed([texts[2] as string, texts[0] as string]);
    expect(cosine(again[0] as Float32Array, vectors[2] as Float32Array)).toBeGreaterThan(0.99999);
    expect(cosine(again[1] as Float32Array, vectors[0] as Float32Array)).toBeGreaterThan(0.99999);
  });

  it('does not depend on the batch: alone, padded, split across model calls', async () => {
    const texts = ['short', 'a much longer sentence that needs padding for the short one '.repeat(3), 'mid length text here'];
    const together = await provider.embed(texts);
    const small = await UseLiteProvider.load({ maxBatchSize: 1 });
    try {
      const alone = await small.embed(texts);
      texts.forEach((_, i) => expect(cosine(together[i] as Float32Array, alone[i] as Float32Array)).toBeGreaterThan(0.99999));
    } finally {
      await small.close();
    }
  });

  it('ranks related texts above unrelated ones', async () => {
    const [a, b, c] = await provider.embed(['a new order was placed', 'customer purchased an item', 'the weather is sunny today']);
    expect(cosine(a as Float32Array, b as Float32Array)).toBeGreaterThan(cosine(a as Float32Array, c as Float32Array));
  });
});

describe('use-lite provider lifecycle', () => {
  it('fails with MODEL_NOT_BUILT when the model folder is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arqon-models-'));
    try {
      const err = await UseLiteProvider.load({ modelsDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbeddingError);
      expect((err as EmbeddingError).code).toBe('MODEL_NOT_BUILT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects embed() after close()', async () => {
    const p = await UseLiteProvider.load();
    await p.close();
    await expect(p.embed(['hello'])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED' });
    await expect(p.embed([''])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED' });
    expect(() => p.tokenize('hello')).toThrow(EmbeddingError);
    await p.close(); // idempotent
  });
});
