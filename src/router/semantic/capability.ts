/**
 * What an agent declares it can do, parsed from untrusted input into a frozen
 * `CapabilitySpec`. The texts that get embedded are the description and the
 * examples, in that order (`capabilityTexts`); tags are carried, not scored.
 */
import { ParameterError } from '../../protocol/errors.js';

export interface CapabilitySpec {
  /** Unique per agent; re-declaring a name replaces the capability. */
  readonly name: string;
  readonly description: string;
  readonly examples: readonly string[];
  readonly tags: readonly string[];
}

export interface CapabilityLimits {
  /** Characters of a description or an example. */
  readonly maxTextLength: number;
  readonly maxExamples: number;
  readonly maxTags: number;
}

export const DEFAULT_CAPABILITY_LIMITS: CapabilityLimits = Object.freeze({ maxTextLength: 2000, maxExamples: 32, maxTags: 16 });

/** Same alphabet as the identity `caps` patterns, without the wildcard. */
const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const TAG = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The texts embedded for a capability: description first, then each example. */
export function capabilityTexts(spec: CapabilitySpec): string[] {
  return [spec.description, ...spec.examples];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, path: string, limits: CapabilityLimits): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ParameterError(path, `${path} must be a non-empty string`);
  if (value.length > limits.maxTextLength) throw new ParameterError(path, `${path} is longer than ${limits.maxTextLength} characters`);
  return value;
}

function list(value: unknown, path: string, max: number): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ParameterError(path, `${path} must be an array`);
  if (value.length > max) throw new ParameterError(path, `${path} has more than ${max} entries`);
  return value;
}

/** Validates one capability declaration; `path` prefixes the offending field in errors (e.g. "capabilities[2]"). */
export function parseCapabilitySpec(value: unknown, path = 'capability', limits: CapabilityLimits = DEFAULT_CAPABILITY_LIMITS): CapabilitySpec {
  if (!isRecord(value)) throw new ParameterError(path, `${path} must be an object`);
  const { name, description } = value;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ParameterError(`${path}.name`, `${path}.name must be 1–128 characters of A–Z a–z 0–9 _ . : -`);
  }
  const examples = list(value['examples'], `${path}.examples`, limits.maxExamples).map((e, i) => text(e, `${path}.examples[${i}]`, limits));
  const tags = list(value['tags'], `${path}.tags`, limits.maxTags).map((t, i) => {
    if (typeof t !== 'string' || !TAG.test(t)) throw new ParameterError(`${path}.tags[${i}]`, `${path}.tags[${i}] must be 1–64 characters of A–Z a–z 0–9 _ . : -`);
    return t;
  });
  return Object.freeze({
    name,
    description: text(description, `${path}.description`, limits),
    examples: Object.freeze(examples),
    tags: Object.freeze([...new Set(tags)]),
  });
}

/** Validates a list of declarations; names must be distinct. */
export function parseCapabilitySpecs(value: unknown, max: number, limits: CapabilityLimits = DEFAULT_CAPABILITY_LIMITS): CapabilitySpec[] {
  if (!Array.isArray(value) || value.length === 0) throw new ParameterError('capabilities', 'capabilities must be a non-empty array');
  if (value.length > max) throw new ParameterError('capabilities', `capabilities has more than ${max} entries`);
  const specs = value.map((v, i) => parseCapabilitySpec(v, `capabilities[${i}]`, limits));
  const seen = new Set<string>();
  for (const [i, spec] of specs.entries()) {
    if (seen.has(spec.name)) throw new ParameterError(`capabilities[${i}].name`, `capability ${spec.name} is declared twice`);
    seen.add(spec.name);
  }
  return specs;
}
