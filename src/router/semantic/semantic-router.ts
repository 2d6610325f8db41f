/**
 * The semantic routing core: agents declare capabilities, intents are matched
 * to them by meaning. Per tenant and per embedding model; candidates come from
 * the (tenant, model) index, are re-ranked by the fused score, and `best`
 * mode balances load among near-ties.
 *
 * This is the library the edge wires in as router 2 (src/router/router.ts);
 * it does not implement the `Router` seam itself. The caller owns the agent
 * ids (one per connection), calls `removeAgent` on disconnect, and drives the
 * in-flight hooks (`requestStarted` on delivery, `requestFinished` on reply,
 * error or timeout).
 */
import type { EmbeddingModelInfo, EmbeddingProvider } from '../../embeddings/provider.js';
import { ParameterError } from '../../protocol/errors.js';
import { LeastLoadedBalancer } from './balancer.js';
import { capabilityTexts, parseCapabilitySpecs, type CapabilitySpec } from './capability.js';
import { CapabilityRegistry, type CapabilityEntry, type EmbeddedCapability, type TenantSpace } from './capability-registry.js';
import { checkIntent, type CheckedIntent, type Intent } from './intent.js';
import type { ModelSpace } from './model-space.js';
import { parseSemanticOptions, scoringFor, type ScoringProfile, type SemanticOptions, type SemanticOptionsInput } from './options.js';
import type { ExplainedCandidate, NoMatchReason, RouteExplanation, RouteMatch, RouteOutcome } from './outcome.js';
import { bestPerAgent, Ranker, type Ranking, type ScoredCandidate } from './ranker.js';
import type { LexicalQuery } from './lexical.js';
import type { VectorIndexStats } from './vector-index.js';
import { normalized } from './vector-math.js';

export interface SemanticRouterDeps {
  /** Models that can embed text (capabilities are embedded by every one of them). */
  readonly providers?: readonly EmbeddingProvider[];
  /** Further models served for pre-computed vectors only. */
  readonly models?: readonly EmbeddingModelInfo[];
  /** Model of text intents without a model id (default: the first provider's, else the first model's). */
  readonly defaultModelId?: string;
  readonly options?: SemanticOptionsInput;
  readonly balancer?: LeastLoadedBalancer;
}

/** A capability declaration with pre-computed vectors: model id → one vector per text (description, then examples). */
export interface CapabilityWithVectors {
  readonly capability: unknown;
  readonly vectors: Readonly<Record<string, readonly ArrayLike<number>[]>>;
}

export interface ModelSpaceStats extends VectorIndexStats {
  readonly modelId: string;
  readonly capabilities: number;
  readonly migrating: boolean;
}

/** A prepared intent: validated, embedded (unit vector, or null for a zero vector), with its model's scoring. */
interface Prepared extends CheckedIntent {
  readonly unit: Float32Array | null;
  readonly scoring: ScoringProfile;
}

function toMatch(c: ScoredCandidate): RouteMatch {
  return { agentId: c.entry.agentId, capability: c.entry.spec.name, score: c.score, components: c.components };
}

export class SemanticRouter {
  readonly options: SemanticOptions;
  private readonly registry: CapabilityRegistry;
  private readonly ranker: Ranker;
  private readonly balancer: LeastLoadedBalancer;
  private readonly providers: ReadonlyMap<string, EmbeddingProvider>;
  private readonly models: ReadonlyMap<string, EmbeddingModelInfo>;
  readonly defaultModelId: string;
  /** Registrations awaiting embeddings, and removals that happened meanwhile (per agent key). */
  private readonly pending = new Map<string, { count: number; removedAt: number }>();
  private removals = 0;

  constructor(deps: SemanticRouterDeps) {
    this.options = parseSemanticOptions(deps.options);
    const providers = deps.providers ?? [];
    const infos = [...providers, ...(deps.models ?? [])].map((m) => ({ modelId: m.modelId, dimension: m.dimension }));
    const models = new Map<string, EmbeddingModelInfo>();
    for (const m of infos) {
      if (models.has(m.modelId)) throw new RangeError(`model ${m.modelId} is configured twice`);
      if (!Number.isInteger(m.dimension) || m.dimension < 1) throw new RangeError(`model ${m.modelId} has an invalid dimension`);
      models.set(m.modelId, m);
    }
    const defaultModelId = deps.defaultModelId ?? infos[0]?.modelId;
    if (defaultModelId === undefined || !models.has(defaultModelId)) throw new RangeError('the semantic router needs at least one model, and a known default');
    this.models = models;
    this.defaultModelId = defaultModelId;
    this.providers = new Map(providers.map((p) => [p.modelId, p]));
    this.registry = new CapabilityRegistry(infos, { index: this.options.index, maxCapabilitiesPerAgent: this.options.maxCapabilitiesPerAgent });
    this.ranker = new Ranker(this.options);
    this.balancer = deps.balancer ?? new LeastLoadedBalancer();
  }

  // ---- capabilities -------------------------------------------------------

