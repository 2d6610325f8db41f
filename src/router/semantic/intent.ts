/**
 * What a route asks for, and its validation. The edge parses the wire frame
 * (snake_case) into an `Intent`; `checkIntent` enforces the semantic rules
 * and names the offending wire parameter in a ParameterError.
 */
import type { EmbeddingModelInfo } from '../../embeddings/provider.js';
import { ParameterError } from '../../protocol/errors.js';
import { scoringFor, type SemanticOptions } from './options.js';

export const ROUTE_MODES = ['best', 'all', 'k'] as const;
/** `best`: one agent (load-balanced among near-ties); `all`: every agent above the threshold; `k`: the k best agents. */
export type RouteMode = (typeof ROUTE_MODES)[number];

export interface Intent {
  readonly tenant: string;
  /** Embedded with the model's provider unless `vector` is given; always used for the lexical component. */
  readonly text?: string;
  /** A pre-computed embedding; requires `modelId`. */
  readonly vector?: ArrayLike<number>;
  /** Defaults to the router's default model (text intents only). */
  readonly modelId?: string;
  readonly mode?: RouteMode;
  /** Required with mode `k`. */
  readonly k?: number;
  /** Overrides the configured no-match threshold for this intent. */
  readonly minScore?: number;
}

/** A validated intent, not yet embedded. */
export interface CheckedIntent {
  readonly tenant: string;
  readonly text: string | null;
  readonly vector: ArrayLike<number> | null;
  readonly model: EmbeddingModelInfo;
  readonly mode: RouteMode;
  readonly k: number;
  readonly threshold: number;
}

export function checkIntent(
  intent: Intent,
  options: SemanticOptions,
  models: ReadonlyMap<string, EmbeddingModelInfo>,
  defaultModelId: string,
): CheckedIntent {
  if (typeof intent.tenant !== 'string' || intent.tenant === '') throw new ParameterError('tenant', 'an intent belongs to a tenant');
  const text = intent.text ?? null;
  const vector = intent.vector ?? null;
  if (text !== null && (typeof text !== 'string' || text.length > options.capabilityLimits.maxTextLength)) {
    throw new ParameterError('text', `text must be a string of at most ${options.capabilityLimits.maxTextLength} characters`);
  }
  if (text === null && vector === null) throw new ParameterError('text', 'an intent needs text or a vector');
  if (vector !== null && intent.modelId === undefined) throw new ParameterError('model_id', 'a vector intent must name its model_id');
  const modelId = intent.modelId ?? defaultModelId;
  const model = models.get(modelId);
  if (model === undefined) throw new ParameterError('model_id', `unknown embedding model ${modelId}`);
  if (vector !== null) {
    if (typeof vector !== 'object' || typeof vector.length !== 'number' || vector.length !== model.dimension) {
      throw new ParameterError('vector', `vector must have ${model.dimension} numbers for model ${modelId}`);
    }
    for (let i = 0; i < vector.length; i++) {
      if (typeof vector[i] !== 'number' || !Number.isFinite(vector[i])) throw new ParameterError('vector', `vector[${i}] is not a finite number`);
    }
  }
  const mode = intent.mode ?? 'best';
  if (!(ROUTE_MODES as readonly string[]).includes(mode)) throw new ParameterError('mode', `mode must be one of ${ROUTE_MODES.join(', ')}`);
  let k = 1;
  if (mode === 'k') {
    k = intent.k ?? NaN;
    if (!Number.isInteger(k) || k < 1 || k > options.maxK) throw new ParameterError('k', `k must be an integer in [1, ${options.maxK}]`);
  } else if (intent.k !== undefined) {
    throw new ParameterError('k', 'k applies to mode "k" only');
  }
  const threshold = intent.minScore ?? scoringFor(options, modelId).threshold;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < -1 || threshold > 1) {
    throw new ParameterError('min_score', 'min_score must be a number in [-1, 1]');
  }
  return { tenant: intent.tenant, text, vector, model, mode, k, threshold };
}
