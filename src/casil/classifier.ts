/**
 * Deterministic classification of an inspected message: the same message
 * always gets the same kind, risk level and flags.
 *
 * kind: `control` for intents and command-like payloads (`intent`,
 * `command`, `control` keys), `telemetry` for the `telemetry`/`metrics`
 * rooms and payloads with a top-level `telemetry`/`metrics` key, `system`
 * for the `system`/`sys` rooms, else `data`.
 * risk_level: `high` with a probable secret, an oversize payload or a failed
 * inspection; `medium` with PII or a sensitive field; else `low`.
 */
import type { CasilFlag, Classification, MessageKind, RiskLevel } from './types.js';

/** A room name, or its prefix before `-`, `.` or `_`. */
function roomIs(room: string | null, names: readonly string[]): boolean {
  if (room === null) return false;
  for (const n of names) {
    if (room === n || (room.startsWith(n) && '-._'.includes(room[n.length] ?? ''))) return true;
  }
  return false;
}

export function classifyKind(room: string | null, payload: Record<string, unknown>): MessageKind {
  if (payload['intent'] !== undefined || payload['command'] !== undefined || payload['control'] !== undefined) return 'control';
  if (roomIs(room, ['telemetry', 'metrics']) || payload['telemetry'] !== undefined || payload['metrics'] !== undefined) return 'telemetry';
  if (roomIs(room, ['system', 'sys'])) return 'system';
  return 'data';
}

export function riskOf(flags: readonly CasilFlag[]): RiskLevel {
  if (flags.includes('contains_probable_secret') || flags.includes('oversize_payload') || flags.includes('inspection_failed')) return 'high';
  if (flags.length > 0) return 'medium';
  return 'low';
}

export function classification(kind: MessageKind, flags: readonly CasilFlag[]): Classification {
  return { kind, risk_level: riskOf(flags), flags };
}
