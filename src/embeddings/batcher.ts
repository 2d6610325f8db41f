/**
 * BatchingEmbeddingProvider: an EmbeddingProvider decorator that coalesces
 * concurrent embed() calls into few model calls, bucketed by length.
 *
 * When to send. Calls made while the provider is idle are sent on the next
 * `setImmediate`, so everything issued in the same event-loop turn (frames parsed
 * from one socket read, a `Promise.all`) travels together and a lone call waits
 * only for that turn. While a round of model calls is running, new calls queue;
 * when the round ends, the next round takes what queued meanwhile. So batches
 * grow with load by themselves, without a timer that would delay the idle case.
 *
 * What a round sends. Texts are taken in arrival order up to `maxRoundTexts`
 * (a larger request is split across rounds), grouped by length
 * class (length-class.ts: a model call pads to its longest text), and each group
 * goes out in calls of at most `maxBatchSize` texts, shortest class first. The
 * calls of a round are issued together: the worker answers them in order, and its
 * IPC overlaps with the computation.
 *
 * Results and errors. Each text's vector goes back to its caller's slot; a caller
 * resolves when all its texts are back, in its own order. A failed model call
 * rejects exactly the callers with a text in it (once each); the other callers
 * of the round are unaffected.
 *
 * Bounds. At most `maxQueuedTexts` texts wait; a call that would exceed it
 * rejects with OVERLOADED (an empty queue always takes one call, so a request
 * larger than the bound is served alone rather than refused forever). Rounds
 * run one at a time, so at most `maxRoundTexts` texts are with the model.
 */
import { EmbeddingError } from './errors.js';
import { LENGTH_CLASSES, lengthClass } from './length-class.js';
import type { EmbeddingProvider } from './provider.js';

export interface BatcherOptions {
  /** Texts per model call. Default 32: use-lite's own chunk; bounds the padded [batch, tokens] tensors. */
  readonly maxBatchSize?: number;
  /** Texts per round (all classes together). Default 128: about 4 full calls, ~100–150 ms of use-lite on short texts. */
  readonly maxRoundTexts?: number;
  /** Texts waiting for a round before embed() rejects with OVERLOADED. Default 4096: above the largest registration (64 capabilities × 33 texts). */
  readonly maxQueuedTexts?: number;
  /**
   * Called once per model call with its number of texts (the batch size), e.g.
   * to feed a histogram: the stats below only keep totals, and a mean hides
   * whether batches are full or mostly single texts.
   */
  readonly onCall?: (texts: number) => void;
}

export const DEFAULT_MAX_BATCH_SIZE = 32;
export const DEFAULT_MAX_ROUND_TEXTS = 128;
export const DEFAULT_MAX_QUEUED_TEXTS = 4096;

/** Counters since creation (for metrics), and the current queue. */
export interface BatcherStats {
  /** embed() calls accepted. */
  readonly requests: number;
  /** Texts accepted. */
  readonly texts: number;
  /** Rounds run. */
  readonly rounds: number;
  /** Model calls (embed() calls of the wrapped provider). */
  readonly calls: number;
  /** embed() calls rejected with OVERLOADED. */
  readonly rejected: number;
  /** Texts waiting now. */
  readonly queuedTexts: number;
}

interface Request {
  readonly texts: readonly string[];
  /** Texts already taken by a round (a large request spans rounds). */
  taken: number;
  readonly vectors: Float32Array[];
  remaining: number;
  settled: boolean;
  readonly resolve: (vectors: Float32Array[]) => void;
  readonly reject: (err: unknown) => void;
}