  /** Declares (or replaces, by name) capabilities of an agent, embedding their texts with every provider. */
  async register(tenant: string, agentId: string, capabilities: unknown): Promise<CapabilitySpec[]> {
    const specs = parseCapabilitySpecs(capabilities, this.options.maxCapabilitiesPerAgent, this.options.capabilityLimits);
    if (this.providers.size === 0) {
      throw new ParameterError('capabilities', 'no embedding provider is configured: declare capabilities with vectors');
    }
    const key = JSON.stringify([tenant, agentId]);
    const startedAt = this.removals;
    const p = this.pending.get(key) ?? { count: 0, removedAt: -1 };
    p.count++;
    this.pending.set(key, p);
    try {
      const texts = specs.flatMap(capabilityTexts);
      const perModel = await Promise.all([...this.providers.values()].map(async (provider) => [provider.modelId, await provider.embed(texts)] as const));
      // The agent went away while its texts were being embedded: declare nothing.
      if (p.removedAt > startedAt) return [];
      const items: EmbeddedCapability[] = [];
      let offset = 0;
      for (const spec of specs) {
        const n = capabilityTexts(spec).length;
        items.push({ spec, vectors: new Map(perModel.map(([modelId, vectors]) => [modelId, vectors.slice(offset, offset + n)])) });
        offset += n;
      }
      return this.registry.upsert(tenant, agentId, items).map((e) => e.spec);
    } finally {
      if (--p.count === 0) this.pending.delete(key);
    }
  }

  /** Declares capabilities with pre-computed vectors (synchronous; the vectors' models must be configured). */
  registerEmbedded(tenant: string, agentId: string, capabilities: readonly CapabilityWithVectors[]): CapabilitySpec[] {
    const specs = parseCapabilitySpecs(
      capabilities.map((c) => c.capability),
      this.options.maxCapabilitiesPerAgent,
      this.options.capabilityLimits,
    );
    const items = specs.map((spec, i) => ({ spec, vectors: new Map(Object.entries(capabilities[i]!.vectors)) }));
    return this.registry.upsert(tenant, agentId, items).map((e) => e.spec);
  }

  /** Removes named capabilities of an agent; returns how many existed. */
  unregister(tenant: string, agentId: string, names: readonly string[]): number {
    return this.registry.remove(tenant, agentId, names);
  }

  /** Removes an agent (it disconnected): its capabilities, its load state, and any registration still embedding. */
  removeAgent(tenant: string, agentId: string): number {
    const p = this.pending.get(JSON.stringify([tenant, agentId]));
    if (p !== undefined) p.removedAt = ++this.removals;
    this.balancer.forget(tenant, agentId);
    return this.registry.removeAgent(tenant, agentId);
  }

  capabilities(tenant: string, agentId: string): CapabilitySpec[] {
    return this.registry.capabilitiesOf(tenant, agentId);
  }

  // ---- load ---------------------------------------------------------------

  /** A request was delivered to the agent. Returns its in-flight count. */
  requestStarted(tenant: string, agentId: string): number {
    return this.balancer.increment(tenant, agentId);
  }

  /** The agent answered (or the request failed or timed out). Returns its in-flight count. */
  requestFinished(tenant: string, agentId: string): number {
    return this.balancer.decrement(tenant, agentId);
  }

  inFlight(tenant: string, agentId: string): number {
    return this.balancer.inFlight(tenant, agentId);
  }

  // ---- routing ------------------------------------------------------------

  /** Routes an intent. In `best` mode the pick advances the round robin. */
  async route(intent: Intent): Promise<RouteOutcome> {
    return this.evaluate(await this.prepare(intent), true).outcome;
  }

  /** Every candidate's full scoring, and what `route` would answer now; no side effects. */
  async explain(intent: Intent): Promise<RouteExplanation> {
    const prepared = await this.prepare(intent);
    const { outcome, ranking } = this.evaluate(prepared, false);
    const stats = this.modelSpace(prepared)?.models.stats() ?? null;
    const ranked = ranking?.ranked ?? [];
    const agentBest = new Set(bestPerAgent(ranked).map((c) => c.entry.id));
    const candidates: ExplainedCandidate[] = ranked.map((c, i) => ({
      ...toMatch(c),
      rank: i + 1,
      aboveThreshold: c.score >= prepared.threshold,
      agentBest: agentBest.has(c.entry.id),
      inFlight: this.balancer.inFlight(prepared.tenant, c.entry.agentId),
    }));
    return {
      tenant: prepared.tenant,
      modelId: prepared.model.modelId,
      dimension: prepared.model.dimension,
      mode: prepared.mode,
      threshold: prepared.threshold,
      weights: prepared.scoring.weights,
      balanceMargin: prepared.scoring.balanceMargin,
      index: stats,
      textsSearched: ranking?.textsSearched ?? 0,
      candidates,
      outcome,
    };
  }

