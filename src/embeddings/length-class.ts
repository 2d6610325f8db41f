/**
 * Length classes for bucketing a batch. A model call pads every text to the
 * longest one of the call, so one 128-token text in a batch of 31 short ones
 * makes the whole call cost 32 long texts (measured: 7.5× a batch of 32 short
 * ones, docs/models.md). The batcher sends each class in its own call.
 *
 * The rule is an estimate that needs no tokenizer: about 4 UTF-16 code units per
 * token (measured 4.3 on the test corpus with the use-lite tokenizer, median 4.4),
 * so the class is the power of two of tokens the text fits in:
 *
 *   class 0: ≤ 32 code units (≤ ~8 tokens)    class 3: ≤ 256 (≤ ~64 tokens)
 *   class 1: ≤ 64            (≤ ~16 tokens)   class 4: longer (use-lite cuts at 128 tokens)
 *   class 2: ≤ 128           (≤ ~32 tokens)
 *
 * Within a class the longest text is at most about twice the shortest, so
 * padding wastes at most about half of a call; a misjudged text (emoji, CJK and
 * digits tokenise denser) usually lands in a neighbouring class, costing padding,
 * never correctness.
 */

/** Code units per class step: class k holds texts of at most SMALLEST_CLASS_LENGTH · 2^k code units. */
const SMALLEST_CLASS_LENGTH = 32;
/** Classes 0 … LENGTH_CLASSES − 1; the last one is open-ended. */
export const LENGTH_CLASSES = 5;

/** The length class of `text` (0 = shortest). */
export function lengthClass(text: string): number {
  let limit = SMALLEST_CLASS_LENGTH;
  for (let k = 0; k < LENGTH_CLASSES - 1; k++, limit *= 2) {
    if (text.length <= limit) return k;
  }
  return LENGTH_CLASSES - 1;
}
