/**
 * Re-ranking maths: the three per-capability components and their fusion.
 * Pure functions over unit vectors; the registry supplies the vectors and the
 * lexical corpus supplies the third component.
 *
 *   centroid = cos(q, normalise(mean of the capability's text vectors))
 *   examples = mean of the n best cos(q, text vector)   (n = topExamples, fewer if fewer texts)
 *   lexical  = TF-IDF cosine of the intent text and the capability's texts
 *   score    = (wc·centroid + we·examples + wl·lexical) / (wc + we + wl)
 *
 * An intent without text has no lexical component: the score is then the
 * weighted mean of the other two (wl drops out of the denominator), so
 * vector-only and text intents share one scale.
 */
import type { ScoreWeights } from './options.js';
import { dot } from './vector-math.js';

export interface ScoreComponents {
  readonly centroid: number;
  readonly examples: number;
  /** null when the intent has no text to compare. */
  readonly lexical: number | null;
}

/** Mean of the `n` largest values (of all of them when there are fewer); 0 for none. */
export function topMean(values: ArrayLike<number>, n: number): number {
  const take = Math.min(n, values.length);
  if (take <= 0) return 0;
  // Insertion into a small descending buffer: texts per capability are few.
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (best.length === take && v <= best[take - 1]!) continue;
    let j = Math.min(best.length, take - 1);
    best[j] = v;
    while (j > 0 && best[j - 1]! < v) {
      best[j] = best[j - 1]!;
      best[--j] = v;
    }
  }
  let sum = 0;
  for (const v of best) sum += v;
  return sum / take;
}

/** The centroid and examples components for a unit query. */
export function vectorComponents(
  query: Float32Array,
  centroid: Float32Array | null,
  texts: readonly Float32Array[],
  topExamples: number,
): { centroid: number; examples: number } {
  if (centroid === null || texts.length === 0) return { centroid: 0, examples: 0 };
  const sims = new Float64Array(texts.length);
  for (let i = 0; i < texts.length; i++) sims[i] = dot(query, texts[i]!);
  return { centroid: dot(query, centroid), examples: topMean(sims, topExamples) };
}

/** The fused score: a weighted mean of the components present. */
export function fuse(c: ScoreComponents, w: ScoreWeights): number {
  let sum = w.centroid * c.centroid + w.examples * c.examples;
  let weight = w.centroid + w.examples;
  if (c.lexical !== null) {
    sum += w.lexical * c.lexical;
    weight += w.lexical;
  }
  return weight === 0 ? 0 : sum / weight;
}
