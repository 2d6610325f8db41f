/**
 * Fitting the router's scoring defaults on development data (`npm run
 * eval:routing -- --dataset FILE --fit`): fusion weights, no-match threshold
 * and balancing margin, from the dataset's `validation` texts only.
 *
 * Each validation text is embedded and scored once (`explain`, mode `all`,
 * no threshold: every capability with its three components). The fused score
 * is a weighted mean of those components (scoring.ts), so every weight
 * setting of the grid is then pure arithmetic: nothing is embedded twice.
 *
 * - Weights: the grid setting with the best 5-fold cross-validated balanced
 *   accuracy (threshold chosen on four folds, measured on the fifth; folds
 *   stratified by in-scope / out-of-scope, fewer for tiny datasets), so a
 *   setting is not rewarded for a threshold that only fits the texts it was
 *   chosen on. Ties: the first in grid order.
 * - Threshold: for those weights, chosen on all of validation
 *   (eval-metrics.ts `chooseThreshold`).
 * - Margin: the one of MARGINS with the best expected `best`-mode in-scope
 *   accuracy (ties: the smallest). Balancing spreads a near-tie evenly, so a
 *   text whose tie set holds the expected agent counts 1/|tie set|: a margin
 *   costs where the best agent was right and a near-tie takes its share, and
 *   gains where the best was wrong and the expected agent was within the
 *   margin. Replicas declaring the same capability score exactly alike and
 *   share load at any margin.
 */
import type { ScoreWeights } from '../router/semantic/options.js';
import type { SemanticRouter } from '../router/semantic/semantic-router.js';
import { fuse } from '../router/semantic/scoring.js';
import type { EvalQuery } from './eval-dataset.js';
import { chooseThreshold, metricsAt, type QueryResult } from './eval-metrics.js';

/** One capability's components for one text. */
export interface ComponentCandidate {
  readonly agentId: string;
  readonly centroid: number;
  readonly examples: number;
  readonly lexical: number | null;
}

export interface ComponentRow {
  readonly expect: string | null;
  readonly candidates: readonly ComponentCandidate[];
}

/** Weight levels of the grid, per component (only ratios matter: the score divides by the sum). */
export const WEIGHT_LEVELS = [0, 0.2, 0.4, 0.6, 0.8, 1] as const;
export const MARGINS = [0, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03] as const;
export const FOLDS = 5;

/**
 * Scores every capability of the tenant for each text, once (no threshold, no
 * side effects). Every one: below `index.exactThreshold` texts the scan is
 * exact; above it the search stops widening at `maxCandidateTexts`.
 */
export async function collectComponents(router: SemanticRouter, tenant: string, texts: readonly EvalQuery[]): Promise<ComponentRow[]> {
  const rows: ComponentRow[] = [];
  for (const q of texts) {
    const e = await router.explain({ tenant, text: q.text, mode: 'all', minScore: -1 });
    rows.push({ expect: q.expect, candidates: e.candidates.map((c) => ({ agentId: c.agentId, ...c.components })) });
  }
  return rows;
}

/** Every weight setting of the grid, one per ratio (scaled so the largest weight is 1), centroid + examples > 0. */
export function weightGrid(levels: readonly number[] = WEIGHT_LEVELS): ScoreWeights[] {
  const seen = new Set<string>();
  const out: ScoreWeights[] = [];
  for (const centroid of levels) {
    for (const examples of levels) {
      for (const lexical of levels) {
        if (centroid + examples === 0) continue;
        const max = Math.max(centroid, examples, lexical);
        const key = [centroid, examples, lexical].map((w) => (w / max).toFixed(6)).join(',');
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ centroid, examples, lexical });
      }
    }
  }
  return out;
}

/** Each agent's best fused score for one text, best first (ties by agent id, as the router). */
export function agentScores(row: ComponentRow, w: ScoreWeights): Array<{ agentId: string; score: number }> {
  const best = new Map<string, number>();
  for (const c of row.candidates) {
    const s = fuse(c, w);
    const prev = best.get(c.agentId);
    if (prev === undefined || s > prev) best.set(c.agentId, s);
  }
  return [...best].map(([agentId, score]) => ({ agentId, score })).sort((a, b) => b.score - a.score || (a.agentId < b.agentId ? -1 : 1));
}

/** What the evaluator's k=2 route would have returned for each text under these weights. */
export function resultsAt(rows: readonly ComponentRow[], w: ScoreWeights): QueryResult[] {
  return rows.map((row) => {
    const [first, second] = agentScores(row, w);
    return { expect: row.expect, top: first?.agentId ?? null, score: first?.score ?? -Infinity, second: second?.score ?? -Infinity, ms: 0 };
  });
}

/** Folds a dataset allows: every fold needs in-scope and out-of-scope texts (at most `folds`; below 2, none). */
export function foldCount(results: readonly QueryResult[], folds = FOLDS): number {
  const out = results.filter((r) => r.expect === null).length;
  const n = Math.min(folds, out, results.length - out);
  return n >= 2 ? n : 0;
}

/**
 * Mean held-out balanced accuracy over stratified folds (the k-th in-scope
 * text, and the k-th out-of-scope one, go to fold k mod folds), so every fold
 * holds both kinds; null when the texts allow fewer than 2 folds.
 */
