/**
 * A small ONNX graph builder over onnx-proto: named initializers, one call per
 * node, deterministic names, and a `model()` that encodes the ModelProto.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** @type {typeof import('onnx-proto').onnx} */
const onnx = require('onnx-proto').onnx;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

/** A FLOAT attribute value (plain numbers are INT attributes). @param {number} value */
export const float = (value) => ({ float: value });

/** @param {string} name @param {unknown} value */
function attribute(name, value) {
  if (Array.isArray(value) && value.every(Number.isInteger)) return { name, type: A.INTS, ints: value };
  if (typeof value === 'number' && Number.isInteger(value)) return { name, type: A.INT, i: value };
  if (typeof value === 'object' && value !== null && 'float' in value && typeof value.float === 'number') {
    return { name, type: A.FLOAT, f: value.float };
  }
  throw new Error(`attribute ${name}: unsupported value ${JSON.stringify(value)}`);
}

/** @param {string} name @param {number} elemType @param {(number | string)[]} dims */
function valueInfo(name, elemType, dims) {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

export class OnnxGraph {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
    /** @type {object[]} */ this.nodes = [];
    /** @type {object[]} */ this.initializers = [];
    /** @type {object[]} */ this.inputs = [];
    /** @type {object[]} */ this.outputs = [];
    /** @type {Map<string, number>} */ this.counters = new Map();
  }

  /** @param {string} name @param {number} elemType @param {(number | string)[]} dims @returns {string} */
  input(name, elemType, dims) {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** @param {string} name @param {number} elemType @param {(number | string)[]} dims */
  output(name, elemType, dims) {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** A float32 initializer from little-endian bytes. @param {string} name @param {number[]} dims @param {Uint8Array} bytes @returns {string} */
  floatBytes(name, dims, bytes) {
    const expected = 4 * dims.reduce((a, b) => a * b, 1);
    if (bytes.length !== expected) throw new Error(`initializer ${name}: ${bytes.length} bytes for dims [${dims}]`);
    this.initializers.push({ name, dataType: FLOAT, dims, rawData: bytes });
    return name;
  }

  /** @param {string} name @param {number[]} dims @param {Float32Array | number[]} values @returns {string} */
  floats(name, dims, values) {
    const f32 = Float32Array.from(values);
    return this.floatBytes(name, dims, new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
  }

  /** @param {string} name @param {number[]} values a 1-D int64 tensor @returns {string} */
  int64s(name, values) {
    this.initializers.push({ name, dataType: INT64, dims: [values.length], int64Data: values });
    return name;
  }

  /** A float scalar initializer. @param {string} name @param {number} value @returns {string} */
  scalar(name, value) {
    return this.floats(name, [], [value]);
  }

  /**
   * Adds a node; returns its output names (one unless `outputs` > 1).
   * @param {string} opType @param {string[]} inputs @param {Record<string, unknown>} [attrs]
   * @param {{ name?: string, outputs?: number }} [opts]
   * @returns {string[]}
   */
  nodeN(opType, inputs, attrs = {}, opts = {}) {
    const base = opts.name ?? this.fresh(opType);
    const count = opts.outputs ?? 1;
    const outputs = count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}:${i}`);
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ opType, input: inputs, output: outputs, name: base, attribute: attribute_ });
    return outputs;
  }

  /** @param {string} opType @param {string[]} inputs @param {Record<string, unknown>} [attrs] @param {string} [name] @returns {string} */
  node(opType, inputs, attrs = {}, name) {
    const [out] = this.nodeN(opType, inputs, attrs, name === undefined ? {} : { name });
    return /** @type {string} */ (out);
  }

  /** @param {string} prefix */
  fresh(prefix) {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}_${n}`;
  }

  /**
   * Encodes the model. IR 8 / opset 17: what onnxruntime-node 1.14 accepts (not IR 9+, not opset 19).
   * @param {{ producer: string, docString?: string, metadata?: Record<string, string> }} meta
   * @returns {Uint8Array}
   */
  model(meta) {
    const proto = onnx.ModelProto.create({
      irVersion: 8,
      producerName: meta.producer,
      docString: meta.docString ?? '',
      opsetImport: [{ domain: '', version: 17 }],
      metadataProps: Object.entries(meta.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(proto).finish();
  }
}
