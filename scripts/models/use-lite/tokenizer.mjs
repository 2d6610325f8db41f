/**
 * The USE-lite SentencePiece vocabulary (vocab.json: [piece, score] pairs) as a
 * transformers.js `Unigram` tokenizer.json.
 *
 * The original tokenizer (tfjs-models / @energetic-ai/embeddings) NFKC-normalises,
 * turns spaces into "▁", prefixes "▁" and runs one Viterbi over the whole string;
 * the normalizer Sequence below does the same, with no pre-tokenizer.
 * - ids 0–5 (unk, <s>, </s>, extra ids) are never produced by the original: they are
 *   renamed to strings containing a space, which a normalised text never holds.
 * - a few scores are null (":", "://", "▁:", ...): written as 0, the value they
 *   take in the original's arithmetic.
 * - a duplicate piece ("”5", three times): kept; in both implementations the
 *   last id wins.
 * What a Unigram lattice cannot express (exact score ties, a running score of
 * exactly 0 treated as unset, the empty text) is handled at run time by
 * src/embeddings/use-lite-segmenter.ts; see docs/models.md.
 */

export const RESERVED = [' <unk>', ' <s>', ' </s>', ' <extra_token_id_1>', ' <extra_token_id_2>', ' <extra_token_id_3>'];
export const SEPARATOR = '\u2581';

/**
 * @param {[string, number | null][]} vocab the original vocab.json
 * @param {{ maxLength: number, hiddenSize: number }} model
 */
export function buildTokenizerFiles(vocab, model) {
  const pieces = vocab.map(([piece, score], id) => [id < RESERVED.length ? /** @type {string} */ (RESERVED[id]) : piece, score ?? 0]);
  const separatorId = vocab.findIndex(([piece], id) => id >= RESERVED.length && piece === SEPARATOR);
  if (separatorId < 0) throw new Error('vocab.json has no "▁" piece');

  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFKC' },
        { type: 'Replace', pattern: { String: ' ' }, content: SEPARATOR },
        { type: 'Prepend', prepend: SEPARATOR },
      ],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: SEPARATOR, add_prefix_space: true, prepend_scheme: 'always' },
    model: { type: 'Unigram', unk_id: 0, vocab: pieces, byte_fallback: false },
  };
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizer',
    model_max_length: model.maxLength,
    padding_side: 'right',
    unk_token: RESERVED[0],
    pad_token: RESERVED[0],
    clean_up_tokenization_spaces: false,
  };
  const config = {
    // transformers.js maps model_type "bert" to BertModel, which feeds only the inputs
    // the ONNX session declares (input_ids, attention_mask) and returns last_hidden_state.
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: model.hiddenSize,
    vocab_size: vocab.length,
    max_position_embeddings: model.maxLength,
    use_lite: {
      output: `sentence embedding [batch, ${model.hiddenSize}], L2-normalised; call the pipeline with pooling "none"`,
      unk_id: 0,
      separator_id: separatorId,
    },
  };
  return { tokenizer, tokenizerConfig, config, separatorId };
}
