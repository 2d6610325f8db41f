/**
 * Exact cosine search by linear scan over one contiguous Float32Array of unit
 * vectors. Removal swaps the last row into the hole, so the storage stays
 * dense and a scan touches only live rows; growth doubles the capacity.
 * Cheaper than HNSW below a few thousand vectors, and the reference the
 * approximate index is measured against.
 */
import { TopK } from './top-k.js';
import { assertDimension, type VectorHit, type VectorIndex, type VectorIndexStats } from './vector-index.js';
import { dotAt, normalized } from './vector-math.js';

export interface ExactIndexOptions {
  /** Rows allocated up front (default 64). */
  readonly initialCapacity?: number;
}

export class ExactVectorIndex implements VectorIndex {
  readonly kind = 'exact';
  private data: Float32Array;
  private rowLabels: Float64Array;
  private readonly rowOf = new Map<number, number>();
  private rows = 0;

  constructor(
    readonly dimension: number,
    options: ExactIndexOptions = {},
  ) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
    const capacity = Math.max(1, options.initialCapacity ?? 64);
    this.data = new Float32Array(capacity * dimension);
    this.rowLabels = new Float64Array(capacity);
  }

  get size(): number {
    return this.rows;
  }

  has(label: number): boolean {
    return this.rowOf.has(label);
  }

  add(label: number, vector: Float32Array): void {
    assertDimension(this, vector);
    if (this.rowOf.has(label)) throw new RangeError(`label ${label} is already in the index`);
    const unit = normalized(vector);
    if (unit === null) throw new RangeError(`label ${label}: a zero vector cannot be indexed`);
    if (this.rows === this.rowLabels.length) this.grow(this.rows * 2);
    this.data.set(unit, this.rows * this.dimension);
    this.rowLabels[this.rows] = label;
    this.rowOf.set(label, this.rows++);
  }

  remove(label: number): boolean {
    const row = this.rowOf.get(label);
    if (row === undefined) return false;
    this.rowOf.delete(label);
    const last = --this.rows;
    if (row !== last) {
      const d = this.dimension;
      this.data.copyWithin(row * d, last * d, last * d + d);
      const moved = this.rowLabels[last]!;
      this.rowLabels[row] = moved;
      this.rowOf.set(moved, row);
    }
    return true;
  }

  search(query: Float32Array, k: number): VectorHit[] {
    assertDimension(this, query, 'query');
    const q = normalized(query);
    if (q === null || k < 1 || this.rows === 0) return [];
    const top = new TopK(Math.min(k, this.rows));
    const { data, dimension: d } = this;
    for (let row = 0, off = 0; row < this.rows; row++, off += d) {
      const sum = dotAt(q, data, off);
      if (sum >= top.floor) top.offer(sum, this.rowLabels[row]!);
    }
    return top.sorted();
  }

  vector(label: number): Float32Array | undefined {
    const row = this.rowOf.get(label);
    if (row === undefined) return undefined;
    return this.data.slice(row * this.dimension, (row + 1) * this.dimension);
  }

  labels(): Iterable<number> {
    return this.rowOf.keys();
  }

  stats(): VectorIndexStats {
    return { kind: this.kind, size: this.rows, deleted: 0, capacity: this.rowLabels.length, rebuilds: 0 };
  }

  close(): void {
    this.rowOf.clear();
    this.rows = 0;
    this.data = new Float32Array(0);
    this.rowLabels = new Float64Array(0);
  }

  private grow(capacity: number): void {
    const data = new Float32Array(capacity * this.dimension);
    data.set(this.data.subarray(0, this.rows * this.dimension));
    this.data = data;
    const labels = new Float64Array(capacity);
    labels.set(this.rowLabels.subarray(0, this.rows));
    this.rowLabels = labels;
  }
}
