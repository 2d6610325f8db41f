// The GloVe-SIF ONNX graph (IR 8, opset 13), written with onnx-proto:
//
//   input_ids [batch, seq] int64, attention_mask [batch, seq] int64
//   rows  = Cast<float>(Gather(table_f16, input_ids))              [batch, seq, 100]
//   sum   = ReduceSum(rows · mask, axis 1)                          [batch, 100]
//           (one masked [UNK] column is appended first, so a [batch, 0] input works too)
//   mean  = sum / max(Σ mask, 1)                                    (= SIF, PC already removed)
//   last_hidden_state  = mean / max(‖mean‖₂, 1e-12)                [batch, 100]
//
// The output is the finished sentence vector; it is named last_hidden_state because that is
// what transformers.js's feature-extraction pipeline reads (call it with pooling "none", as
// for use-lite).
// A text whose tokens are all unknown (row 0) or that has no token gets the zero vector.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;

export const OPSET = 13;
export const OUTPUT_NAME = 'last_hidden_state';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary32 → binary16 bits, round to nearest even. */
export function toHalf(value) {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let h = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Float32 rows → little-endian binary16 bytes. */
export function toHalfBytes(values) {
  const out = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) out.writeUInt16LE(toHalf(values[i]), i * 2);
  return out;
}

const int64s = (name, values) => ({ name, dataType: T.INT64, dims: [values.length], int64Data: values });
const scalar = (name, value) => ({ name, dataType: T.FLOAT, dims: [], floatData: [value] });
const node = (opType, input, output, attribute = []) => ({ opType, input, output, name: output[0], attribute });
const tensorType = (elemType, dims) => ({
  tensorType: {
    elemType,
    shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
  },
});

/**
 * @param {Float32Array} table  rows × dimension; row 0 (unknown, also the in-graph pad) and
 *   row 1 (padding) must be zero
 * @returns {Uint8Array} the serialised ModelProto
 */
export function buildModel(table, rows, dimension, { docString = '', metadata = {} } = {}) {
  const graph = {
    name: 'glove_sif',
    docString,
    input: [
      { name: 'input_ids', type: tensorType(T.INT64, ['batch', 'sequence']) },
      { name: 'attention_mask', type: tensorType(T.INT64, ['batch', 'sequence']) },
    ],
    output: [{ name: OUTPUT_NAME, type: tensorType(T.FLOAT, ['batch', dimension]) }],
    initializer: [
      { name: 'table', dataType: T.FLOAT16, dims: [rows, dimension], rawData: toHalfBytes(table) },
      int64s('axis_seq', [1]),
      int64s('pad_one', [0, 0, 0, 1]),
      int64s('axis_last', [2]),
      scalar('one', 1),
      scalar('epsilon', 1e-12),
    ],
    node: [
      // One extra masked [UNK] column: ONNX Runtime cannot reduce over an empty sequence axis.
      node('Pad', ['input_ids', 'pad_one'], ['ids']),
      node('Pad', ['attention_mask', 'pad_one'], ['mask_padded']),
      node('Gather', ['table', 'ids'], ['rows_half'], [{ name: 'axis', type: 2, i: 0 }]),
      node('Cast', ['rows_half'], ['rows'], [{ name: 'to', type: 2, i: T.FLOAT }]),
      node('Cast', ['mask_padded'], ['mask'], [{ name: 'to', type: 2, i: T.FLOAT }]),
      node('Unsqueeze', ['mask', 'axis_last'], ['mask3']),
      node('Mul', ['rows', 'mask3'], ['masked']),
      node('ReduceSum', ['masked', 'axis_seq'], ['sum'], [{ name: 'keepdims', type: 2, i: 0 }]),
      node('ReduceSum', ['mask', 'axis_seq'], ['count'], [{ name: 'keepdims', type: 2, i: 1 }]),
      node('Max', ['count', 'one'], ['count_safe']),
      node('Div', ['sum', 'count_safe'], ['mean']),
      node('Mul', ['mean', 'mean'], ['squares']),
      node('ReduceSum', ['squares', 'axis_seq'], ['norm_sq'], [{ name: 'keepdims', type: 2, i: 1 }]),
      node('Sqrt', ['norm_sq'], ['norm']),
      node('Max', ['norm', 'epsilon'], ['norm_safe']),
      node('Div', ['mean', 'norm_safe'], [OUTPUT_NAME]),
    ],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'arqonbus build-glove-sif',
    producerVersion: '1',
    docString,
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value: String(value) })),
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
