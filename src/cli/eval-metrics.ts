/**
 * Routing-eval maths over per-query results: the no-match threshold chosen on
 * validation, accuracy and rejection at a threshold, latency percentiles.
 *
 * Each query is routed once with no threshold (min_score -1), so its best
 * agent and score are known; whether it would match at threshold t is then
 * `score >= t`, exactly the router's own test. That lets every candidate
 * threshold be tried without routing again.
 */

export interface QueryResult {
  /** null: no agent should match. */
  readonly expect: string | null;
  /** The best-scored agent (null when the router found no candidate, e.g. a zero vector). */
  readonly top: string | null;
  /** Its fused score; -Infinity without a candidate. */
  readonly score: number;
  /** The runner-up agent's score (-Infinity if none): near-ties are load-balanced in `best` mode. */
  readonly second: number;
  /** Milliseconds for the route call, embedding included. */
  readonly ms: number;
}

export interface ThresholdMetrics {
  readonly threshold: number;
  /** In-scope queries (expect ≠ null). */
  readonly inScope: number;
  /** Out-of-scope queries (expect = null). */
  readonly outOfScope: number;
  /** Best agent is the expected one, threshold ignored: the ranking's quality. */
  readonly top1Accuracy: number | null;
  /** Matched (score ≥ threshold) and the expected agent: what a caller gets. */
  readonly inScopeAccuracy: number | null;
  /** Out-of-scope queries answered with no match. */
  readonly noMatchRecall: number | null;
  /** (inScopeAccuracy + noMatchRecall) / 2: the criterion the threshold maximises. */
  readonly balanced: number | null;
}

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

export function metricsAt(results: readonly QueryResult[], threshold: number): ThresholdMetrics {
  let inScope = 0;
  let outOfScope = 0;
  let top1 = 0;
  let accepted = 0;
  let rejected = 0;
  for (const r of results) {
    if (r.expect === null) {
      outOfScope++;
      if (!(r.score >= threshold)) rejected++;
    } else {
      inScope++;
      if (r.top === r.expect) {
        top1++;
        if (r.score >= threshold) accepted++;
      }
    }
  }
  const inScopeAccuracy = ratio(accepted, inScope);
  const noMatchRecall = ratio(rejected, outOfScope);
  return {
    threshold,
    inScope,
    outOfScope,
    top1Accuracy: ratio(top1, inScope),
    inScopeAccuracy,
    noMatchRecall,
    balanced: inScopeAccuracy === null || noMatchRecall === null ? null : (inScopeAccuracy + noMatchRecall) / 2,
  };
}

/**
 * The threshold maximising balanced accuracy, (in-scope accuracy + no-match
 * recall) / 2, so a dataset with few out-of-scope queries does not let
 * rejection count for little. Candidates are the midpoints between
 * consecutive distinct scores (and just below the lowest and above the
 * highest), clamped to the router's [-1, 1]; ties go to the lowest threshold.
 * Null when the results lack in-scope or out-of-scope queries.
 */
export function chooseThreshold(results: readonly QueryResult[]): ThresholdMetrics | null {
  const scores = [...new Set(results.map((r) => r.score).filter(Number.isFinite))].sort((a, b) => a - b);
  if (scores.length === 0) return null;
  const candidates = [scores[0]! - 1e-6];
  for (let i = 1; i < scores.length; i++) candidates.push((scores[i - 1]! + scores[i]!) / 2);
  candidates.push(scores[scores.length - 1]! + 1e-6);
  let best: ThresholdMetrics | null = null;
  for (const c of candidates) {
    const m = metricsAt(results, Math.min(1, Math.max(-1, c)));
    if (m.balanced === null) return null;
    if (best === null || m.balanced > best.balanced!) best = m;
  }
  return best;
}

/** Share of in-scope queries whose runner-up is within `margin` of the best (balanced among in `best` mode). */
export function nearTieRate(results: readonly QueryResult[], margin: number): number | null {
  const inScope = results.filter((r) => r.expect !== null);
  return ratio(inScope.filter((r) => r.score - r.second <= margin).length, inScope.length);
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** Nearest-rank percentiles of the per-query times, in milliseconds. */
export function latency(ms: readonly number[]): Latency {
  if (ms.length === 0) return { p50: 0, p99: 0, mean: 0 };
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((s, v) => s + v, 0) / sorted.length };
}
