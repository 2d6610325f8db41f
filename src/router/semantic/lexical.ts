/**
 * Lexical similarity: TF-IDF cosine over word 1- and 2-grams. One corpus per
 * tenant, one document per capability (its description and examples).
 *
 * Document frequencies are kept incrementally as documents come and go; a
 * document's norm depends on every term's IDF, so it is cached with the
 * corpus version and recomputed lazily when a scored document is stale.
 * Scoring a query against a document costs O(|query terms| + |doc terms|) at
 * worst, so ranking touches only the candidates, never the whole corpus.
 *
 *   tf(t, d) = 1 + ln(count)           idf(t) = ln((1 + N) / (1 + df(t))) + 1
 *
 * Query terms absent from the corpus are ignored (they cannot match any
 * document, and counting them would only scale every score down alike).
 */

/** Lower-cased word tokens (Unicode letters and digits; apostrophes inside words are dropped). */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().replace(/['’]/g, '').match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Term counts of the word unigrams and adjacent bigrams ("a b") of the texts; bigrams never span two texts. */
export function termCounts(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (t: string): void => {
    counts.set(t, (counts.get(t) ?? 0) + 1);
  };
  for (const text of texts) {
    const words = tokenize(text);
    for (let i = 0; i < words.length; i++) {
      bump(words[i]!);
      if (i > 0) bump(`${words[i - 1]!} ${words[i]!}`);
    }
  }
  return counts;
}

/** Sublinear term frequency. */
function tf(count: number): number {
  return 1 + Math.log(count);
}

interface LexicalDoc {
  /** term → tf weight */
  readonly terms: ReadonlyMap<string, number>;
  norm: number;
  normVersion: number;
}

/** A query prepared against one corpus version: term → tf·idf weight, and its norm. */
export interface LexicalQuery {
  /** Distinct terms of the text, known to the corpus or not (0: nothing to compare). */
  readonly terms: number;
  readonly weights: ReadonlyMap<string, number>;
  readonly norm: number;
  readonly version: number;
}

export class TfIdfCorpus<K = number> {
  private readonly docs = new Map<K, LexicalDoc>();
  private readonly df = new Map<string, number>();
  private version = 0;

  /** Documents in the corpus. */
  get size(): number {
    return this.docs.size;
  }

  /** Distinct terms with a document frequency. */
  get vocabularySize(): number {
    return this.df.size;
  }

  has(id: K): boolean {
    return this.docs.has(id);
  }

  /** Adds (or replaces) a document. */
  set(id: K, texts: readonly string[]): void {
    this.delete(id);
    const terms = new Map<string, number>();
    for (const [term, count] of termCounts(texts)) {
      terms.set(term, tf(count));
      this.df.set(term, (this.df.get(term) ?? 0) + 1);
    }
    this.docs.set(id, { terms, norm: 0, normVersion: -1 });
    this.version++;
  }

  delete(id: K): boolean {
    const doc = this.docs.get(id);
    if (doc === undefined) return false;
    for (const term of doc.terms.keys()) {
      const n = this.df.get(term)! - 1;
      if (n === 0) this.df.delete(term);
      else this.df.set(term, n);
    }
    this.docs.delete(id);
    this.version++;
    return true;
  }

  /** Smoothed inverse document frequency; 0 for a term no document has. */
  idf(term: string): number {
    const df = this.df.get(term);
    return df === undefined ? 0 : Math.log((1 + this.docs.size) / (1 + df)) + 1;
  }

  /** Weights a query text against the current corpus. */
  query(text: string): LexicalQuery {
    const weights = new Map<string, number>();
    const counts = termCounts([text]);
    let sum = 0;
    for (const [term, count] of counts) {
      const idf = this.idf(term);
      if (idf === 0) continue;
      const w = tf(count) * idf;
      weights.set(term, w);
      sum += w * w;
    }
    return { terms: counts.size, weights, norm: Math.sqrt(sum), version: this.version };
  }

  /**
   * TF-IDF cosine between a query and a document, in [0, 1]; 0 for an unknown
   * document or an empty query. A query prepared before the corpus changed is
   * scored with the current IDF for the document side (re-prepare to be exact).
   */
  similarity(query: LexicalQuery, id: K): number {
    const doc = this.docs.get(id);
    if (doc === undefined || query.norm === 0) return 0;
    const docNorm = this.norm(doc);
    if (docNorm === 0) return 0;
    let dot = 0;
    // Iterate over the smaller side.
    if (query.weights.size <= doc.terms.size) {
      for (const [term, qw] of query.weights) {
        const dw = doc.terms.get(term);
        if (dw !== undefined) dot += qw * dw * this.idf(term);
      }
    } else {
      for (const [term, dw] of doc.terms) {
        const qw = query.weights.get(term);
        if (qw !== undefined) dot += qw * dw * this.idf(term);
      }
    }
    return Math.min(1, dot / (query.norm * docNorm));
  }

  private norm(doc: LexicalDoc): number {
    if (doc.normVersion !== this.version) {
      let sum = 0;
      for (const [term, w] of doc.terms) {
        const x = w * this.idf(term);
        sum += x * x;
      }
      doc.norm = Math.sqrt(sum);
      doc.normVersion = this.version;
    }
    return doc.norm;
  }
}
