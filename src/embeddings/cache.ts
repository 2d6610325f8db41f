/**
 * CachingEmbeddingProvider: an EmbeddingProvider decorator that keeps the
 * vectors of recently embedded texts in a bounded LRU, so a repeated intent
 * (the same question asked again, an agent re-registering its capabilities)
 * costs a Map lookup and a copy instead of a model call.
 *
 * - **Bounded:** at most `maxEntries` vectors, least recently used evicted first;
 *   texts longer than `maxTextLength` code units are never stored (they rarely
 *   repeat, and the bound on keys keeps the memory bound meaningful: about
 *   maxEntries · (4·dimension + 2·maxTextLength) bytes, ~12 MB for use-lite).
 * - **Keys** are `modelId` + NUL + text, so one `LruCache` may be shared by
 *   several providers without mixing their vectors.
 * - **Copies, not shared arrays:** a Float32Array cannot be frozen, so the cache
 *   stores its own copy and every caller gets a fresh copy (512 floats: well under
 *   a microsecond). A caller that scales or normalises its vector in place can
 *   never corrupt what the next caller gets.
 * - **In-flight coalescing:** a text that is already being embedded for another
 *   caller is not sent again; the second caller waits for the same model call
 *   (and shares its failure, if any: it asked for the same thing).
 * - **Stats:** hits, misses, coalesced waits and evictions, for metrics.
 */
import { EmbeddingError } from './errors.js';
import type { EmbeddingProvider } from './provider.js';

export interface CacheOptions {
  /** Vectors kept. Default 4096: ~8 MB of use-lite vectors (512 floats), ~1.6 MB of glove-sif ones. */
  readonly maxEntries?: number;
  /** Longest text (UTF-16 code units) that is stored. Default 512, about use-lite's 128-token input. */
  readonly maxTextLength?: number;
  /** A store shared with other providers (keys include the model id); default: a store of its own. */
  readonly store?: LruCache<Float32Array>;
}

export const DEFAULT_CACHE_ENTRIES = 4096;
export const DEFAULT_MAX_CACHED_TEXT_LENGTH = 512;

export interface CacheStats {
  /** Texts answered from the cache. */
  readonly hits: number;
  /** Texts sent to the wrapped provider. */
  readonly misses: number;
  /** Texts that waited for a model call already in flight for another caller. */
  readonly coalesced: number;
  /** Vectors evicted from the store to respect its bound (all providers of a shared store). */
  readonly evictions: number;
  /** Vectors in the store now, and its bound. */
  readonly size: number;
  readonly capacity: number;
}

/**
 * A bounded least-recently-used map. A Map iterates in insertion order, so
 * re-inserting on access keeps the least recently used entry first: get, set and
 * eviction are O(1).
 */
export class LruCache<V> {
  readonly capacity: number;
  readonly #entries = new Map<string, V>();
  #evictions = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get evictions(): number {
    return this.#evictions;
  }

  /** The value, marked most recently used. */
  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value as string);
      this.#evictions++;
    }
  }

  /** Removes every key starting with `prefix` (one provider's entries of a shared store). */
  deletePrefix(prefix: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}

export class CachingEmbeddingProvider implements EmbeddingProvider {
  readonly modelId: string;
  readonly dimension: number;
  readonly #inner: EmbeddingProvider;
  readonly #store: LruCache<Float32Array>;
  readonly #maxTextLength: number;
  readonly #prefix: string;
  /** Vectors being computed, by key: the first caller's model call, awaited by later ones. */
  readonly #inFlight = new Map<string, Promise<Float32Array>>();
  #closed = false;
  #hits = 0;
  #misses = 0;
  #coalesced = 0;

  constructor(inner: EmbeddingProvider, options: CacheOptions = {}) {
    this.#inner = inner;
    this.modelId = inner.modelId;
    this.dimension = inner.dimension;
    this.#store = options.store ?? new LruCache<Float32Array>(options.maxEntries ?? DEFAULT_CACHE_ENTRIES);
    this.#maxTextLength = options.maxTextLength ?? DEFAULT_MAX_CACHED_TEXT_LENGTH;
    if (!Number.isInteger(this.#maxTextLength) || this.#maxTextLength < 0) {
      throw new RangeError(`maxTextLength must be a non-negative integer, got ${this.#maxTextLength}`);
    }
    this.#prefix = `${inner.modelId}\u0000`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.#closed) throw new EmbeddingError('PROVIDER_CLOSED', this.modelId, `the ${this.modelId} provider is closed`);
    const result = new Array<Float32Array | Promise<Float32Array>>(texts.length);
    /** Texts this call sends, once each, with the positions that want them. */
    const missing = new Map<string, number[]>();
    texts.forEach((text, i) => {
      const key = this.#prefix + text;
      const cached = this.#store.get(key);
      if (cached !== undefined) {
        this.#hits++;
        result[i] = cached.slice();
        return;
      }
      const pending = this.#inFlight.get(key);
      if (pending !== undefined) {
        this.#coalesced++;
        result[i] = pending.then((v) => v.slice());
        return;
      }
      const positions = missing.get(text);
      if (positions === undefined) missing.set(text, [i]);
      else {
        this.#coalesced++;
        positions.push(i);
      }
    });
    if (missing.size > 0) this.#send(missing, result);
    return Promise.all(result);
  }

  /** Sends the missing texts in one call and registers each as in flight until it lands. */
  #send(missing: ReadonlyMap<string, number[]>, result: (Float32Array | Promise<Float32Array>)[]): void {
    const unique = [...missing.keys()];
    this.#misses += unique.length;
    const call = this.#inner.embed(unique);
    unique.forEach((text, j) => {
      const key = this.#prefix + text;
      const vector = call.then((vectors) => {
        const v = vectors[j];
        if (v === undefined) throw new EmbeddingError('MODEL_INCOMPATIBLE', this.modelId, `the provider returned ${vectors.length} vectors for ${unique.length} texts`);
        return v;
      });
      const settled = vector.then((v) => {
        // The cache's own copy: the wrapped provider's array is handed to nobody.
        if (text.length <= this.#maxTextLength && !this.#closed) this.#store.set(key, v.slice());
        return v;
      });
      // Landed or failed, it is no longer in flight (a failed text is retried by the next caller).
      settled.finally(() => this.#inFlight.delete(key)).catch(() => {});
      this.#inFlight.set(key, settled);
      for (const i of missing.get(text)!) result[i] = settled.then((v) => v.slice());
    });
  }

  stats(): CacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      coalesced: this.#coalesced,
      evictions: this.#store.evictions,
      size: this.#store.size,
      capacity: this.#store.capacity,
    };
  }

  /** Forgets this provider's vectors and closes the wrapped provider. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#store.deletePrefix(this.#prefix);
    await this.#inner.close();
  }
}