/** One text of a request: where its vector goes. */
interface Slot {
  readonly request: Request;
  readonly index: number;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export class BatchingEmbeddingProvider implements EmbeddingProvider {
  readonly modelId: string;
  readonly dimension: number;
  readonly #inner: EmbeddingProvider;
  readonly #maxBatchSize: number;
  readonly #maxRoundTexts: number;
  readonly #maxQueuedTexts: number;
  readonly #onCall: ((texts: number) => void) | undefined;
  /** Requests waiting for a round, in arrival order (bounded by #maxQueuedTexts texts). */
  #queue: Request[] = [];
  #queuedTexts = 0;
  #running = false;
  #scheduled = false;
  #closing: Promise<void> | null = null;
  /** close() waits for these: called when the queue is empty and no round runs. */
  #drainWaiters: (() => void)[] = [];
  #stats = { requests: 0, texts: 0, rounds: 0, calls: 0, rejected: 0 };

  constructor(inner: EmbeddingProvider, options: BatcherOptions = {}) {
    this.#inner = inner;
    this.modelId = inner.modelId;
    this.dimension = inner.dimension;
    this.#maxBatchSize = positiveInteger('maxBatchSize', options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE);
    this.#maxRoundTexts = positiveInteger('maxRoundTexts', options.maxRoundTexts ?? DEFAULT_MAX_ROUND_TEXTS);
    this.#maxQueuedTexts = positiveInteger('maxQueuedTexts', options.maxQueuedTexts ?? DEFAULT_MAX_QUEUED_TEXTS);
    this.#onCall = options.onCall;
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.#closing !== null) return Promise.reject(new EmbeddingError('PROVIDER_CLOSED', this.modelId, `the ${this.modelId} provider is closed`));
    if (texts.length === 0) return Promise.resolve([]);
    if (this.#queuedTexts > 0 && this.#queuedTexts + texts.length > this.#maxQueuedTexts) {
      this.#stats.rejected++;
      return Promise.reject(new EmbeddingError('OVERLOADED', this.modelId, `${this.#queuedTexts} texts already waiting to be embedded`));
    }
    this.#stats.requests++;
    this.#stats.texts += texts.length;
    return new Promise<Float32Array[]>((resolve, reject) => {
      // A copy: the caller may reuse its array before the round takes it.
      this.#queue.push({ texts: [...texts], taken: 0, vectors: new Array<Float32Array>(texts.length), remaining: texts.length, settled: false, resolve, reject });
      this.#queuedTexts += texts.length;
      this.#schedule();
    });
  }

  stats(): BatcherStats {
    return { ...this.#stats, queuedTexts: this.#queuedTexts };
  }

  /** Serves what is queued, then closes the wrapped provider; later calls reject with PROVIDER_CLOSED. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#drained().then(() => this.#inner.close());
    return this.#closing;
  }

  #drained(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#running || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#round();
    });
  }

  async #round(): Promise<void> {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = true;
    this.#stats.rounds++;
    try {
      const buckets: Slot[][] = Array.from({ length: LENGTH_CLASSES }, () => []);
      for (const { request, index } of this.#take()) buckets[lengthClass(request.texts[index]!)]!.push({ request, index });
      const calls: Promise<void>[] = [];
      for (const bucket of buckets) {
        for (let from = 0; from < bucket.length; from += this.#maxBatchSize) calls.push(this.#call(bucket.slice(from, from + this.#maxBatchSize)));
      }
      await Promise.all(calls); // #call never rejects: it settles its callers itself
    } finally {
      this.#running = false;
      if (this.#queue.length > 0) this.#schedule();
      else for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  /**
   * Up to #maxRoundTexts texts from the head of the queue, in arrival order. A
   * request larger than what is left of the round is split: the rest of it stays
   * at the head for the next round, so a round stays bounded.
   */
  #take(): Slot[] {
    const slots: Slot[] = [];
    while (slots.length < this.#maxRoundTexts && this.#queue.length > 0) {
      const request = this.#queue[0]!;
      if (request.settled) {
        // Part of it failed in an earlier round: the caller has its answer, the rest is not needed.
        this.#queuedTexts -= request.texts.length - request.taken;
        this.#queue.shift();
        continue;
      }
      const end = Math.min(request.texts.length, request.taken + this.#maxRoundTexts - slots.length);
      for (let index = request.taken; index < end; index++) slots.push({ request, index });
      request.taken = end;
      if (end === request.texts.length) this.#queue.shift();
    }
    this.#queuedTexts -= slots.length;
    return slots;
  }

  /** One model call; resolves the callers it completes, rejects the callers it fails. */
  async #call(slots: readonly Slot[]): Promise<void> {
    this.#stats.calls++;
    this.#onCall?.(slots.length);
    let vectors: Float32Array[];
    try {
      vectors = await this.#inner.embed(slots.map(({ request, index }) => request.texts[index]!));
      if (vectors.length !== slots.length) {
        throw new EmbeddingError('MODEL_INCOMPATIBLE', this.modelId, `the provider returned ${vectors.length} vectors for ${slots.length} texts`);
      }
    } catch (err) {
      for (const { request } of slots) {
        if (request.settled) continue;
        request.settled = true;
        request.reject(err);
      }
      return;
    }
    slots.forEach(({ request, index }, i) => {
      if (request.settled) return; // another call of this request failed: it has its answer
      request.vectors[index] = vectors[i]!;
      if (--request.remaining === 0) {
        request.settled = true;
        request.resolve(request.vectors);
      }
    });
  }
}
