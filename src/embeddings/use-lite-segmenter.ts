/**
 * The Universal Sentence Encoder lite segmentation, ported exactly from the
 * original tokenizer (tfjs-models `universal-sentence-encoder` /
 * `@energetic-ai/embeddings`), including what a SentencePiece Unigram lattice
 * (transformers.js, HF tokenizers) does differently:
 *
 * - a piece may start at a position only if some vocabulary piece starts there;
 *   otherwise one unknown symbol (id 0, score 0) is used;
 * - for each end position the candidates are scanned by ascending start, and a
 *   later candidate wins an exact tie (`>=`): "1|11" vs "11|1" keep the shorter
 *   last piece (a lattice keeps the first);
 * - a running best score of exactly 0 means "unset", so the next candidate
 *   replaces it whatever its score (texts starting with ":" whose pieces score 0);
 * - consecutive unknown ids are merged into one.
 *
 * Input is the normalised text (NFKC, " " → "▁", "▁" prefix); positions are code points.
 */

/** Number of reserved ids (unk, <s>, </s>, 3 extra) that the original never produces. */
export const RESERVED_IDS = 6;
export const UNK_ID = 0;

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** Vocabulary id ending here, or -1. The last of duplicate pieces wins, as in the original. */
  id: number;
}

const newNode = (): TrieNode => ({ children: new Map(), id: -1 });

export class UseLiteSegmenter {
  private readonly root = newNode();
  private readonly scores: Float64Array;
  /** Back-tracking step per id: the piece's UTF-16 length, as in the original; 1 for the unknown symbol. */
  private readonly stepLength: Int32Array;

  /** @param pieces the vocabulary as [piece, score] (null scores count as 0), index = id */
  constructor(pieces: readonly (readonly [string, number | null])[]) {
    this.scores = new Float64Array(pieces.length);
    this.stepLength = new Int32Array(pieces.length);
    this.stepLength[UNK_ID] = 1;
    for (let id = RESERVED_IDS; id < pieces.length; id++) {
      const [piece, score] = pieces[id] as readonly [string, number | null];
      this.scores[id] = score ?? 0;
      this.stepLength[id] = piece.length;
      let node = this.root;
      for (const symbol of piece) {
        let child = node.children.get(symbol);
        if (child === undefined) {
          child = newNode();
          node.children.set(symbol, child);
        }
        node = child;
      }
      node.id = id;
    }
  }

  /** Segments a normalised text into vocabulary ids. */
  segment(normalized: string): number[] {
    const symbols = Array.from(normalized);
    const n = symbols.length;
    // candidates[end] lists [start, id] by ascending start (the original's iteration order).
    const candidates: [number, number][][] = Array.from({ length: n + 1 }, () => []);
    for (let start = 0; start < n; start++) {
      let node: TrieNode | undefined = this.root;
      let found = false;
      for (let end = start; end < n && node !== undefined; end++) {
        node = node.children.get(symbols[end] as string);
        if (node !== undefined && node.id >= 0) {
          (candidates[end + 1] as [number, number][]).push([start, node.id]);
          found = true;
        }
      }
      if (!found) (candidates[start + 1] as [number, number][]).push([start, UNK_ID]);
    }
    // Candidates for one end arrive by ascending start already (outer loop).
    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    for (let end = 0; end <= n; end++) {
      for (const [start, id] of candidates[end] as [number, number][]) {
        const score = (this.scores[id] as number) + (best[start] as number);
        if (best[end] === 0 || score >= (best[end] as number)) {
          best[end] = score;
          words[end] = id;
        }
      }
    }
    const reversed: number[] = [];
    for (let at = n; at > 0; ) {
      const id = words[at] as number;
      reversed.push(id);
      at -= this.stepLength[id] as number;
    }
    const ids: number[] = [];
    for (let i = reversed.length - 1; i >= 0; i--) {
      const id = reversed[i] as number;
      if (id === UNK_ID && ids.length > 0 && ids[ids.length - 1] === UNK_ID) continue;
      ids.push(id);
    }
    return ids;
  }
}
