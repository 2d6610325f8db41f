/**
 * Approximate cosine search with hnswlib-node (HNSW graph, native). Removal
 * marks a point deleted: searches skip it but it keeps its slot, so once
 * deletions exceed `rebuildDeletedRatio` of the index the graph is rebuilt
 * from the live points (synchronously; `TieredVectorIndex` instead rebuilds
 * in the background and sets the ratio to null here). Capacity grows with
 * `resizeIndex`, doubling.
 */
import hnswlib from 'hnswlib-node';
import { assertDimension, type VectorHit, type VectorIndex, type VectorIndexStats } from './vector-index.js';
import { normalized } from './vector-math.js';

export interface HnswIndexOptions {
  /** Graph degree M (default 16). */
  readonly m?: number;
  /** Candidate list size while inserting (default 100). */
  readonly efConstruction?: number;
  /** Candidate list size while searching; raised to k when k is larger (default 128). */
  readonly efSearch?: number;
  /** Slots allocated up front (default 256). */
  readonly initialCapacity?: number;
  /** Seed of the level generator, for reproducible graphs (default 42). */
  readonly seed?: number;
  /** Rebuild when deleted / (live + deleted) exceeds this; null: never rebuild on its own (default 0.25). */
  readonly rebuildDeletedRatio?: number | null;
}

export class HnswVectorIndex implements VectorIndex {
  readonly kind = 'hnsw';
  /** The native graph; null once closed (hnswlib frees it when the object is collected). */
  private native: hnswlib.HierarchicalNSW | null;
  private readonly live = new Set<number>();
  private readonly dead = new Set<number>();
  private capacity: number;
  private rebuildCount = 0;
  private readonly m: number;
  private readonly efConstruction: number;
  private readonly efSearch: number;
  private readonly seed: number;
  private readonly rebuildRatio: number | null;

  constructor(
    readonly dimension: number,
    options: HnswIndexOptions = {},
  ) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
    this.m = options.m ?? 16;
    this.efConstruction = options.efConstruction ?? 100;
    this.efSearch = options.efSearch ?? 128;
    this.seed = options.seed ?? 42;
    this.rebuildRatio = options.rebuildDeletedRatio === undefined ? 0.25 : options.rebuildDeletedRatio;
    this.capacity = Math.max(16, options.initialCapacity ?? 256);
    this.native = this.create(this.capacity);
  }

  get size(): number {
    return this.live.size;
  }

  /** Fraction of the graph's points that are marked deleted. */
  get deletedRatio(): number {
    const total = this.live.size + this.dead.size;
    return total === 0 ? 0 : this.dead.size / total;
  }

  has(label: number): boolean {
    return this.live.has(label);
  }

  add(label: number, vector: Float32Array): void {
    assertDimension(this, vector);
    if (this.live.has(label)) throw new RangeError(`label ${label} is already in the index`);
    const unit = normalized(vector);
    if (unit === null) throw new RangeError(`label ${label}: a zero vector cannot be indexed`);
    // A label marked deleted still owns its slot: hnswlib updates the point in place and unmarks it.
    if (!this.dead.delete(label) && this.live.size + this.dead.size >= this.capacity) this.resize(this.capacity * 2);
    this.graph().addPoint(Array.from(unit), label);
    this.live.add(label);
  }

  remove(label: number): boolean {
    if (!this.live.delete(label)) return false;
    this.graph().markDelete(label);
    this.dead.add(label);
    if (this.rebuildRatio !== null && this.deletedRatio > this.rebuildRatio) this.rebuild();
    return true;
  }

  search(query: Float32Array, k: number): VectorHit[] {
    assertDimension(this, query, 'query');
    const q = normalized(query);
    const n = Math.min(Math.floor(k), this.live.size);
    if (q === null || n < 1) return [];
    const graph = this.graph();
    graph.setEf(Math.max(this.efSearch, n));
    const { neighbors, distances } = graph.searchKnn(Array.from(q), n);
    const hits: VectorHit[] = [];
    for (let i = 0; i < neighbors.length; i++) hits.push({ label: neighbors[i]!, similarity: 1 - distances[i]! });
    return hits;
  }

  vector(label: number): Float32Array | undefined {
    // hnswlib stores cosine points normalised, so this is the unit vector.
    return this.live.has(label) ? Float32Array.from(this.graph().getPoint(label)) : undefined;
  }

  labels(): Iterable<number> {
    return this.live.values();
  }

  stats(): VectorIndexStats {
    return { kind: this.kind, size: this.live.size, deleted: this.dead.size, capacity: this.capacity, rebuilds: this.rebuildCount };
  }

  /** Rebuilds the graph from the live points, dropping deleted ones. Blocks for the whole build. */
  rebuild(): void {
    const capacity = Math.max(16, this.live.size * 2);
    const old = this.graph();
    const fresh = this.create(capacity);
    for (const label of this.live) fresh.addPoint(old.getPoint(label), label);
    this.native = fresh;
    this.capacity = capacity;
    this.dead.clear();
    this.rebuildCount++;
  }

  close(): void {
    this.live.clear();
    this.dead.clear();
    this.native = null;
  }

  private graph(): hnswlib.HierarchicalNSW {
    if (this.native === null) throw new Error('the HNSW index is closed');
    return this.native;
  }

  private resize(capacity: number): void {
    this.graph().resizeIndex(capacity);
    this.capacity = capacity;
  }

  private create(capacity: number): hnswlib.HierarchicalNSW {
    const native = new hnswlib.HierarchicalNSW('cosine', this.dimension);
    native.initIndex(capacity, this.m, this.efConstruction, this.seed);
    native.setEf(this.efSearch);
    return native;
  }
}
