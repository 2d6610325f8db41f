// The GloVe-SIF tokenizer, as a Hugging Face tokenizer.json (WordLevel model) that
// transformers.js loads like any other:
//
//   normalizer     curly apostrophes → ', lowercase, negations expanded ("can't" → "can not",
//                  "won't" → "will not", "n't" → " not": GloVe saw "n't" as its own token, which
//                  the wink vocabulary dropped, so "not" carries the negation instead)
//   pre-tokenizer  runs of letters/digits, and every punctuation or symbol character alone
//                  ("£20?" → "£", "20", "?"); whitespace is dropped
//   model          WordLevel; an unknown word maps to [UNK] (id 0), padding is [PAD] (id 1);
//                  both have a zero row in the table

export const UNK = '[UNK]';
export const PAD = '[PAD]';
export const UNK_ID = 0;
export const PAD_ID = 1;
export const FIRST_WORD_ID = 2;
/** Longer texts are truncated to this many tokens. */
export const MAX_TOKENS = 1024;

export const NORMALIZER = {
  type: 'Sequence',
  normalizers: [
    { type: 'Replace', pattern: { Regex: '[\u2018\u2019]' }, content: "'" },
    { type: 'Lowercase' },
    { type: 'Replace', pattern: { String: "can't" }, content: 'can not' },
    { type: 'Replace', pattern: { String: "won't" }, content: 'will not' },
    { type: 'Replace', pattern: { String: "n't" }, content: ' not' },
  ],
};

export const PRE_TOKENIZER = {
  type: 'Split',
  pattern: { Regex: '[^\\s\\p{P}\\p{S}]+|[\\p{P}\\p{S}]' },
  behavior: 'Removed',
  invert: true,
};

const special = (id, content) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** @param {readonly string[]} words  table words in id order (id = FIRST_WORD_ID + index) */
export function tokenizerJson(words) {
  const vocab = { [UNK]: UNK_ID, [PAD]: PAD_ID };
  words.forEach((w, i) => {
    vocab[w] = FIRST_WORD_ID + i;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(UNK_ID, UNK), special(PAD_ID, PAD)],
    normalizer: NORMALIZER,
    pre_tokenizer: PRE_TOKENIZER,
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: UNK },
  };
}

export const TOKENIZER_CONFIG = {
  tokenizer_class: 'PreTrainedTokenizer',
  unk_token: UNK,
  pad_token: PAD,
  model_max_length: MAX_TOKENS,
  clean_up_tokenization_spaces: false,
};
