/**
 * Scoring defaults per embedding model id, fitted on development data:
 * BANKING77 `train.csv` utterances only (the `validation` split written by
 * scripts/eval/banking77.mjs), never its test queries. Reproduce with
 *
 *   node scripts/eval/banking77.mjs
 *   npm run eval:routing -- --dataset $TMPDIR/arqonbus-eval/banking77.json --model MODEL --fit
 *
 * (src/cli/eval-fit.ts: weights by 5-fold cross-validated balanced accuracy
 * over a grid, the threshold maximising balanced accuracy, rounded to 3
 * decimals, the margin maximising expected best-mode accuracy). The grids and
 * figures are in docs/routing.md. Both fits put no weight on the centroid
 * (on this data it added nothing the best-examples mean did not already
 * carry). A model missing here gets the generic profile of options.ts.
 */
import type { ScoringProfile } from './options.js';

export const FITTED_SCORING: Readonly<Record<string, ScoringProfile>> = Object.freeze({
  'glove-sif-100': Object.freeze({
    weights: Object.freeze({ centroid: 0, examples: 1, lexical: 0.8 }),
    threshold: 0.531,
    balanceMargin: 0.015,
  }),
  'use-lite-512': Object.freeze({
    weights: Object.freeze({ centroid: 0, examples: 0.4, lexical: 0.2 }),
    threshold: 0.577,
    balanceMargin: 0.01,
  }),
});
