/**
 * Who can do what, per tenant: each agent's capabilities with their vectors
 * per model, the tenant's lexical corpus, and one `ModelSpace` per model.
 * Tenants never share a space; models never share an index. Removing or
 * replacing a capability marks its vectors deleted in every model space
 * and drops its lexical document; an empty tenant is released.
 */
import { ParameterError } from '../../protocol/errors.js';
import type { EmbeddingModelInfo } from '../../embeddings/provider.js';
import { capabilityTexts, type CapabilitySpec } from './capability.js';
import { TfIdfCorpus } from './lexical.js';
import { ModelSpace, type CapabilityEmbedding } from './model-space.js';
import type { IndexSettings } from './options.js';
import { centroid, normalized } from './vector-math.js';

export interface CapabilityEntry {
  /** Registry-wide id (also the lexical document id). */
  readonly id: number;
  readonly tenant: string;
  readonly agentId: string;
  readonly spec: CapabilitySpec;
  /** Vectors per model id; a model whose vectors were all zero is absent. */
  readonly embeddings: ReadonlyMap<string, CapabilityEmbedding>;
}

/** A capability with its text vectors per model id, aligned with `capabilityTexts(spec)`. */
export interface EmbeddedCapability {
  readonly spec: CapabilitySpec;
  readonly vectors: ReadonlyMap<string, readonly ArrayLike<number>[]>;
}

export interface TenantSpace {
  readonly agents: ReadonlyMap<string, ReadonlyMap<string, CapabilityEntry>>;
  readonly lexical: TfIdfCorpus<number>;
  readonly models: ReadonlyMap<string, ModelSpace<CapabilityEntry>>;
}

interface MutableTenantSpace extends TenantSpace {
  readonly agents: Map<string, Map<string, CapabilityEntry>>;
  readonly models: Map<string, ModelSpace<CapabilityEntry>>;
}

export interface RegistrySettings {
  readonly index: IndexSettings;
  readonly maxCapabilitiesPerAgent: number;
}

export class CapabilityRegistry {
  private readonly tenants = new Map<string, MutableTenantSpace>();
  private readonly models: ReadonlyMap<string, EmbeddingModelInfo>;
  private nextId = 1;

  constructor(
    models: readonly EmbeddingModelInfo[],
    private readonly settings: RegistrySettings,
  ) {
    this.models = new Map(models.map((m) => [m.modelId, m]));
  }

  space(tenant: string): TenantSpace | undefined {
    return this.tenants.get(tenant);
  }

  /** The agent's capabilities, in declaration order. */
  capabilitiesOf(tenant: string, agentId: string): CapabilitySpec[] {
    const caps = this.tenants.get(tenant)?.agents.get(agentId);
    return caps === undefined ? [] : [...caps.values()].map((e) => e.spec);
  }

  /**
   * Adds or replaces (by name) capabilities of an agent. Everything is
   * validated before anything changes: unknown model ids, vector counts that
   * do not match the texts, wrong dimensions and exceeding the per-agent
   * limit are ParameterErrors.
   */
  upsert(tenant: string, agentId: string, items: readonly EmbeddedCapability[]): CapabilityEntry[] {
    if (tenant === '' || agentId === '') throw new RangeError('capabilities belong to a non-empty tenant and agent id');
    const prepared = items.map((item, i) => ({ spec: item.spec, embeddings: this.embeddings(item, `capabilities[${i}]`) }));
    const space = this.tenants.get(tenant);
    const existing = space?.agents.get(agentId);
    const names = new Set([...(existing?.keys() ?? []), ...items.map((i) => i.spec.name)]);
    if (names.size > this.settings.maxCapabilitiesPerAgent) {
      throw new ParameterError('capabilities', `an agent may declare at most ${this.settings.maxCapabilitiesPerAgent} capabilities`);
    }
    const tenantSpace = space ?? this.createSpace(tenant);
    let caps = tenantSpace.agents.get(agentId);
    if (caps === undefined) {
      caps = new Map();
      tenantSpace.agents.set(agentId, caps);
    }
    const added: CapabilityEntry[] = [];
    for (const { spec, embeddings } of prepared) {
      const old = caps.get(spec.name);
      if (old !== undefined) this.unindex(tenantSpace, old);
      const entry: CapabilityEntry = { id: this.nextId++, tenant, agentId, spec, embeddings };
      // Delete first so a replaced capability moves to the end of the declaration order.
      caps.delete(spec.name);
      caps.set(spec.name, entry);
      tenantSpace.lexical.set(entry.id, capabilityTexts(spec));
      for (const [modelId, embedding] of embeddings) this.modelSpace(tenantSpace, modelId).add(entry, embedding);
      added.push(entry);
    }
    return added;
  }

