/**
 * Bounded top-k selection: a binary min-heap of (score, label) whose root is
 * the weakest kept entry, so a scan over n items costs O(n log k). Equal
 * scores are ordered by ascending label, which makes results deterministic.
 */
import type { VectorHit } from './vector-index.js';

export class TopK {
  private readonly scores: Float64Array;
  private readonly ids: Float64Array;
  private count = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(Math.max(0, k));
    this.ids = new Float64Array(Math.max(0, k));
  }

  get size(): number {
    return this.count;
  }

  /** The score an item must beat to enter a full heap (-Infinity while not full). */
  get floor(): number {
    return this.count < this.k ? -Infinity : this.scores[0]!;
  }

  offer(score: number, label: number): void {
    if (this.k <= 0) return;
    if (this.count < this.k) {
      this.scores[this.count] = score;
      this.ids[this.count] = label;
      this.up(this.count++);
    } else if (this.weaker(this.scores[0]!, this.ids[0]!, score, label)) {
      this.scores[0] = score;
      this.ids[0] = label;
      this.down(0);
    }
  }

  /** The kept entries, best first. */
  sorted(): VectorHit[] {
    const out: VectorHit[] = [];
    for (let i = 0; i < this.count; i++) out.push({ label: this.ids[i]!, similarity: this.scores[i]! });
    return out.sort((a, b) => b.similarity - a.similarity || a.label - b.label);
  }

  /** Whether (s1, l1) ranks below (s2, l2). */
  private weaker(s1: number, l1: number, s2: number, l2: number): boolean {
    return s1 < s2 || (s1 === s2 && l1 > l2);
  }

  private swap(i: number, j: number): void {
    const s = this.scores[i]!;
    this.scores[i] = this.scores[j]!;
    this.scores[j] = s;
    const l = this.ids[i]!;
    this.ids[i] = this.ids[j]!;
    this.ids[j] = l;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.weaker(this.scores[i]!, this.ids[i]!, this.scores[parent]!, this.ids[parent]!)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let min = i;
      if (left < this.count && this.weaker(this.scores[left]!, this.ids[left]!, this.scores[min]!, this.ids[min]!)) min = left;
      if (right < this.count && this.weaker(this.scores[right]!, this.ids[right]!, this.scores[min]!, this.ids[min]!)) min = right;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }
}