export function crossValidated(results: readonly QueryResult[], folds = FOLDS): number | null {
  const n = foldCount(results, folds);
  if (n === 0) return null;
  const seen = { in: 0, out: 0 };
  const foldOf = results.map((r) => (r.expect === null ? seen.out++ : seen.in++) % n);
  let sum = 0;
  for (let f = 0; f < n; f++) {
    const train = results.filter((_, i) => foldOf[i] !== f);
    const held = results.filter((_, i) => foldOf[i] === f);
    const chosen = chooseThreshold(train);
    const m = chosen === null ? null : metricsAt(held, chosen.threshold).balanced;
    if (m === null) return null;
    sum += m;
  }
  return sum / n;
}

/** Expected in-scope accuracy of `best` mode at a threshold and margin (an even share of each near-tie). */
export function bestModeAccuracy(rows: readonly ComponentRow[], w: ScoreWeights, threshold: number, margin: number): number | null {
  let inScope = 0;
  let credit = 0;
  for (const row of rows) {
    if (row.expect === null) continue;
    inScope++;
    const agents = agentScores(row, w);
    const top = agents[0];
    if (top === undefined || top.score < threshold) continue;
    const tied = agents.filter((a) => a.score >= Math.max(threshold, top.score - margin));
    if (tied.some((a) => a.agentId === row.expect)) credit += 1 / tied.length;
  }
  return inScope === 0 ? null : credit / inScope;
}

export interface GridRow {
  readonly weights: ScoreWeights;
  /** Cross-validated balanced accuracy (the criterion). */
  readonly cv: number;
  /** Balanced accuracy at the threshold chosen on all of validation (optimistic; shown for reference). */
  readonly fitted: number;
  readonly threshold: number;
}

export interface MarginRow {
  readonly margin: number;
  readonly accuracy: number;
  /** Accuracy lost against margin 0. */
  readonly loss: number;
}

export interface FitResult {
  readonly texts: number;
  /** Cross-validation folds used (FOLDS unless the texts allow fewer). */
  readonly folds: number;
  readonly grid: readonly GridRow[];
  readonly chosen: GridRow;
  readonly margins: readonly MarginRow[];
  readonly balanceMargin: number;
}

/** Fits weights, threshold and margin on validation rows (see the module comment). */
export function fitDefaults(rows: readonly ComponentRow[], grid: readonly ScoreWeights[] = weightGrid()): FitResult {
  const scored: GridRow[] = [];
  for (const weights of grid) {
    const results = resultsAt(rows, weights);
    const cv = crossValidated(results);
    const all = chooseThreshold(results);
    if (cv === null || all === null) continue;
    scored.push({ weights, cv, fitted: all.balanced!, threshold: all.threshold });
  }
  if (scored.length === 0) throw new RangeError('validation needs at least 2 in-scope and 2 out-of-scope texts to fit defaults');
  const chosen = scored.reduce((best, r) => (r.cv > best.cv + 1e-12 ? r : best));
  const base = bestModeAccuracy(rows, chosen.weights, chosen.threshold, 0)!;
  const margins = MARGINS.map((margin) => {
    const accuracy = bestModeAccuracy(rows, chosen.weights, chosen.threshold, margin)!;
    return { margin, accuracy, loss: base - accuracy };
  });
  const balanceMargin = margins.reduce((best, m) => (m.accuracy > best.accuracy + 1e-12 ? m : best)).margin;
  const folds = foldCount(resultsAt(rows, chosen.weights));
  return { texts: rows.length, folds, grid: [...scored].sort((a, b) => b.cv - a.cv), chosen, margins, balanceMargin };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const fmtW = (w: ScoreWeights): string => `${w.centroid} / ${w.examples} / ${w.lexical}`;

/** The grid (best `top` rows and the given reference weights), the margin table and the chosen values. */
export function formatFit(modelId: string, fit: FitResult, reference: ScoreWeights, top = 10): string {
  const same = (a: ScoreWeights, b: ScoreWeights): boolean => a.centroid === b.centroid && a.examples === b.examples && a.lexical === b.lexical;
  const lines = [`fit on ${fit.texts} validation texts, model ${modelId}; ${fit.grid.length} weight settings, ${fit.folds}-fold CV`, 'rank  weights c / e / l   CV balanced  fitted balanced  threshold'];
  fit.grid.forEach((r, i) => {
    if (i < top || same(r.weights, reference)) {
      lines.push(`${String(i + 1).padStart(4)}  ${fmtW(r.weights).padEnd(18)} ${pct(r.cv).padStart(11)}  ${pct(r.fitted).padStart(15)}  ${r.threshold.toFixed(4)}${same(r.weights, reference) ? '  (reference)' : ''}`);
    }
  });
  lines.push('margin  best-mode in-scope accuracy (expected)  loss vs margin 0');
  for (const m of fit.margins) lines.push(`${m.margin.toFixed(4).padStart(6)}  ${pct(m.accuracy).padStart(38)}  ${pct(m.loss)}`);
  lines.push(`chosen: weights ${fmtW(fit.chosen.weights)}, threshold ${fit.chosen.threshold.toFixed(4)}, balanceMargin ${fit.balanceMargin}`);
  return lines.join('\n');
}
