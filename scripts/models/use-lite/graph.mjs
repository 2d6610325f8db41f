/**
 * Universal Sentence Encoder lite as an ONNX graph, rebuilt from the TF.js
 * weights (not translated node by node: the 317 TF nodes are mostly sparse
 * input plumbing). The structure below was read off model.json's node list and
 * is asserted against it in `assertTopology`, so a different model version
 * fails the build instead of producing a subtly wrong model.
 *
 *   x   = (2·E[id] + timing[pos]) · mask                    256-d
 *   L0  : y = MHA(LN(x)) + dense₂₅₆→₅₁₂(x)·mask;  y += FFN(LN(y))·mask
 *   L1  : y = MHA(LN(y)) + y;                     y += FFN(LN(y))·mask
 *   out = l2norm(tanh(dense(Σ y·mask / max(Σ mask, 1)))) · [any token other than unk / "▁"]
 *
 * Pre-norm (layer norm on each sub-layer's input, residual from the raw sum,
 * no final norm), despite the `layer_prepostprocess` names. Attention masks
 * padding keys with −1e9; queries at padding positions are computed and
 * ignored, as in the original.
 */
import { FLOAT, INT64, OnnxGraph, float } from '../lib/onnx-graph.mjs';
import { graphEdges, int32s, scalar, weight } from '../lib/tfjs-weights.mjs';

const APPLY = 'module_apply_default/Encoder_en/';
const ENC = `${APPLY}KonaTransformer/Encode/`;
const STACK = `${ENC}TransformerStack/`;
const VARS = 'module/Encoder_en/KonaTransformer/Encode/';

export const VOCAB_SIZE = 8002;
export const EMBEDDING_DIM = 256;
export const HIDDEN_DIM = 512;
export const FFN_DIM = 1536;
export const OUTPUT_DIM = 512;

/**
 * Checks the structural facts the rebuilt graph relies on.
 * @param {import('../lib/tfjs-weights.mjs').TfGraphModel} tf
 */
export function assertTopology(tf) {
  const edges = graphEdges(tf);
  /** @param {string} node @param {string[]} inputs */
  const expectInputs = (node, inputs) => {
    const e = edges.get(node);
    if (e === undefined) throw new Error(`model.json: node ${node} not found`);
    for (const i of inputs) {
      if (!e.inputs.includes(i)) throw new Error(`model.json: ${node} does not read ${i} (reads ${e.inputs.join(', ')})`);
    }
  };
  const L0 = `${STACK}Layer_0/`;
  const L1 = `${STACK}Layer_1/`;
  // Layer 0's input is the scattered embedding plus (the same embedding + timing signal).
  expectInputs(`${L0}add`, [`${ENC}Scatter/ScatterNd`, `${L0}AddTimingSignal/Scatter/ScatterNd`]);
  expectInputs(`${L0}AddTimingSignal/add`, [`${L0}AddTimingSignal/Gather/GatherNd`, `${L0}AddTimingSignal/TimingSignal/concat`]);
  expectInputs(`${L0}AddTimingSignal/Gather/GatherNd`, [`${ENC}Scatter/ScatterNd`]);
  // Pre-norm: each layer norm reads the sub-layer input; residuals bypass it.
  expectInputs(`${L0}TransformerLayer/layer_prepostprocess/layer_norm/Mean`, [`${L0}add`]);
  expectInputs(`${L0}TransformerLayer/AdjustResidualInput/Gather/GatherNd`, [`${L0}add`]);
  expectInputs(`${L0}TransformerLayer/layer_postprocess/add`, [`${L0}TransformerLayer/AdjustResidualInput/Scatter/ScatterNd`]);
  expectInputs(`${L0}TransformerLayer/FFN/layer_prepostprocess/layer_norm/Mean`, [`${L0}TransformerLayer/layer_postprocess/add`]);
  expectInputs(`${L0}TransformerLayer/FFN/layer_postprocess/add`, [`${L0}TransformerLayer/layer_postprocess/add`]);
  expectInputs(`${L1}TransformerLayer/layer_prepostprocess/layer_norm/Mean`, [`${L0}TransformerLayer/FFN/layer_postprocess/add`]);
  expectInputs(`${L1}TransformerLayer/layer_postprocess/add`, [`${L0}TransformerLayer/FFN/layer_postprocess/add`]);
  expectInputs(`${L1}TransformerLayer/FFN/layer_postprocess/add`, [`${L1}TransformerLayer/layer_postprocess/add`]);
  // No final layer norm: masked mean of the last residual sum, then dense + tanh, then L2.
  expectInputs(`${APPLY}KonaTransformer/mul`, [`${L1}TransformerLayer/FFN/layer_postprocess/add`]);
  expectInputs(`${APPLY}hidden_layers/tanh_layer_0/MatMul`, [`${APPLY}KonaTransformer/div`]);
  expectInputs(`${APPLY}hidden_layers/l2_normalize`, [`${APPLY}hidden_layers/tanh_layer_0/Tanh`]);
}

