/**
 * The wire shape of semantic routing: intents as clients send them
 * (snake_case, `model` for the embedding model id) parsed into the library's
 * `Intent`, and the library's answers turned back into snake_case objects.
 */
import { EmbeddingError } from '../embeddings/errors.js';
import { isJsonObject, type JsonObject } from '../protocol/envelope.js';
import { ArqonError, ParameterError } from '../protocol/errors.js';
import { ROUTE_MODES, type Intent, type RouteMode } from './semantic/intent.js';
import type { RouteExplanation, RouteMatch, RouteOutcome } from './semantic/outcome.js';

/** Resolves an agent id (a connection id) to the client id other clients address. */
export type ClientIdOf = (agentId: string) => string | null;

/** The library names the model parameter `model_id`; on the wire it is `model`. */
function wireParameter(parameter: string): string {
  return parameter === 'model_id' ? 'model' : parameter;
}

/**
 * Re-labels a library ParameterError with the wire parameter name, prefixed
 * (e.g. "intent."), and turns embedding faults into wire errors: an overloaded
 * model is SEMANTIC_OVERLOADED (retryable), a dead or closed one SEMANTIC_UNAVAILABLE.
 */
export function relabel(err: unknown, prefix: string): unknown {
  if (err instanceof EmbeddingError) {
    return err.code === 'OVERLOADED'
      ? new ArqonError('SEMANTIC_OVERLOADED', 'the embedding model has too many texts queued; retry shortly', { model: err.modelId })
      : new ArqonError('SEMANTIC_UNAVAILABLE', `the ${err.modelId} embedding model failed`, { model: err.modelId, reason: err.code });
  }
  if (!(err instanceof ParameterError)) return err;
  return new ParameterError(`${prefix}${wireParameter(err.parameter)}`, err.message.replace('model_id', 'model'));
}

/**
 * Reads `{text} | {vector, model}` plus `mode`, `k`, `min_score` (types only;
 * `checkIntent` enforces the rest). Errors are ParameterErrors naming `${prefix}field`.
 */
export function parseWireIntent(value: unknown, tenant: string, prefix: string, allowMode = true): Intent {
  if (!isJsonObject(value)) throw new ParameterError(prefix.replace(/\.$/, '') || 'intent', `${prefix || 'intent'} must be an object`);
  const { text, vector, model, mode, k } = value;
  const minScore = value['min_score'];
  const bad = (field: string, what: string): never => {
    throw new ParameterError(`${prefix}${field}`, `${prefix}${field} must be ${what}`);
  };
  if (text !== undefined && typeof text !== 'string') bad('text', 'a string');
  if (vector !== undefined && !Array.isArray(vector)) bad('vector', 'an array of numbers');
  if (model !== undefined && typeof model !== 'string') bad('model', 'a model id string');
  if (minScore !== undefined && typeof minScore !== 'number') bad('min_score', 'a number in [-1, 1]');
  if (allowMode) {
    if (mode !== undefined && !(ROUTE_MODES as readonly unknown[]).includes(mode)) bad('mode', `one of ${ROUTE_MODES.join(', ')}`);
    if (k !== undefined && typeof k !== 'number') bad('k', 'an integer');
  }
  return {
    tenant,
    ...(text !== undefined ? { text: text as string } : {}),
    ...(vector !== undefined ? { vector: vector as number[] } : {}),
    ...(model !== undefined ? { modelId: model as string } : {}),
    ...(allowMode && mode !== undefined ? { mode: mode as RouteMode } : {}),
    ...(allowMode && k !== undefined ? { k: k as number } : {}),
    ...(minScore !== undefined ? { minScore: minScore as number } : {}),
  };
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;

/** A match as clients see it: the agent (connection id), its client id, the capability and the fused score. */
export function wireMatch(m: RouteMatch, clientIdOf: ClientIdOf): JsonObject {
  return { agent: m.agentId, client_id: clientIdOf(m.agentId), capability: m.capability, score: round(m.score) };
}

function wireComponents(m: RouteMatch): JsonObject {
  const { centroid, examples, lexical } = m.components;
  return { centroid: round(centroid), examples: round(examples), lexical: lexical === null ? null : round(lexical) };
}

export function wireOutcome(o: RouteOutcome, clientIdOf: ClientIdOf): JsonObject {
  const base = { matched: o.matched, mode: o.mode, model: o.modelId, threshold: o.threshold };
  return o.matched
    ? { ...base, matches: o.matches.map((m) => wireMatch(m, clientIdOf)) }
    : { ...base, reason: o.reason, candidates: o.candidates.map((m) => wireMatch(m, clientIdOf)) };
}

export function wireExplanation(e: RouteExplanation, clientIdOf: ClientIdOf): JsonObject {
  return {
    model: e.modelId,
    dimension: e.dimension,
    mode: e.mode,
    threshold: e.threshold,
    weights: { ...e.weights },
    balance_margin: e.balanceMargin,
    index: e.index === null ? null : { ...e.index },
    texts_searched: e.textsSearched,
    candidates: e.candidates.map((c) => ({
      ...wireMatch(c, clientIdOf),
      components: wireComponents(c),
      rank: c.rank,
      above_threshold: c.aboveThreshold,
      agent_best: c.agentBest,
      in_flight: c.inFlight,
    })),
    outcome: wireOutcome(e.outcome, clientIdOf),
  };
}
