import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PreTrainedTokenizer } from '@xenova/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmbeddingError } from '../../src/embeddings/errors.js';
import { GLOVE_SIF_DIMENSION, GLOVE_SIF_MODEL_ID, GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import { MODELS_DIR } from '../../src/embeddings/models-dir.js';
import type { EmbeddingProvider } from '../../src/embeddings/provider.js';
import { referenceSif, referenceTokens, WinkVectors, type BuildRecord } from './glove-sif-reference.js';

// Runs the real model built by `node scripts/models/build-glove-sif.mjs` (npm's prepare step).

const readJson = (file: string): unknown => JSON.parse(readFileSync(join(MODELS_DIR, 'glove-sif', file), 'utf8'));
const dot = (x: Float32Array, y: Float32Array): number => x.reduce((s, v, i) => s + v * (y[i] ?? 0), 0);
const norm = (x: Float32Array): number => Math.sqrt(dot(x, x));

let provider: GloveSifProvider;
const embedOne = async (text: string): Promise<Float32Array> => {
  const [v] = await provider.embed([text]);
  if (!v) throw new Error('no vector');
  return v;
};
const cosine = async (a: string, b: string): Promise<number> => dot(await embedOne(a), await embedOne(b));

beforeAll(async () => {
  provider = await GloveSifProvider.load();
});
afterAll(async () => {
  await provider.close();
});

describe('GloveSifProvider', () => {
  it('implements EmbeddingProvider with its model id and dimension', () => {
    const p: EmbeddingProvider = provider;
    expect(p.modelId).toBe(GLOVE_SIF_MODEL_ID);
    expect(p.dimension).toBe(GLOVE_SIF_DIMENSION);
  });

  it('is deterministic, and batching or padding does not change a vector', async () => {
    const text = 'How long does a transfer to another bank take?';
    const first = await embedOne(text);
    expect(await embedOne(text)).toEqual(first);
    const batch = await provider.embed(['hi', text, 'a much longer sentence about exchange rates and fees, with commas']);
    expect(batch).toHaveLength(3);
    const padded = batch[1];
    if (!padded) throw new Error('no vector');
    for (let i = 0; i < first.length; i++) expect(padded[i]).toBeCloseTo(first[i] ?? NaN, 6);
  });

  it('returns unit-norm Float32Arrays of the model dimension, in input order, for any batch size', async () => {
    const topics = ['my card was declined', 'what is the exchange rate', 'is my refund still pending'];
    const texts = Array.from({ length: 150 }, (_, i) => `${topics[i % 3]} (request ${i})`);
    const vectors = await provider.embed(texts);
    expect(vectors).toHaveLength(150);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(GLOVE_SIF_DIMENSION);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    for (const k of [0, 1, 2, 100, 149]) {
      const single = await embedOne(texts[k] ?? '');
      const v = vectors[k];
      if (!v) throw new Error('no vector');
      for (let i = 0; i < single.length; i++) expect(v[i]).toBeCloseTo(single[i] ?? NaN, 6);
    }
    expect(vectors[0]).not.toEqual(vectors[1]);
    expect(await provider.embed([])).toEqual([]);
  });

  it('gives the zero vector, never NaN, to a text with no known token', async () => {
    const texts = ['', '   \n\t', 'zzqxv qwxzj', '12345 678', '[UNK] [PAD]'];
    expect((await provider.embed(['card', '']))[1]).toEqual(new Float32Array(GLOVE_SIF_DIMENSION));
    const vectors = await provider.embed(texts);
    for (const v of vectors) {
      expect(v).toHaveLength(GLOVE_SIF_DIMENSION);
      expect(Array.from(v).every((x) => x === 0)).toBe(true);
    }
    // Unknown tokens beside known ones change nothing after normalisation.
    const known = await embedOne('card arrived');
    const mixed = await embedOne('card zzqxv arrived 12345');
    for (let i = 0; i < known.length; i++) expect(mixed[i]).toBeCloseTo(known[i] ?? NaN, 6);
  });

  it('places related sentences closer than unrelated ones', async () => {
    const cases: [anchor: string, related: string, unrelated: string][] = [
      ['my card has not arrived yet', 'when will my new card be delivered?', 'what is the exchange rate for euros?'],
      ['I want to cancel a transfer I just made', 'how can I stop a payment I sent?', 'can I change my pin at an atm?'],
      ['the cat sat on the mat', 'a kitten slept on the rug', 'stock markets fell sharply today'],
      ['turn on the kitchen lights', 'switch on the lamp in the kitchen', 'book a flight to paris'],
      ['where is the nearest hospital?', 'I need to find a doctor nearby', 'the football match ended in a draw'],
    ];
    for (const [anchor, related, unrelated] of cases) {
      const close = await cosine(anchor, related);
      const far = await cosine(anchor, unrelated);
      expect(close, `"${anchor}" vs "${related}" (${close.toFixed(3)}) / "${unrelated}" (${far.toFixed(3)})`).toBeGreaterThan(far);
    }
  });

  it('ignores case, spacing and apostrophe style; splits punctuation off words', async () => {
    const base = await embedOne("Why isn't my card working?");
    for (const variant of ['WHY ISN’T MY CARD WORKING?', 'why   is not my card working ?', 'Why isn’t my card working?']) {
      const v = await embedOne(variant);
      for (let i = 0; i < base.length; i++) expect(v[i]).toBeCloseTo(base[i] ?? NaN, 6);
    }
    // Punctuation is split off (and, being a GloVe token, weighted like any word).
    expect(await embedOne('card, please!')).toEqual(await embedOne('card , please !'));
  });

  it('equals a reference SIF computed from the wink GloVe vectors', async () => {
    const record = readJson('glove-sif.json') as BuildRecord;
    const wink = new WinkVectors();
    const texts = [
      'I still have not received my new card',
      "Why can't I top up with my £20 voucher?",
      'The exchange rate applied to my transfer looks wrong!',
      'Turn off the lights in the living room',
    ];
    const actual = await provider.embed(texts);
    texts.forEach((text, k) => {
      const expected = referenceSif(text, record, wink);
      const got = actual[k];
      if (!got) throw new Error('no vector');
      // The table is float16 (observed error ~5e-5 per component).
      expect(dot(got, expected)).toBeGreaterThan(0.99999);
      for (let i = 0; i < got.length; i++) expect(Math.abs((got[i] ?? 0) - (expected[i] ?? 0))).toBeLessThan(5e-4);
    });
  });

  it('removes the first principal component: every vector is orthogonal to u', async () => {
    const record = readJson('glove-sif.json') as BuildRecord;
    const u = Float32Array.from(record.principalComponent);
    expect(norm(u)).toBeCloseTo(1, 6);
    for (const v of await provider.embed(['the of and to in', 'my card was declined at the shop', 'hello world'])) {
      expect(Math.abs(dot(v, u))).toBeLessThan(2e-3);
    }
  });

  it('rejects embed() after close() and fails to load a missing model with MODEL_NOT_BUILT', async () => {
    const other = await GloveSifProvider.load({ maxBatchSize: 2 });
    expect(await other.embed(['a', 'b', 'card', ''])).toHaveLength(4);
    await other.close();
    await other.close();
    await expect(other.embed(['card'])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED', modelId: GLOVE_SIF_MODEL_ID });
    const missing = GloveSifProvider.load({ modelsDir: '/nonexistent' });
    await expect(missing).rejects.toBeInstanceOf(EmbeddingError);
    await expect(missing).rejects.toMatchObject({ code: 'MODEL_NOT_BUILT' });
  });
});

describe('GloVe-SIF tokenizer (the built tokenizer.json)', () => {
  const tokenizer = new PreTrainedTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
  const tokens = (text: string): string[] => tokenizer.model.convert_ids_to_tokens(tokenizer.encode(text));

  it('lowercases, splits punctuation and symbols off, expands negations, maps unknown words to [UNK]', () => {
    expect(tokens("Where's my £20 TOP-UP?!")).toEqual(['where', "'", '[UNK]', 'my', '£', '[UNK]', 'top', '-', 'up', '?', '!']);
    expect(tokens("I can't, won't, DON’T")).toEqual(['[UNK]', 'can', 'not', ',', 'will', 'not', ',', 'do', 'not']);
    expect(tokens('  card\tarrived\n')).toEqual(['card', 'arrived']);
    expect(tokens('')).toEqual([]);
  });

  it('agrees with the reference tokenizer used by the SIF check', () => {
    for (const text of ["Why isn't my €50 refund here yet?", 'Hello, WORLD... (again)', 'e-mail me: a@b.com']) {
      const expected = referenceTokens(text).map((t) => (tokenizer.model.tokens_to_ids.has(t) ? t : '[UNK]'));
      expect(tokens(text)).toEqual(expected);
    }
  });
});
