/**
 * Deterministic vectors for the semantic routing tests: a seeded PRNG
 * (mulberry32), random unit vectors, and points scattered around centres so
 * that neighbourhoods have structure (as real sentence embeddings do).
 */

import { mulberry32 as prng } from '../../../scripts/lib/prng.mjs';

/** The seeded PRNG (mulberry32, floats in [0, 1)) of scripts/lib/prng.mjs, which the model build and eval scripts use too. */
export { prng };

export function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  return v.map((x) => x / n);
}

/** A random unit vector (uniform direction: coordinates from a sum of uniforms, roughly Gaussian). */
export function randomUnit(dim: number, rand: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = rand() + rand() + rand() - 1.5;
  return unit(v);
}

/** `centre` plus noise of the given relative size, normalised. */
export function near(centre: Float32Array, noise: number, rand: () => number): Float32Array {
  const r = randomUnit(centre.length, rand);
  return unit(centre.map((x, i) => x + noise * r[i]!));
}

/** `n` unit vectors in `clusters` groups around random centres. */
export function clustered(n: number, dim: number, clusters: number, noise: number, seed: number): Float32Array[] {
  const rand = prng(seed);
  const centres = Array.from({ length: clusters }, () => randomUnit(dim, rand));
  return Array.from({ length: n }, (_, i) => near(centres[i % clusters]!, noise, rand));
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
}

/** Brute-force reference: the k labels most similar to `q` among `points` (label → vector). */
export function bruteForce(points: ReadonlyMap<number, Float32Array>, q: Float32Array, k: number): number[] {
  return [...points]
    .map(([label, v]) => ({ label, s: cosine(q, v) }))
    .sort((a, b) => b.s - a.s || a.label - b.label)
    .slice(0, k)
    .map((h) => h.label);
}
