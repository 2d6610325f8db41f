/**
 * Test decorators around a real provider (the model is never replaced): one
 * records the texts of every call the provider receives, one fails the calls
 * that contain a marker text, so the batcher's and the cache's routing of
 * results and errors can be observed; one holds calls until the test opens it.
 */
import { EmbeddingError } from '../../src/embeddings/errors.js';
import type { EmbeddingProvider } from '../../src/embeddings/provider.js';

export class RecordingProvider implements EmbeddingProvider {
  readonly calls: string[][] = [];
  constructor(readonly inner: EmbeddingProvider) {}
  get modelId(): string {
    return this.inner.modelId;
  }
  get dimension(): number {
    return this.inner.dimension;
  }
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls.push([...texts]);
    return this.inner.embed(texts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Fails every call with a text containing `marker` (as a model that rejects an input would). */
export class FailingProvider extends RecordingProvider {
  constructor(inner: EmbeddingProvider, readonly marker: string) {
    super(inner);
  }
  override embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.some((t) => t.includes(this.marker))) {
      this.calls.push([...texts]);
      return Promise.reject(new EmbeddingError('WORKER_FAILED', this.modelId, `refused a text containing ${this.marker}`));
    }
    return super.embed(texts);
  }
}

/**
 * Holds every call until `open()` (then passes them on, and every later one):
 * a model that is busy for as long as the test needs, so queues can be filled
 * deterministically without timing.
 */
export class GatedProvider extends RecordingProvider {
  #open = false;
  #waiting: Array<() => void> = [];

  /** Calls received and not yet passed on. */
  get held(): number {
    return this.#waiting.length;
  }

  open(): void {
    this.#open = true;
    for (const release of this.#waiting.splice(0)) release();
  }

  override async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (!this.#open) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return super.embed(texts);
  }
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  // Zero vectors (no known token) are equal to each other and to nothing else.
  if (na === 0 || nb === 0) return na === nb ? 1 : 0;
  return dot / Math.sqrt(na * nb);
}
