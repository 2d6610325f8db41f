/**
 * Small dense-vector helpers shared by the indexes and the scorer. Vectors are
 * Float32Arrays; sums are accumulated in float64.
 */

/** Dot product of two vectors of the same length. */
export function dot(a: Float32Array, b: Float32Array): number {
  return dotAt(a, b, 0);
}

/**
 * Dot product of `a` with the `a.length` values of `b` starting at `offset`
 * (a row of a packed matrix). Four accumulators: V8 keeps them in registers
 * and the loop runs markedly faster than a single running sum.
 */
export function dotAt(a: Float32Array, b: Float32Array, offset: number): number {
  const n = a.length;
  const end = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i < end; i += 4) {
    s0 += a[i]! * b[offset + i]!;
    s1 += a[i + 1]! * b[offset + i + 1]!;
    s2 += a[i + 2]! * b[offset + i + 2]!;
    s3 += a[i + 3]! * b[offset + i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[offset + i]!;
  return s0 + s1 + s2 + s3;
}

/** Euclidean norm. */
export function norm(v: Float32Array): number {
  return Math.sqrt(dot(v, v));
}

/** Below this norm a vector counts as zero (a text with no known token). */
export const ZERO_NORM = 1e-9;

export function isZeroVector(v: Float32Array): boolean {
  return norm(v) < ZERO_NORM;
}

/** A unit-length copy of `v`, or `null` for a zero vector (or one holding NaN/Infinity). */
export function normalized(v: ArrayLike<number>): Float32Array | null {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const n = Math.sqrt(sum);
  if (!Number.isFinite(n) || n < ZERO_NORM) return null;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

/** The normalised mean of unit vectors (their centroid direction), or `null` if they cancel out or there are none. */
export function centroid(vectors: readonly Float32Array[]): Float32Array | null {
  const first = vectors[0];
  if (first === undefined) return null;
  const sum = new Float64Array(first.length);
  for (const v of vectors) {
    for (let i = 0; i < sum.length; i++) sum[i]! += v[i]!;
  }
  return normalized(sum);
}
