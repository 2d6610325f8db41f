/**
 * One (tenant, model) vector space: the index over every text vector of the
 * tenant's capabilities embedded by that model, and the label → capability
 * map that turns nearest texts into candidate capabilities (ranker.ts). Vectors of
 * different models never share a space.
 */
import type { IndexSettings } from './options.js';
import { TieredVectorIndex } from './tiered-index.js';
import type { VectorHit, VectorIndexStats } from './vector-index.js';

/** A capability's vectors in one model: its non-zero text vectors (unit length) and their centroid. */
export interface CapabilityEmbedding {
  readonly centroid: Float32Array;
  readonly texts: readonly Float32Array[];
}

/** What the space needs to know about a capability (the registry's entry satisfies it). */
export interface Indexed {
  readonly id: number;
}

export class ModelSpace<E extends Indexed> {
  private readonly index: TieredVectorIndex;
  private readonly owners = new Map<number, E>();
  private readonly labelsOf = new Map<number, number[]>();
  private nextLabel = 0;

  constructor(
    readonly modelId: string,
    readonly dimension: number,
    settings: IndexSettings,
  ) {
    this.index = new TieredVectorIndex(dimension, {
      exactThreshold: settings.exactThreshold,
      rebuildDeletedRatio: settings.rebuildDeletedRatio,
      hnsw: { m: settings.m, efConstruction: settings.efConstruction, efSearch: settings.efSearch, seed: settings.seed },
      build: settings.build,
      sliceMs: settings.sliceMs,
    });
  }

  /** Text vectors indexed. */
  get size(): number {
    return this.index.size;
  }

  /** Capabilities indexed. */
  get capabilities(): number {
    return this.labelsOf.size;
  }

  /** Indexes a capability's text vectors (it must not be indexed already). */
  add(entry: E, embedding: CapabilityEmbedding): void {
    if (this.labelsOf.has(entry.id)) throw new RangeError(`capability ${entry.id} is already in model space ${this.modelId}`);
    const labels: number[] = [];
    for (const v of embedding.texts) {
      const label = this.nextLabel++;
      this.index.add(label, v);
      this.owners.set(label, entry);
      labels.push(label);
    }
    this.labelsOf.set(entry.id, labels);
  }

  /** Marks a capability's text vectors deleted. */
  remove(entry: E): boolean {
    const labels = this.labelsOf.get(entry.id);
    if (labels === undefined) return false;
    for (const label of labels) {
      this.index.remove(label);
      this.owners.delete(label);
    }
    this.labelsOf.delete(entry.id);
    return true;
  }

  /** The tier searched now: "exact" (a scan costs the same whatever k) or "hnsw". */
  get kind(): string {
    return this.index.kind;
  }

  /** The `k` nearest text vectors of a query, best first. */
  search(query: Float32Array, k: number): VectorHit[] {
    return this.index.search(query, k);
  }

  /** The capability a text vector belongs to. */
  owner(label: number): E | undefined {
    return this.owners.get(label);
  }

  stats(): VectorIndexStats & { readonly capabilities: number; readonly migrating: boolean } {
    return { ...this.index.stats(), capabilities: this.labelsOf.size, migrating: this.index.migrating };
  }

  /** Resolves when background index work is done. */
  idle(): Promise<void> {
    return this.index.idle();
  }

  close(): void {
    this.index.close();
    this.owners.clear();
    this.labelsOf.clear();
  }
}
