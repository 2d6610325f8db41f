// SIF arithmetic for the GloVe-SIF build (Arora, Liang & Ma, "A Simple but Tough-to-Beat
// Baseline for Sentence Embeddings", ICLR 2017), folded into one row per word so that a
// masked mean over tokens reproduces SIF exactly:
//
//   weight(w) = a / (a + p(w))              p(w) from the frequency rank via Zipf (no counts)
//   x_w       = weight(w) · v_w
//   row_w     = x_w − (x_w·u) u             u = first principal component (unit vector)
//
// SIF(s) = (1/n) Σ_{w∈s} x_w − ((1/n) Σ x_w · u) u = (1/n) Σ_{w∈s} row_w, because the
// projection is linear. n counts every token of s; a token outside the table has row 0.

export const DIMENSION = 100;

/** Harmonic number H_{N,s} = Σ_{k=1..N} k^-s (the Zipf normaliser). */
export function harmonic(n, s = 1) {
  let h = 0;
  // Sum smallest terms first for accuracy.
  for (let k = n; k >= 1; k--) h += 1 / k ** s;
  return h;
}

/** Zipf estimate of the unigram probability of the word at 0-based frequency rank `index`. */
export function zipfProbability(index, harmonicN, s = 1) {
  return 1 / ((index + 1) ** s * harmonicN);
}

/** The SIF weight a / (a + p). */
export function sifWeight(a, p) {
  return a / (a + p);
}

/**
 * Top eigenvector of a symmetric positive semi-definite d×d matrix (row-major Float64Array),
 * by power iteration with a deterministic start. Returns a unit Float64Array.
 */
export function topEigenvector(m, d, { iterations = 1000, tolerance = 1e-12 } = {}) {
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let acc = 0;
      for (let j = 0; j < d; j++) acc += m[i * d + j] * v[j];
      next[i] = acc;
    }
    const norm = Math.hypot(...next);
    if (norm === 0) throw new Error('topEigenvector: matrix is zero');
    let delta = 0;
    for (let i = 0; i < d; i++) {
      next[i] /= norm;
      delta += (next[i] - v[i]) ** 2;
    }
    v = next;
    if (delta < tolerance) break;
  }
  // Fix the sign so the result is reproducible: largest-magnitude component positive.
  let k = 0;
  for (let i = 1; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[k])) k = i;
  if (v[k] < 0) for (let i = 0; i < d; i++) v[i] = -v[i];
  return v;
}

/** Accumulates Σ c · x xᵀ into `m` (row-major d×d). */
export function addOuter(m, x, d, c = 1) {
  for (let i = 0; i < d; i++) {
    const ci = c * x[i];
    if (ci === 0) continue;
    for (let j = 0; j < d; j++) m[i * d + j] += ci * x[j];
  }
}

/**
 * "Lexicon" principal component: the top eigenvector of the expected second moment of the
 * SIF average of a pseudo-sentence of `length` tokens drawn i.i.d. from the Zipf unigram
 * distribution (tokens outside the table count as unknown, row 0):
 *
 *   E[s sᵀ] = (1/L) Σ_w p(w) x_w x_wᵀ + (1 − 1/L) μ μᵀ,   μ = Σ_w p(w) x_w.
 *
 * It needs no text corpus, so the model stays domain-neutral.
 *
 * @param {Float32Array} weighted  rows x_w (words × d), Zipf-rank order
 * @param {Float64Array} probabilities  p(w) for each row
 */
export function lexiconPrincipalComponent(weighted, probabilities, d, length) {
  const words = probabilities.length;
  const second = new Float64Array(d * d);
  const mean = new Float64Array(d);
  const x = new Float64Array(d);
  for (let w = 0; w < words; w++) {
    const p = probabilities[w];
    for (let i = 0; i < d; i++) {
      x[i] = weighted[w * d + i];
      mean[i] += p * x[i];
    }
    addOuter(second, x, d, p / length);
  }
  addOuter(second, mean, d, 1 - 1 / length);
  return topEigenvector(second, d);
}

/**
 * "Corpus" principal component, as in the SIF paper: the first right singular vector of the
 * matrix of (uncentred) SIF sentence averages.
 *
 * @param {Iterable<number[]>} sentences  token ids per sentence (ids index `weighted`; -1 unknown)
 */
export function corpusPrincipalComponent(weighted, sentences, d) {
  const second = new Float64Array(d * d);
  const s = new Float64Array(d);
  for (const ids of sentences) {
    if (ids.length === 0) continue;
    s.fill(0);
    for (const id of ids) {
      if (id < 0) continue;
      for (let i = 0; i < d; i++) s[i] += weighted[id * d + i];
    }
    for (let i = 0; i < d; i++) s[i] /= ids.length;
    addOuter(second, s, d);
  }
  return topEigenvector(second, d);
}

/** In place: row ← row − (row·u) u for every row of a (rows × d) Float32Array. */
export function removeComponent(rows, u, d) {
  const n = rows.length / d;
  for (let r = 0; r < n; r++) {
    const o = r * d;
    let dot = 0;
    for (let i = 0; i < d; i++) dot += rows[o + i] * u[i];
    for (let i = 0; i < d; i++) rows[o + i] -= dot * u[i];
  }
}
