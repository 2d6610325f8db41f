/**
 * The candidate-generation seam: a cosine nearest-neighbour index over unit
 * vectors identified by integer labels. Implementations: `ExactVectorIndex`
 * (a linear scan, exact), `HnswVectorIndex` (hnswlib-node, approximate) and
 * `TieredVectorIndex` (exact below a size threshold, HNSW above it, with
 * rebuilds). All of them pass test/router/semantic/vector-index.conformance.ts.
 */

export interface VectorHit {
  readonly label: number;
  /** Cosine similarity to the query, in [-1, 1]. */
  readonly similarity: number;
}

export interface VectorIndexStats {
  readonly kind: string;
  /** Live (searchable) vectors. */
  readonly size: number;
  /** Vectors marked deleted but still occupying the structure (HNSW only; 0 for exact). */
  readonly deleted: number;
  /** Slots allocated before the next growth. */
  readonly capacity: number;
  /** Completed rebuilds (and tier migrations, for the tiered index). */
  readonly rebuilds: number;
}

export interface VectorIndex {
  /** "exact" or "hnsw" (the tiered index reports the tier it currently searches). */
  readonly kind: string;
  readonly dimension: number;
  /** Live vectors. */
  readonly size: number;
  has(label: number): boolean;
  /**
   * Adds a vector under a label that is not live (a removed label may be added
   * again). The vector is normalised; a zero vector is a RangeError, and so is
   * a wrong dimension or a label that is already live.
   */
  add(label: number, vector: Float32Array): void;
  /** Removes a label; false if it was not live. */
  remove(label: number): boolean;
  /**
   * Up to `k` live labels, most similar first. A zero query gives no hits.
   * Approximate indexes may miss some true neighbours, never return removed ones.
   */
  search(query: Float32Array, k: number): VectorHit[];
  /** The stored unit vector of a live label. */
  vector(label: number): Float32Array | undefined;
  /** Live labels, in no particular order. */
  labels(): Iterable<number>;
  stats(): VectorIndexStats;
  /** Releases native memory and stops background work; the index is unusable afterwards. */
  close(): void;
}

/** Throws unless `v` has the index's dimension. */
export function assertDimension(index: { readonly dimension: number }, v: Float32Array, what = 'vector'): void {
  if (v.length !== index.dimension) {
    throw new RangeError(`${what} has dimension ${v.length}, the index expects ${index.dimension}`);
  }
}