  /**
   * Discovery: the `k` best capabilities (several per agent possible), best
   * first, above `minScore` if the intent sets one. No side effects.
   */
  async find(intent: Omit<Intent, 'mode' | 'k'>, k: number): Promise<RouteMatch[]> {
    if (!Number.isInteger(k) || k < 1 || k > this.options.maxK) throw new ParameterError('k', `k must be an integer in [1, ${this.options.maxK}]`);
    const prepared = await this.prepare({ ...intent, mode: 'k', k });
    const floor = intent.minScore ?? -Infinity;
    const ms = this.modelSpace(prepared);
    if (prepared.unit === null || ms === null) return [];
    const { ranked } = this.ranker.rank({
      ...ms,
      query: prepared.unit,
      lexical: this.lexical(ms.space, prepared.text),
      weights: prepared.scoring.weights,
      texts: Math.max(this.options.candidateTexts, k * this.options.topExamples),
      target: (r) => Math.max(floor, r.length >= k ? r[k - 1]!.score : -Infinity),
    });
    return ranked.filter((c) => c.score >= floor).slice(0, k).map(toMatch);
  }

  /** Index figures per model for a tenant. */
  stats(tenant: string): ModelSpaceStats[] {
    const space = this.registry.space(tenant);
    return space === undefined ? [] : [...space.models.values()].map((m) => ({ modelId: m.modelId, ...m.stats() }));
  }

  /** Resolves once the tenant's indexes have no background work in progress. */
  idle(tenant: string): Promise<void> {
    return this.registry.idle(tenant);
  }

  /** Drops every index. Providers belong to the caller and are not closed. */
  close(): void {
    this.registry.close();
  }

  // ---- internals ----------------------------------------------------------

  private async prepare(intent: Intent): Promise<Prepared> {
    const checked = checkIntent(intent, this.options, this.models, this.defaultModelId);
    const scoring = scoringFor(this.options, checked.model.modelId);
    if (checked.vector !== null) return { ...checked, scoring, unit: normalized(checked.vector) };
    const provider = this.providers.get(checked.model.modelId);
    if (provider === undefined) {
      throw new ParameterError('model_id', `model ${checked.model.modelId} takes vector intents only (no provider embeds text for it)`);
    }
    const [vector] = await provider.embed([checked.text ?? '']);
    return { ...checked, scoring, unit: vector === undefined ? null : normalized(vector) };
  }

  /** The tenant's space and its index for the intent's model, if it has one. */
  private modelSpace(p: Prepared): { space: TenantSpace; models: ModelSpace<CapabilityEntry> } | null {
    const space = this.registry.space(p.tenant);
    const models = space?.models.get(p.model.modelId);
    return space === undefined || models === undefined ? null : { space, models };
  }

  /** The intent's lexical query, or null when it has no text (or no word in it) to compare. */
  private lexical(space: TenantSpace, text: string | null): LexicalQuery | null {
    if (text === null) return null;
    const query = space.lexical.query(text);
    return query.terms === 0 ? null : query;
  }

  private evaluate(p: Prepared, commit: boolean): { outcome: RouteOutcome; ranking: Ranking | null } {
    const base = { mode: p.mode, modelId: p.model.modelId, threshold: p.threshold };
    const noMatch = (reason: NoMatchReason, candidates: readonly ScoredCandidate[]): RouteOutcome => ({
      ...base,
      matched: false,
      reason,
      candidates: candidates.slice(0, this.options.noMatchCandidates).map(toMatch),
    });
    const ms = this.modelSpace(p);
    if (p.unit === null) return { outcome: noMatch('zero_vector', []), ranking: null };
    if (ms === null) return { outcome: noMatch('no_candidates', []), ranking: null };
    const { threshold, mode, k } = p;
    const margin = p.scoring.balanceMargin;
    const ranking = this.ranker.rank({
      ...ms,
      query: p.unit,
      lexical: this.lexical(ms.space, p.text),
      weights: p.scoring.weights,
      texts: mode === 'k' ? Math.max(this.options.candidateTexts, k * this.options.topExamples * 2) : this.options.candidateTexts,
      target: (ranked) => {
        const agents = bestPerAgent(ranked);
        if (mode === 'best') return Math.max(threshold, (agents[0]?.score ?? -Infinity) - margin);
        if (mode === 'k') return Math.max(threshold, agents.length >= k ? agents[k - 1]!.score : -Infinity);
        return threshold;
      },
    });
    const agents = bestPerAgent(ranking.ranked);
    if (agents.length === 0) return { outcome: noMatch('no_candidates', []), ranking };
    const above = agents.filter((c) => c.score >= threshold);
    if (above.length === 0) return { outcome: noMatch('below_threshold', agents), ranking };
    let matches: ScoredCandidate[];
    if (mode === 'best') {
      const tied = above.filter((c) => c.score >= above[0]!.score - margin);
      const picked = this.balancer.pick(p.tenant, tied.map((c) => c.entry.agentId), commit);
      matches = [tied.find((c) => c.entry.agentId === picked)!];
    } else {
      matches = mode === 'k' ? above.slice(0, k) : above;
    }
    return { outcome: { ...base, matched: true, matches: matches.map(toMatch) }, ranking };
  }
}