/**
 * Sinusoidal timing signal, [maxLength, 2·n]: sin(p·inv) ‖ cos(p·inv), in float32 like the TF graph.
 * @param {Buffer} invTimescales n float32 values @param {number} maxLength
 */
function timingTable(invTimescales, maxLength) {
  const n = invTimescales.length / 4;
  const table = new Float32Array(maxLength * 2 * n);
  for (let p = 0; p < maxLength; p++) {
    for (let j = 0; j < n; j++) {
      const angle = Math.fround(p * invTimescales.readFloatLE(4 * j));
      table[p * 2 * n + j] = Math.sin(angle);
      table[p * 2 * n + n + j] = Math.cos(angle);
    }
  }
  return table;
}

/**
 * Builds the ONNX graph: inputs `input_ids`, `attention_mask` (int64 [batch, seq]),
 * output `last_hidden_state` (float [batch, 512], the final sentence vector).
 * @param {import('../lib/tfjs-weights.mjs').TfGraphModel} tf
 * @param {{ separatorId: number, unkId: number }} ids token ids that do not count as "known"
 */
export function buildUseLiteGraph(tf, ids) {
  assertTopology(tf);
  const g = new OnnxGraph('use_lite');
  /** @param {string} name @param {number[]} shape @param {number[]} [dims] */
  const W = (name, shape, dims = shape) => {
    const w = weight(tf, name, shape);
    return g.floatBytes(name.replace(/^module(_apply_default)?\/(Encoder_en\/)?(KonaTransformer\/Encode\/)?/, ''), dims, w.bytes);
  };

  const maxLength = scalar(tf, `${APPLY}KonaTransformer/ClipToMaxLength/Less/y`);
  const epsilon = scalar(tf, `${STACK}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`);
  const maskBias = scalar(tf, `${STACK}Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`);
  const l2Epsilon = scalar(tf, `${APPLY}hidden_layers/l2_normalize/Maximum/y`);
  const heads = scalar(tf, `${STACK}Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2`);

  // ---- inputs, clipped to the model's maximum length (ClipToMaxLength) ----
  const inputIds = g.input('input_ids', INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', INT64, ['batch_size', 'sequence_length']);
  const zero = g.int64s('const_0', [0]);
  const one = g.int64s('const_1', [1]);
  const two = g.int64s('const_2', [2]);
  const axis1 = one;
  const maxLen = g.int64s('max_length', [maxLength]);
  const tokens = g.node('Slice', [inputIds, zero, maxLen, axis1], {}, 'ids_clipped');
  const mask = g.node('Cast', [g.node('Slice', [attentionMask, zero, maxLen, axis1], {}, 'mask_clipped')], { to: FLOAT }, 'mask');
  const mask3 = g.node('Unsqueeze', [mask, two], {}, 'mask_3d'); // [B,T,1]
  const seqLen = g.node('Slice', [g.node('Shape', [tokens]), one, two], {}, 'seq_len'); // [T]

  // Attention bias for padding keys: (1 − mask)·(−1e9), [B,1,1,T].
  const notMask = g.node('Sub', [g.scalar('one_f', 1), mask]);
  const bias = g.node('Unsqueeze', [g.node('Mul', [notMask, g.scalar('mask_bias', maskBias)]), g.int64s('axes_1_2', [1, 2])], {}, 'attention_bias');

  // ---- embedding + timing signal: the graph adds the embedding twice ----
  const E = W('module/Embeddings_en', [VOCAB_SIZE, EMBEDDING_DIM]);
  const emb = g.node('Gather', [E, tokens], { axis: 0 }, 'embedding');
  const inv = weight(tf, `${STACK}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, [1, EMBEDDING_DIM / 2]);
  const table = g.floats('timing_signal', [maxLength, EMBEDDING_DIM], timingTable(inv.bytes, maxLength));
  const timing = g.node('Slice', [table, zero, seqLen, zero], {}, 'timing'); // [T,256]
  const x0 = g.node('Mul', [g.node('Add', [emb, g.node('Add', [emb, timing])]), mask3], {}, 'layer_0_input');

  /** @param {string} h @param {number} layer @param {'' | 'FFN/'} where @param {number} dim */
  const layerNorm = (h, layer, where, dim) => {
    const p = `${ENC}Layer_${layer}/TransformerLayer/${where}layer_prepostprocess/layer_norm/`;
    return g.node('LayerNormalization', [h, W(`${p}layer_norm_scale/ConcatPartitions/concat`, [dim]), W(`${p}layer_norm_bias/ConcatPartitions/concat`, [dim])], {
      axis: -1,
      epsilon: float(epsilon),
    });
  };

  /** @param {string} h normalized input @param {number} layer @param {number} inDim @param {number} outDim */
  const attention = (h, layer, inDim, outDim) => {
    const mha = `Layer_${layer}/TransformerLayer/MultiheadAttention/`;
    const split = int32s(tf, `${STACK}${mha}Const`, 3);
    const width = /** @type {number} */ (split[0]);
    const headDim = scalar(tf, `${STACK}${mha}split_heads/split_last_dimension/Reshape/shape/3`);
    if (width !== heads * headDim || split.some((s) => s !== width)) throw new Error(`layer ${layer}: q/k/v split ${split} vs ${heads}×${headDim}`);
    const qkvKernel = W(`${VARS}${mha}qkv_transform_single/kernel/part_0`, [1, 1, inDim, 3 * width], [inDim, 3 * width]);
    const qkv = g.node('Add', [g.node('MatMul', [h, qkvKernel]), W(`${ENC}${mha}qkv_transform_single/bias/ConcatPartitions/concat`, [3 * width])]);
    const [q, k, v] = g.nodeN('Split', [qkv, g.int64s(`layer_${layer}_qkv_split`, split)], { axis: 2 }, { outputs: 3 });
    const headsShape = g.int64s(`layer_${layer}_heads_shape`, [0, 0, heads, headDim]);
    /** @param {string} t @param {number[]} perm */
    const toHeads = (t, perm) => g.node('Transpose', [g.node('Reshape', [t, headsShape])], { perm });
    const qh = g.node('Mul', [toHeads(/** @type {string} */ (q), [0, 2, 1, 3]), g.scalar(`layer_${layer}_query_scale`, scalar(tf, `${STACK}${mha}mul/y`))]);
    const kt = toHeads(/** @type {string} */ (k), [0, 2, 3, 1]);
    const vh = toHeads(/** @type {string} */ (v), [0, 2, 1, 3]);
    const weights = g.node('Softmax', [g.node('Add', [g.node('MatMul', [qh, kt]), bias])], { axis: -1 });
    const context = g.node('Transpose', [g.node('MatMul', [weights, vh])], { perm: [0, 2, 1, 3] });
    const merged = g.node('Reshape', [context, g.int64s(`layer_${layer}_merge_shape`, [0, 0, width])]);
    const outKernel = W(`${VARS}${mha}output_transform_single/kernel/part_0`, [1, 1, width, outDim], [width, outDim]);
    return g.node('Add', [g.node('MatMul', [merged, outKernel]), W(`${ENC}${mha}output_transform_single/bias/ConcatPartitions/concat`, [outDim])]);
  };

  /** FFN over LN(y), zero at padding (the original scatters it back to valid positions only). @param {string} y @param {number} layer */
  const ffn = (y, layer) => {
    const f = `Layer_${layer}/TransformerLayer/FFN/`;
    const h = layerNorm(y, layer, 'FFN/', HIDDEN_DIM);
    const up = g.node('Relu', [g.node('Add', [g.node('MatMul', [h, W(`${STACK}${f}conv1/Tensordot/Reshape_1`, [HIDDEN_DIM, FFN_DIM])]), W(`${ENC}${f}conv1/bias/ConcatPartitions/concat`, [FFN_DIM])])]);
    const down = g.node('Add', [g.node('MatMul', [up, W(`${STACK}${f}conv2/Tensordot/Reshape_1`, [FFN_DIM, HIDDEN_DIM])]), W(`${ENC}${f}conv2/bias/ConcatPartitions/concat`, [HIDDEN_DIM])]);
    return g.node('Add', [g.node('Mul', [down, mask3]), y], {}, `layer_${layer}_output`);
  };

  // ---- layer 0: 256-d in, 512-d out (residual through a dense projection) ----
  const a0 = attention(layerNorm(x0, 0, '', EMBEDDING_DIM), 0, EMBEDDING_DIM, HIDDEN_DIM);
  const dense = `${ENC}Layer_0/TransformerLayer/dense/`;
  const residual0 = g.node('Mul', [
    g.node('Add', [g.node('MatMul', [x0, W(`${dense}kernel/ConcatPartitions/concat`, [EMBEDDING_DIM, HIDDEN_DIM])]), W(`${dense}bias/ConcatPartitions/concat`, [HIDDEN_DIM])]),
    mask3,
  ]);
  const y0 = ffn(g.node('Add', [a0, residual0]), 0);

  // ---- layer 1: 512-d ----
  const a1 = attention(layerNorm(y0, 1, '', HIDDEN_DIM), 1, HIDDEN_DIM, HIDDEN_DIM);
  const y1 = ffn(g.node('Add', [a1, y0]), 1);

  // ---- masked mean (divided by max(count, 1): zero tokens give 0, not NaN), dense + tanh, L2 ----
  const summed = g.node('ReduceSum', [g.node('Mul', [y1, mask3]), axis1], { keepdims: 0 });
  const count = g.node('Max', [g.node('ReduceSum', [mask, axis1], { keepdims: 1 }), g.scalar('min_count', 1)]);
  const pooled = g.node('Div', [summed, count], {}, 'pooled');
  const hidden = `module/Encoder_en/hidden_layers/tanh_layer_0/`;
  const t = g.node('Tanh', [g.node('Add', [g.node('MatMul', [pooled, W(`${hidden}weights`, [HIDDEN_DIM, OUTPUT_DIM])]), W(`${hidden}bias`, [OUTPUT_DIM])])]);
  const sumSquares = g.node('ReduceSum', [g.node('Mul', [t, t]), axis1], { keepdims: 1 });
  const invNorm = g.node('Reciprocal', [g.node('Sqrt', [g.node('Max', [sumSquares, g.scalar('l2_epsilon', l2Epsilon)])])]);
  const normalized = g.node('Mul', [t, invNorm], {}, 'sentence_embedding');

  // ---- EmbeddingProvider contract: a text with no known token gets a zero vector ----
  const isUnk = g.node('Equal', [tokens, g.int64s('unk_id', [ids.unkId])]);
  const isSeparator = g.node('Equal', [tokens, g.int64s('separator_id', [ids.separatorId])]);
  const known = g.node('Mul', [g.node('Cast', [g.node('Not', [g.node('Or', [isUnk, isSeparator])])], { to: FLOAT }), mask]);
  const hasKnown = g.node('ReduceMax', [known], { axes: [1], keepdims: 1 }, 'has_known_token');
  g.node('Mul', [normalized, hasKnown], {}, 'last_hidden_state');
  g.output('last_hidden_state', FLOAT, ['batch_size', OUTPUT_DIM]);
  return g;
}
