/**
 * The index the router uses per (tenant, model): an exact scan while small,
 * HNSW once the live size passes `exactThreshold`, back to exact below half
 * of it (hysteresis). HNSW deletions are marks; once they exceed
 * `rebuildDeletedRatio` of the graph a fresh graph is built from the live
 * points.
 *
 * Building a graph costs about a millisecond per vector at 512 dimensions, so
 * in `background` mode tier changes and rebuilds are migrations run in time
 * slices (`sliceMs` each, scheduled with `setImmediate` unless injected):
 * the current index keeps answering searches, adds and removals go to both,
 * and the new index replaces it once it holds every live point. `sync` mode
 * finishes each migration before returning (tests, benchmarks, tools).
 */
import { ExactVectorIndex } from './exact-index.js';
import { HnswVectorIndex, type HnswIndexOptions } from './hnsw-index.js';
import type { VectorHit, VectorIndex, VectorIndexStats } from './vector-index.js';

export type CancelScheduled = () => void;

export interface TieredIndexOptions {
  /** Live vectors above which searches move to HNSW (default 2000). */
  readonly exactThreshold?: number;
  /** HNSW rebuild trigger: deleted / (live + deleted) above this (default 0.25). */
  readonly rebuildDeletedRatio?: number;
  /** Graph parameters (initial capacity and rebuild policy are managed here). */
  readonly hnsw?: Omit<HnswIndexOptions, 'initialCapacity' | 'rebuildDeletedRatio'>;
  /** `background` (default) migrates in time slices; `sync` blocks until done. */
  readonly build?: 'background' | 'sync';
  /** Work per background slice, in milliseconds (default 8). */
  readonly sliceMs?: number;
  readonly schedule?: (fn: () => void) => CancelScheduled;
  /** Millisecond clock for slices (default performance.now). */
  readonly now?: () => number;
}

interface Migration {
  readonly target: VectorIndex;
  /** Labels to copy; adds made during the migration are appended. */
  readonly queue: number[];
  cursor: number;
}

function scheduleImmediate(fn: () => void): CancelScheduled {
  const handle = setImmediate(fn);
  return () => clearImmediate(handle);
}

export class TieredVectorIndex implements VectorIndex {
  private active: VectorIndex;
  private migration: Migration | null = null;
  private cancel: CancelScheduled | null = null;
  private waiters: Array<() => void> = [];
  private migrations = 0;
  private closed = false;
  private readonly exactThreshold: number;
  private readonly rebuildRatio: number;
  private readonly background: boolean;
  private readonly sliceMs: number;
  private readonly schedule: (fn: () => void) => CancelScheduled;
  private readonly now: () => number;

  constructor(
    readonly dimension: number,
    private readonly options: TieredIndexOptions = {},
  ) {
    this.exactThreshold = options.exactThreshold ?? 2000;
    this.rebuildRatio = options.rebuildDeletedRatio ?? 0.25;
    this.background = (options.build ?? 'background') === 'background';
    this.sliceMs = options.sliceMs ?? 8;
    this.schedule = options.schedule ?? scheduleImmediate;
    this.now = options.now ?? (() => performance.now());
    this.active = new ExactVectorIndex(dimension);
  }

  get kind(): string {
    return this.active.kind;
  }

  get size(): number {
    return this.active.size;
  }

  /** Whether a tier change or rebuild is in progress. */
  get migrating(): boolean {
    return this.migration !== null;
  }

  has(label: number): boolean {
    return this.active.has(label);
  }

  add(label: number, vector: Float32Array): void {
    this.active.add(label, vector);
    this.migration?.queue.push(label);
    this.maintain();
  }

  remove(label: number): boolean {
    if (!this.active.remove(label)) return false;
    const target = this.migration?.target;
    if (target?.has(label) === true) target.remove(label);
    this.maintain();
    return true;
  }

  search(query: Float32Array, k: number): VectorHit[] {
    return this.active.search(query, k);
  }

  vector(label: number): Float32Array | undefined {
    return this.active.vector(label);
  }

  labels(): Iterable<number> {
    return this.active.labels();
  }

  stats(): VectorIndexStats {
    return { ...this.active.stats(), rebuilds: this.migrations };
  }

  /** Resolves once no migration is in progress. */
  idle(): Promise<void> {
    if (this.migration === null) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.cancel?.();
    this.cancel = null;
    this.migration?.target.close();
    this.migration = null;
    this.active.close();
    this.release();
  }

  /** Starts whatever migration the current state calls for (at most one at a time). */
  private maintain(): void {
    if (this.migration !== null || this.closed) return;
    const active = this.active;
    if (active instanceof ExactVectorIndex) {
      if (active.size > this.exactThreshold) this.start(this.newHnsw(active.size));
    } else if (active.size < this.exactThreshold / 2) {
      // Copying into an exact index is cheap (no graph): always done at once.
      this.start(new ExactVectorIndex(this.dimension, { initialCapacity: Math.max(64, active.size * 2) }), true);
    } else if (active instanceof HnswVectorIndex && active.deletedRatio > this.rebuildRatio) {
      this.start(this.newHnsw(active.size));
    }
  }

  private newHnsw(size: number): HnswVectorIndex {
    return new HnswVectorIndex(this.dimension, {
      ...this.options.hnsw,
      initialCapacity: Math.max(256, Math.ceil(size * 1.5)),
      rebuildDeletedRatio: null,
    });
  }

  private start(target: VectorIndex, immediately = false): void {
    this.migration = { target, queue: [...this.active.labels()], cursor: 0 };
    if (this.background && !immediately) this.cancel = this.schedule(this.step);
    else this.runSlice(Infinity);
  }

  private readonly step = (): void => {
    this.cancel = null;
    if (this.migration === null) return;
    this.runSlice(this.now() + this.sliceMs);
    if (this.migration !== null && this.cancel === null) this.cancel = this.schedule(this.step);
  };

  /** Copies queued points until the deadline (checked every few points), finishing the migration if the queue empties. */
  private runSlice(deadline: number): void {
    const m = this.migration;
    if (m === null) return;
    while (m.cursor < m.queue.length) {
      const label = m.queue[m.cursor++]!;
      if (!m.target.has(label)) {
        const v = this.active.vector(label);
        if (v !== undefined) m.target.add(label, v);
      }
      if ((m.cursor & 3) === 0 && deadline !== Infinity && this.now() >= deadline) return;
    }
    const old = this.active;
    this.active = m.target;
    this.migration = null;
    this.migrations++;
    old.close();
    this.maintain();
    if (this.migration === null) this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
