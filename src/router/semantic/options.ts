/**
 * Semantic routing options: `defaultSemanticOptions()` and one
 * `parseSemanticOptions()` that validates overrides once, names the
 * offending key (`semantic.<path>`) and returns a frozen object.
 *
 * Scoring (weights, no-match threshold, balancing margin) is per embedding
 * model: a model's scores live on its own scale, so one threshold cannot fit
 * two models. For a model id the profile is, field by field:
 *   input.models[id]  >  input.weights / threshold / balanceMargin
 *   >  the fitted table (model-defaults.ts)  >  the generic defaults below.
 * Everything that could be tuned is here.
 */
import { ConfigError } from '../../config/errors.js';
import { DEFAULT_CAPABILITY_LIMITS, type CapabilityLimits } from './capability.js';
import { FITTED_SCORING } from './model-defaults.js';

/** Weights of the fused score's components (need not sum to 1: the score divides by their sum). */
export interface ScoreWeights {
  /** Cosine between the intent and the capability's centroid (normalised mean of its text vectors). */
  readonly centroid: number;
  /** Mean of the capability's `topExamples` best text similarities. */
  readonly examples: number;
  /** TF-IDF cosine over the capability's texts; left out when the intent has no text. */
  readonly lexical: number;
}

export interface IndexSettings {
  /** Live vectors per (tenant, model) above which candidate generation uses HNSW instead of an exact scan. */
  readonly exactThreshold: number;
  /** Rebuild an HNSW graph once deleted marks exceed this fraction of it. */
  readonly rebuildDeletedRatio: number;
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
  readonly seed: number;
  /** `background`: migrations in time slices (servers); `sync`: at once (tests, tools, benchmarks). */
  readonly build: 'background' | 'sync';
  readonly sliceMs: number;
}

/** How one model's scores are fused and judged. */
export interface ScoringProfile {
  readonly weights: ScoreWeights;
  /** Minimum fused score for a match (no-match below it); an intent's `min_score` overrides it. */
  readonly threshold: number;
  /** In `best` mode, agents within this margin of the best score share the load. */
  readonly balanceMargin: number;
}

export interface ScoringProfileInput {
  readonly weights?: Partial<ScoreWeights>;
  readonly threshold?: number;
  readonly balanceMargin?: number;
}

/** `weights`, `threshold` and `balanceMargin` are the profile of models without one in `models`. */
export interface SemanticOptions extends ScoringProfile {
  /** Scoring per model id: the fitted table, overridden by the input. */
  readonly models: Readonly<Record<string, ScoringProfile>>;
  /** How many best text similarities the examples component averages. */
  readonly topExamples: number;
  /** Nearest text vectors fetched per route (candidate generation), before grouping by capability. */
  readonly candidateTexts: number;
  /** Ceiling when `all` mode widens the candidate search. */
  readonly maxCandidateTexts: number;
  /** Best candidates reported with a no-match result. */
  readonly noMatchCandidates: number;
  /** Largest `k` a `k`-mode route or `find` may ask for. */
  readonly maxK: number;
  readonly maxCapabilitiesPerAgent: number;
  readonly capabilityLimits: CapabilityLimits;
  readonly index: IndexSettings;
}

export type SemanticOptionsInput = {
  readonly [K in Exclude<keyof SemanticOptions, 'models'>]?: SemanticOptions[K] extends object ? Partial<SemanticOptions[K]> : SemanticOptions[K];
} & {
  /** Per model id; these fields beat the global ones and the fitted table. */
  readonly models?: Readonly<Record<string, ScoringProfileInput>>;
};

/** The scoring profile in force for a model id. */
export function scoringFor(options: SemanticOptions, modelId: string): ScoringProfile {
  return options.models[modelId] ?? { weights: options.weights, threshold: options.threshold, balanceMargin: options.balanceMargin };
}

export function defaultSemanticOptions(): SemanticOptions {
  return {
    // Generic profile, for models without fitted defaults (e.g. vector-only models).
    weights: { centroid: 0.4, examples: 0.4, lexical: 0.2 },
    threshold: 0.45,
    balanceMargin: 0.02,
    models: FITTED_SCORING,
    topExamples: 3,
    candidateTexts: 64,
    maxCandidateTexts: 2048,
    noMatchCandidates: 3,
    maxK: 64,
    maxCapabilitiesPerAgent: 64,
    capabilityLimits: DEFAULT_CAPABILITY_LIMITS,
    index: {
      exactThreshold: 2000,
      rebuildDeletedRatio: 0.25,
      m: 16,
      efConstruction: 100,
      efSearch: 128,
      seed: 42,
      build: 'background',
      sliceMs: 8,
    },
  };
}

