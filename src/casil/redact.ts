/** Masks: what replaces a redacted field or a detected span inside a string. */
import type { Finding } from './types.js';

/** A whole field named by `redact_keys` / `redact_paths`. */
export const FIELD_MASK = '[REDACTED]';

export function spanMask(type: string): string {
  return `[REDACTED:${type}]`;
}

/**
 * Replaces each finding's span with its mask. Overlapping spans merge (the
 * first one's type names the mask), so a JWT inside a connection string is
 * masked once.
 */
export function maskSpans(text: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return text;
  const sorted = findings.length === 1 ? findings : [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const f of sorted) {
    if (f.start < at) {
      // Overlaps the span just masked: the mask grows to cover both.
      at = Math.max(at, f.end);
      continue;
    }
    out += text.slice(at, f.start) + spanMask(f.type);
    at = f.end;
  }
  return out + text.slice(at);
}
