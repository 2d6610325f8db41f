/**
 * Candidate generation and re-ranking for one intent in one (tenant, model)
 * space: fetch the nearest text vectors, group them by capability, score
 * each capability once (scoring.ts), and widen the search (doubling, up to
 * `maxCandidateTexts`) only while a capability not yet seen could still
 * reach the score the mode needs. Cost is O(candidates), not O(agents).
 *
 * The widening test: a capability none of whose texts was fetched has every
 * text similarity below the weakest fetched one (`floor`); it is assumed to
 * score at most as if both vector components equalled `floor` and, for a text
 * intent, its lexical similarity were 1.
 */
import type { CapabilityEntry, TenantSpace } from './capability-registry.js';
import type { LexicalQuery } from './lexical.js';
import type { ModelSpace } from './model-space.js';
import type { ScoreWeights, SemanticOptions } from './options.js';
import { fuse, vectorComponents, type ScoreComponents } from './scoring.js';

export interface ScoredCandidate {
  readonly entry: CapabilityEntry;
  readonly score: number;
  readonly components: ScoreComponents;
}

export interface Ranking {
  /** Every capability considered, best first. */
  readonly ranked: readonly ScoredCandidate[];
  readonly textsSearched: number;
}

/** Best first; ties by agent id, then capability name (deterministic). */
export function compareScored(a: ScoredCandidate, b: ScoredCandidate): number {
  return (
    b.score - a.score ||
    (a.entry.agentId < b.entry.agentId ? -1 : a.entry.agentId > b.entry.agentId ? 1 : 0) ||
    (a.entry.spec.name < b.entry.spec.name ? -1 : a.entry.spec.name > b.entry.spec.name ? 1 : 0)
  );
}

/** Each agent's best capability, in ranked order. */
export function bestPerAgent(ranked: readonly ScoredCandidate[]): ScoredCandidate[] {
  const seen = new Set<string>();
  const out: ScoredCandidate[] = [];
  for (const c of ranked) {
    if (seen.has(c.entry.agentId)) continue;
    seen.add(c.entry.agentId);
    out.push(c);
  }
  return out;
}

export interface RankRequest {
  readonly space: TenantSpace;
  readonly models: ModelSpace<CapabilityEntry>;
  /** Unit query vector. */
  readonly query: Float32Array;
  /** Prepared lexical query; null for an intent without text. */
  readonly lexical: LexicalQuery | null;
  /** Text vectors to fetch first. */
  readonly texts: number;
  /** The fusion weights of the intent's model (options.ts `scoringFor`). */
  readonly weights: ScoreWeights;
  /** The lowest score a capability not yet seen would need to matter, given the ranking so far. */
  readonly target: (ranked: readonly ScoredCandidate[]) => number;
}

export class Ranker {
  constructor(private readonly options: SemanticOptions) {}

  /** Scores one capability against a unit query. */
  score(
    entry: CapabilityEntry,
    modelId: string,
    query: Float32Array,
    lexical: LexicalQuery | null,
    space: TenantSpace,
    weights: ScoreWeights,
  ): ScoredCandidate {
    const embedding = entry.embeddings.get(modelId);
    const vector =
      embedding === undefined
        ? { centroid: 0, examples: 0 }
        : vectorComponents(query, embedding.centroid, embedding.texts, this.options.topExamples);
    const components: ScoreComponents = {
      ...vector,
      lexical: lexical === null ? null : space.lexical.similarity(lexical, entry.id),
    };
    return { entry, score: fuse(components, weights), components };
  }

  rank(req: RankRequest): Ranking {
    const { models } = req;
    const max = this.options.maxCandidateTexts;
    let texts = Math.min(req.texts, max);
    // An exact scan costs the same for any k: fetch enough for a few widenings at once.
    let fetched = models.kind === 'exact' ? Math.min(max, texts * 8) : texts;
    let hits = models.search(req.query, fetched);
    const scored = new Map<number, ScoredCandidate>();
    for (;;) {
      const ranked: ScoredCandidate[] = [];
      const n = Math.min(texts, hits.length);
      for (let i = 0; i < n; i++) {
        const entry = models.owner(hits[i]!.label);
        if (entry === undefined || scored.has(entry.id)) continue;
        const s = this.score(entry, models.modelId, req.query, req.lexical, req.space, req.weights);
        scored.set(entry.id, s);
      }
      for (const s of scored.values()) ranked.push(s);
      ranked.sort(compareScored);
      const floor = n === 0 ? Infinity : hits[n - 1]!.similarity;
      const exhausted = texts >= models.size;
      if (exhausted || texts >= max || floor < vectorBound(req.weights, req.target(ranked), req.lexical !== null)) {
        return { ranked, textsSearched: n };
      }
      texts = Math.min(texts * 2, max);
      if (texts > fetched) {
        fetched = texts;
        hits = models.search(req.query, fetched);
      }
    }
  }
}

/** The text similarity an unseen capability would need to reach `target` (see the module comment). */
export function vectorBound(weights: ScoreWeights, target: number, hasText: boolean): number {
  const { centroid, examples, lexical } = weights;
  const wv = centroid + examples;
  return hasText ? (target * (wv + lexical) - lexical) / wv : target;
}
