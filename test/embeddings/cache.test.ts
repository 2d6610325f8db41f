/**
 * CachingEmbeddingProvider and its LRU over the real models: hits give the
 * model's vectors as private copies, the store stays within its bound and
 * evicts the least recently used text, concurrent misses of one text make one
 * model call, failures are not cached, and keys never mix models.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachingEmbeddingProvider, LruCache } from '../../src/embeddings/cache.js';
import { GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import { servingProvider } from '../../src/embeddings/serving.js';
import { UseLiteProvider } from '../../src/embeddings/use-lite.js';
import { cosine, FailingProvider, RecordingProvider } from './decorators.js';

let glove: GloveSifProvider;

beforeAll(async () => {
  glove = await GloveSifProvider.load();
});
afterAll(async () => {
  await glove?.close();
});

const TEXTS = ['my card was declined', 'what is the exchange rate', 'is my refund still pending', 'order created'];

describe('LruCache', () => {
  it('keeps at most capacity entries and evicts the least recently used first', () => {
    const lru = new LruCache<number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1); // a is now the most recently used: b is the oldest
    lru.set('d', 4);
    expect([lru.has('a'), lru.has('b'), lru.has('c'), lru.has('d')]).toEqual([true, false, true, true]);
    lru.set('c', 30); // replacing refreshes without growing
    lru.set('e', 5);
    expect([lru.has('a'), lru.get('c'), lru.has('d'), lru.has('e')]).toEqual([false, 30, true, true]);
    expect(lru.size).toBe(3);
    expect(lru.evictions).toBe(2);
    for (let i = 0; i < 1000; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});

describe('CachingEmbeddingProvider (glove-sif)', () => {
  it('answers repeated texts from the cache with the model vectors, counting hits and misses', async () => {
    const recorder = new RecordingProvider(glove);
    const cache = new CachingEmbeddingProvider(recorder);
    expect([cache.modelId, cache.dimension]).toEqual([glove.modelId, glove.dimension]);
    const direct = await glove.embed(TEXTS);
    const first = await cache.embed(TEXTS);
    const second = await cache.embed([...TEXTS].reverse());
    first.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(direct[i]!)));
    second.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(direct[TEXTS.length - 1 - i]!)));
    expect(recorder.calls).toEqual([TEXTS]); // the second call never reached the model
    // A mix: cached texts are served, only the new one is sent.
    const mixed = await cache.embed([TEXTS[0]!, 'a brand new question', TEXTS[1]!]);
    expect(recorder.calls[1]).toEqual(['a brand new question']);
    expect(cosine(mixed[1]!, (await glove.embed(['a brand new question']))[0]!)).toBeGreaterThanOrEqual(0.9999);
    expect(cache.stats()).toMatchObject({ hits: 6, misses: 5, coalesced: 0, size: 5, capacity: 4096, evictions: 0 });
  });

  it('gives every caller its own copy: mutating a returned vector changes nothing cached', async () => {
    const cache = new CachingEmbeddingProvider(glove);
    const [a] = await cache.embed([TEXTS[0]!]);
    const original = Array.from(a!);
    a!.fill(42);
    const [b] = await cache.embed([TEXTS[0]!]);
    expect(Array.from(b!)).toEqual(original);
    b!.fill(7);
    const [c, d] = await cache.embed([TEXTS[0]!, TEXTS[0]!]);
    expect(Array.from(c!)).toEqual(original);
    expect(c).not.toBe(d);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 1 });
  });

  it('stays within maxEntries, evicting the least recently used text', async () => {
    const recorder = new RecordingProvider(glove);
    const cache = new CachingEmbeddingProvider(recorder, { maxEntries: 2 });
    await cache.embed([TEXTS[0]!, TEXTS[1]!]);
    await cache.embed([TEXTS[0]!]); // TEXTS[1] is now the least recently used
    await cache.embed([TEXTS[2]!]); // evicts TEXTS[1]
    expect(cache.stats()).toMatchObject({ size: 2, evictions: 1 });
    await cache.embed([TEXTS[0]!, TEXTS[2]!]);
    expect(recorder.calls).toHaveLength(2);
    await cache.embed([TEXTS[1]!]); // evicted: back to the model
    expect(recorder.calls[2]).toEqual([TEXTS[1]]);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 4, size: 2, evictions: 2 });
  });

  it('sends a text once while it is in flight for several callers', async () => {
    const recorder = new RecordingProvider(glove);
    const cache = new CachingEmbeddingProvider(recorder);
    const [x, y, z] = await Promise.all([cache.embed([TEXTS[0]!, TEXTS[0]!]), cache.embed([TEXTS[0]!]), cache.embed([TEXTS[1]!, TEXTS[0]!])]);
    expect(recorder.calls).toEqual([[TEXTS[0]], [TEXTS[1]]]);
    const v = Array.from(x![0]!);
    for (const w of [x![1]!, y![0]!, z![1]!]) expect(Array.from(w)).toEqual(v);
    expect(x![0]).not.toBe(x![1]);
    expect(cache.stats()).toMatchObject({ misses: 2, coalesced: 3, hits: 0 });
  });

  it('does not store texts longer than maxTextLength', async () => {
    const recorder = new RecordingProvider(glove);
    const cache = new CachingEmbeddingProvider(recorder, { maxTextLength: 20 });
    const long = 'a long question about the monthly invoice and its refund';
    await cache.embed([long, 'short one']);
    await cache.embed([long, 'short one']);
    expect(recorder.calls).toEqual([[long, 'short one'], [long]]);
    expect(cache.stats()).toMatchObject({ size: 1, hits: 1, misses: 3 });
  });

  it('fails the callers of a failed call, caches nothing from it, and retries on the next call', async () => {
    const failing = new FailingProvider(glove, 'POISON');
    const cache = new CachingEmbeddingProvider(failing);
    const [bad, waiting, good] = await Promise.allSettled([cache.embed([TEXTS[0]!, 'POISON pill']), cache.embed([TEXTS[0]!]), cache.embed([TEXTS[1]!])]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'WORKER_FAILED' } });
    expect(waiting).toMatchObject({ status: 'rejected', reason: { code: 'WORKER_FAILED' } }); // it waited for that call
    expect(good.status).toBe('fulfilled');
    expect(cache.stats().size).toBe(1);
    expect(await cache.embed([TEXTS[0]!])).toHaveLength(1); // not cached, not stuck in flight: sent again
    expect(failing.calls.at(-1)).toEqual([TEXTS[0]]);
  });

  it('rejects with PROVIDER_CLOSED after close(), even for cached texts', async () => {
    const own = await GloveSifProvider.load();
    const cache = servingProvider(own);
    expect(await cache.embed([TEXTS[0]!])).toHaveLength(1);
    await cache.close();
    await expect(cache.embed([TEXTS[0]!])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED' });
    await expect(own.embed([TEXTS[0]!])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED' });
  });
});

describe('CachingEmbeddingProvider with a shared store', () => {
  it('keys by model id: the same text cached for two models keeps each model’s vector', { timeout: 30_000 }, async () => {
    const useLite = await UseLiteProvider.load();
    try {
      const store = new LruCache<Float32Array>(16);
      const a = new CachingEmbeddingProvider(glove, { store });
      const b = new CachingEmbeddingProvider(useLite, { store });
      const [va] = await a.embed([TEXTS[0]!]);
      const [vb] = await b.embed([TEXTS[0]!]);
      expect([va!.length, vb!.length]).toEqual([100, 512]);
      const [ha] = await a.embed([TEXTS[0]!]);
      const [hb] = await b.embed([TEXTS[0]!]);
      expect(Array.from(ha!)).toEqual(Array.from(va!));
      expect(Array.from(hb!)).toEqual(Array.from((await useLite.embed([TEXTS[0]!]))[0]!));
      expect([a.stats(), b.stats()].map((s) => [s.hits, s.misses])).toEqual([[1, 1], [1, 1]]);
      expect(store.size).toBe(2);
    } finally {
      await useLite.close();
    }
  });
});
