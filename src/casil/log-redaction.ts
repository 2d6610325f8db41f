/**
 * What logs get instead of the fields they were given: CASIL's "usual
 * sensitive keys" masked whole, and probable secrets inside strings masked
 * by span (the same detector that guards traffic). Logs never carry message
 * content today; this keeps it so when a field such as an error text or a
 * rejected token's claim makes it into a record. Log records are rare, so
 * the walk is bounded but not micro-optimised.
 */
import { FIELD_MASK, maskSpans } from './redact.js';
import { secretDetector } from './secrets.js';

/** Field names whose values are never written, whatever they look like. */
const SENSITIVE_KEY = /(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|authorization|cookie|private[_-]?key|credentials?|ssn|card[_-]?number|cvv)$/i;
const MAX_DEPTH = 8;

export function redactLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  return redactObject(fields, 0);
}

function redactObject(obj: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] = SENSITIVE_KEY.test(key) && value !== null && value !== undefined && value !== '' ? FIELD_MASK : redactValue(value, key, depth + 1);
  }
  return out;
}

function redactValue(value: unknown, key: string | undefined, depth: number): unknown {
  if (typeof value === 'string') return maskSpans(value, secretDetector.detect(value, key));
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redactValue(v, undefined, depth + 1));
  if (value instanceof Error) return redactValue(String(value.stack ?? value), key, depth);
  return redactObject(value as Record<string, unknown>, depth);
}
