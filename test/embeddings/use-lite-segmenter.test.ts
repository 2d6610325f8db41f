/**
 * The original USE-lite segmentation rules, on a small synthetic vocabulary
 * (the full-vocabulary parity check is in use-lite.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { UseLiteSegmenter } from '../../src/embeddings/use-lite-segmenter.js';

const RESERVED: [string, number][] = [['<unk>', 0], ['<s>', 0], ['</s>', 0], ['e1', 0], ['e2', 0], ['e3', 0]];
const PIECES: [string, number | null][] = [
  ['▁', -1], // 6
  ['1', -2], // 7
  ['11', -3], // 8
  ['▁:', null], // 9
  [':', null], // 10
  ['xy', -1], // 11
  ['▁hello', -5], // 12
  ['dup', -4], // 13
  ['dup', -4], // 14: duplicate piece, the last id wins
  ['d', -9], // 15
  ['u', -9], // 16
  ['p', -9], // 17
];
const segmenter = new UseLiteSegmenter([...RESERVED, ...PIECES]);

describe('UseLiteSegmenter', () => {
  it('on an exact score tie keeps the later candidate (shorter last piece)', () => {
    // ▁|1|11 and ▁|11|1 both score −6; a Unigram lattice keeps the first.
    expect(segmenter.segment('▁111')).toEqual([6, 8, 7]);
  });

  it('treats a running score of exactly 0 as unset', () => {
    // "▁:" scores 0 and is replaced by ▁|: (−1), as in the original.
    expect(segmenter.segment('▁:')).toEqual([6, 10]);
  });

  it('emits one unknown id for a run of symbols no piece starts with', () => {
    expect(segmenter.segment('▁ab🚀')).toEqual([6, 0]);
    // "x" starts the piece "xy", but "xz" does not match it: unknown.
    expect(segmenter.segment('▁xz')).toEqual([6, 0]);
  });

  it('scores unknown symbols 0, like a position no piece reaches (the original\'s rules)', () => {
    // ▁hello (−5) loses to ▁ (−1) + five unknown symbols (0 each), merged into one id.
    expect(segmenter.segment('▁hello')).toEqual([6, 0]);
  });

  it('never produces the reserved ids 1–5 and keeps the last of duplicate pieces', () => {
    expect(segmenter.segment('▁<s>')).toEqual([6, 0]);
    expect(segmenter.segment('▁dup')).toEqual([6, 14]);
  });

  it('gives nothing for nothing', () => {
    expect(segmenter.segment('')).toEqual([]);
  });
});
