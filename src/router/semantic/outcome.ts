/**
 * What routing answers: ranked matches or a no-match carrying the best
 * candidates, and the full explanation behind `route_explain`.
 */
import type { RouteMode } from './intent.js';
import type { ScoreWeights } from './options.js';
import type { ScoreComponents } from './scoring.js';
import type { VectorIndexStats } from './vector-index.js';

export interface RouteMatch {
  readonly agentId: string;
  /** The capability name. */
  readonly capability: string;
  /** Fused score (see scoring.ts). */
  readonly score: number;
  readonly components: ScoreComponents;
}

export type NoMatchReason =
  /** The intent's vector is zero: a text with no token the model knows. */
  | 'zero_vector'
  /** The tenant has no capability embedded by this model. */
  | 'no_candidates'
  /** Candidates exist but none reaches the threshold. */
  | 'below_threshold';

export type RouteOutcome =
  | {
      readonly matched: true;
      readonly mode: RouteMode;
      readonly modelId: string;
      readonly threshold: number;
      /** Best first; one per agent (its best capability). `best` mode: exactly one. */
      readonly matches: readonly RouteMatch[];
    }
  | {
      readonly matched: false;
      readonly mode: RouteMode;
      readonly modelId: string;
      readonly threshold: number;
      readonly reason: NoMatchReason;
      /** The best candidates anyway (one per agent, best first), for the caller to decide or to show. */
      readonly candidates: readonly RouteMatch[];
    };

export interface ExplainedCandidate extends RouteMatch {
  /** 1-based rank among every capability considered. */
  readonly rank: number;
  readonly aboveThreshold: boolean;
  /** Whether this is its agent's best capability (only those are routed to). */
  readonly agentBest: boolean;
  readonly inFlight: number;
}

export interface RouteExplanation {
  readonly tenant: string;
  readonly modelId: string;
  /** The model's vector dimension: what a vector intent of this model must have. */
  readonly dimension: number;
  readonly mode: RouteMode;
  readonly threshold: number;
  readonly weights: ScoreWeights;
  readonly balanceMargin: number;
  /** The (tenant, model) index searched; null if the tenant has none for this model. */
  readonly index: VectorIndexStats | null;
  /** Nearest text vectors fetched (after any widening). */
  readonly textsSearched: number;
  /** Every capability considered, best first. */
  readonly candidates: readonly ExplainedCandidate[];
  /** What `route` would answer now (the load balancer is previewed, not advanced). */
  readonly outcome: RouteOutcome;
}