  /** Removes named capabilities of an agent; returns how many existed. */
  remove(tenant: string, agentId: string, names: readonly string[]): number {
    const space = this.tenants.get(tenant);
    const caps = space?.agents.get(agentId);
    if (space === undefined || caps === undefined) return 0;
    let removed = 0;
    for (const name of names) {
      const entry = caps.get(name);
      if (entry === undefined) continue;
      this.unindex(space, entry);
      caps.delete(name);
      removed++;
    }
    if (caps.size === 0) space.agents.delete(agentId);
    this.releaseIfEmpty(tenant, space);
    return removed;
  }

  /** Removes every capability of an agent; returns how many it had. */
  removeAgent(tenant: string, agentId: string): number {
    const caps = this.tenants.get(tenant)?.agents.get(agentId);
    return caps === undefined ? 0 : this.remove(tenant, agentId, [...caps.keys()]);
  }

  /** Resolves once no model space of the tenant has index work in progress. */
  async idle(tenant: string): Promise<void> {
    const space = this.tenants.get(tenant);
    if (space !== undefined) await Promise.all([...space.models.values()].map((m) => m.idle()));
  }

  close(): void {
    for (const space of this.tenants.values()) for (const m of space.models.values()) m.close();
    this.tenants.clear();
  }

  private embeddings(item: EmbeddedCapability, path: string): Map<string, CapabilityEmbedding> {
    const count = capabilityTexts(item.spec).length;
    const out = new Map<string, CapabilityEmbedding>();
    for (const [modelId, vectors] of item.vectors) {
      const model = this.models.get(modelId);
      if (model === undefined) throw new ParameterError('model_id', `unknown embedding model ${modelId}`);
      if (vectors.length !== count) {
        throw new ParameterError(`${path}.vectors`, `${path} has ${count} texts but ${vectors.length} vectors for model ${modelId}`);
      }
      const texts: Float32Array[] = [];
      vectors.forEach((v, j) => {
        if (v.length !== model.dimension) {
          throw new ParameterError(`${path}.vectors`, `vector ${j} for model ${modelId} has dimension ${v.length}, expected ${model.dimension}`);
        }
        // A zero vector (a text with no known token) carries no direction: it is not indexed.
        const unit = normalized(v);
        if (unit !== null) texts.push(unit);
      });
      const c = centroid(texts);
      if (c !== null) out.set(modelId, { centroid: c, texts });
    }
    return out;
  }

  private createSpace(tenant: string): MutableTenantSpace {
    const space: MutableTenantSpace = { agents: new Map(), lexical: new TfIdfCorpus<number>(), models: new Map() };
    this.tenants.set(tenant, space);
    return space;
  }

  private modelSpace(space: MutableTenantSpace, modelId: string): ModelSpace<CapabilityEntry> {
    let ms = space.models.get(modelId);
    if (ms === undefined) {
      ms = new ModelSpace<CapabilityEntry>(modelId, this.models.get(modelId)!.dimension, this.settings.index);
      space.models.set(modelId, ms);
    }
    return ms;
  }

  private unindex(space: MutableTenantSpace, entry: CapabilityEntry): void {
    space.lexical.delete(entry.id);
    for (const modelId of entry.embeddings.keys()) space.models.get(modelId)?.remove(entry);
  }

  private releaseIfEmpty(tenant: string, space: MutableTenantSpace): void {
    for (const [modelId, ms] of space.models) {
      if (ms.capabilities === 0) {
        ms.close();
        space.models.delete(modelId);
      }
    }
    if (space.agents.size === 0) this.tenants.delete(tenant);
  }
}
