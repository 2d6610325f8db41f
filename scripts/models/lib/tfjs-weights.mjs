/**
 * Reads a TF.js graph model (model.json + weight shards) into named tensors.
 * Only what the converters need: float32/int32, no quantised weights.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @typedef {{ name: string, shape: number[], dtype: 'float32' | 'int32', bytes: Buffer }} TfTensor
 * @typedef {{ modelJson: any, weights: Map<string, TfTensor> }} TfGraphModel
 */

/** @param {string} dir a folder holding model.json and its shards @returns {TfGraphModel} */
export function readTfjsGraphModel(dir) {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  /** @type {Map<string, TfTensor>} */
  const weights = new Map();
  for (const group of modelJson.weightsManifest) {
    const data = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.quantization) throw new Error(`weight ${spec.name} is quantised; not supported`);
      if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new Error(`weight ${spec.name}: dtype ${spec.dtype} not supported`);
      const size = 4 * spec.shape.reduce((a, b) => a * b, 1);
      weights.set(spec.name, { name: spec.name, shape: spec.shape, dtype: spec.dtype, bytes: data.subarray(offset, offset + size) });
      offset += size;
    }
    if (offset !== data.length) throw new Error(`weight group ${group.paths[0]}: manifest covers ${offset} of ${data.length} bytes`);
  }
  return { modelJson, weights };
}

/**
 * Looks a weight up by name and checks its shape.
 * @param {TfGraphModel} model @param {string} name @param {number[]} shape @returns {TfTensor}
 */
export function weight(model, name, shape) {
  const w = model.weights.get(name);
  if (w === undefined) throw new Error(`weight not found: ${name}`);
  if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`weight ${name}: shape [${w.shape}] where [${shape}] was expected`);
  }
  return w;
}

/** A scalar weight's value. @param {TfGraphModel} model @param {string} name @returns {number} */
export function scalar(model, name) {
  const w = weight(model, name, []);
  return w.dtype === 'int32' ? w.bytes.readInt32LE(0) : w.bytes.readFloatLE(0);
}

/** An int32 vector weight's values. @param {TfGraphModel} model @param {string} name @param {number} length @returns {number[]} */
export function int32s(model, name, length) {
  const w = weight(model, name, [length]);
  return Array.from({ length }, (_, i) => w.bytes.readInt32LE(4 * i));
}

/**
 * The graph's node list as `name -> inputs` (control inputs dropped, `:0` trimmed),
 * used to assert structural facts about the graph rather than trusting node names.
 * @param {TfGraphModel} model @returns {Map<string, { op: string, inputs: string[] }>}
 */
export function graphEdges(model) {
  const edges = new Map();
  for (const node of model.modelJson.modelTopology.node) {
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^')).map((i) => i.replace(/:0$/, ''));
    edges.set(node.name, { op: node.op, inputs });
  }
  return edges;
}
