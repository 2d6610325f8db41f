/**
 * Reconnect delays: exponential growth of a ceiling, capped, with "full
 * jitter" (a uniformly random delay in [0, ceiling]) so that many clients
 * dropped at once do not reconnect in lockstep.
 */
import type { ReconnectOptions } from './options.js';

export type BackoffPolicy = Pick<ReconnectOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor' | 'jitter'>;

/** The ceiling for the 1-based `attempt`: initial * factor^(attempt-1), capped at maxDelayMs. */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = policy.initialDelayMs * Math.pow(policy.factor, n - 1);
  // pow overflows to Infinity for large attempts; min() caps it.
  return Math.min(policy.maxDelayMs, raw);
}

/** The delay before the 1-based `attempt`, in whole milliseconds. `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, policy);
  if (policy.jitter === 'none') return Math.round(ceiling);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(r * ceiling);
}