function num(key: string, value: unknown, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`semantic.${key}`, `semantic.${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** `base` overridden by each input in turn (later wins), validated and frozen; `at` prefixes error keys. */
function profile(at: string, base: ScoringProfile, ...inputs: readonly (ScoringProfileInput | undefined)[]): ScoringProfile {
  let w: Partial<ScoreWeights> = base.weights;
  let threshold: unknown = base.threshold;
  let balanceMargin: unknown = base.balanceMargin;
  for (const input of inputs) {
    w = { ...w, ...input?.weights };
    threshold = input?.threshold ?? threshold;
    balanceMargin = input?.balanceMargin ?? balanceMargin;
  }
  const weights = Object.freeze({
    centroid: num(`${at}weights.centroid`, w.centroid, 0, 1),
    examples: num(`${at}weights.examples`, w.examples, 0, 1),
    lexical: num(`${at}weights.lexical`, w.lexical, 0, 1),
  });
  if (weights.centroid + weights.examples === 0) {
    throw new ConfigError(`semantic.${at}weights`, `semantic.${at}weights: centroid and examples cannot both be 0 (vector-only intents would score nothing)`);
  }
  return Object.freeze({
    weights,
    threshold: num(`${at}threshold`, threshold, -1, 1),
    balanceMargin: num(`${at}balanceMargin`, balanceMargin, 0, 1),
  });
}

/** Defaults overridden by `input`, validated and deeply frozen. */
export function parseSemanticOptions(input: SemanticOptionsInput = {}): SemanticOptions {
  const d = defaultSemanticOptions();
  const global: ScoringProfileInput = { weights: input.weights, threshold: input.threshold, balanceMargin: input.balanceMargin };
  const generic = profile('', d, global);
  const models: Record<string, ScoringProfile> = {};
  for (const id of new Set([...Object.keys(d.models), ...Object.keys(input.models ?? {})])) {
    models[id] = profile(`models.${id}.`, d.models[id] ?? d, global, input.models?.[id]);
  }
  const l = { ...d.capabilityLimits, ...input.capabilityLimits };
  const capabilityLimits = Object.freeze({
    maxTextLength: num('capabilityLimits.maxTextLength', l.maxTextLength, 1, 100_000, true),
    maxExamples: num('capabilityLimits.maxExamples', l.maxExamples, 0, 1024, true),
    maxTags: num('capabilityLimits.maxTags', l.maxTags, 0, 256, true),
  });
  const i = { ...d.index, ...input.index };
  if (i.build !== 'background' && i.build !== 'sync') {
    throw new ConfigError('semantic.index.build', `semantic.index.build must be "background" or "sync", got ${String(i.build)}`);
  }
  const index = Object.freeze({
    exactThreshold: num('index.exactThreshold', i.exactThreshold, 0, Number.MAX_SAFE_INTEGER, true),
    rebuildDeletedRatio: num('index.rebuildDeletedRatio', i.rebuildDeletedRatio, 0.01, 0.99),
    m: num('index.m', i.m, 2, 128, true),
    efConstruction: num('index.efConstruction', i.efConstruction, 8, 4096, true),
    efSearch: num('index.efSearch', i.efSearch, 1, 4096, true),
    seed: num('index.seed', i.seed, 0, 2 ** 31 - 1, true),
    build: i.build,
    sliceMs: num('index.sliceMs', i.sliceMs, 0.1, 1000),
  });
  const candidateTexts = num('candidateTexts', input.candidateTexts ?? d.candidateTexts, 1, 100_000, true);
  return Object.freeze({
    ...generic,
    models: Object.freeze(models),
    topExamples: num('topExamples', input.topExamples ?? d.topExamples, 1, 1024, true),
    candidateTexts,
    maxCandidateTexts: num('maxCandidateTexts', input.maxCandidateTexts ?? d.maxCandidateTexts, candidateTexts, 1_000_000, true),
    noMatchCandidates: num('noMatchCandidates', input.noMatchCandidates ?? d.noMatchCandidates, 0, 1024, true),
    maxK: num('maxK', input.maxK ?? d.maxK, 1, 10_000, true),
    maxCapabilitiesPerAgent: num('maxCapabilitiesPerAgent', input.maxCapabilitiesPerAgent ?? d.maxCapabilitiesPerAgent, 1, 10_000, true),
    capabilityLimits,
    index,
  });
}
