/**
 * The semantic routing library's public surface (wired into the server as
 * router 2 in a later step). Internals — the ranker, the model spaces, the
 * top-k heap — are not re-exported.
 */
export { SemanticRouter, type SemanticRouterDeps, type CapabilityWithVectors, type ModelSpaceStats } from './semantic-router.js';
export { ROUTE_MODES, type Intent, type RouteMode } from './intent.js';
export type { RouteOutcome, RouteMatch, NoMatchReason, RouteExplanation, ExplainedCandidate } from './outcome.js';
export type { ScoreComponents } from './scoring.js';
export {
  parseSemanticOptions,
  defaultSemanticOptions,
  scoringFor,
  type ScoringProfile,
  type ScoringProfileInput,
  type SemanticOptions,
  type SemanticOptionsInput,
  type ScoreWeights,
  type IndexSettings,
} from './options.js';
export { FITTED_SCORING } from './model-defaults.js';
export { parseCapabilitySpec, parseCapabilitySpecs, capabilityTexts, type CapabilitySpec, type CapabilityLimits } from './capability.js';
export { LeastLoadedBalancer } from './balancer.js';
export type { VectorIndex, VectorHit, VectorIndexStats } from './vector-index.js';
export { ExactVectorIndex, type ExactIndexOptions } from './exact-index.js';
export { HnswVectorIndex, type HnswIndexOptions } from './hnsw-index.js';
export { TieredVectorIndex, type TieredIndexOptions } from './tiered-index.js';
export { TfIdfCorpus, tokenize, termCounts, type LexicalQuery } from './lexical.js';
