/**
 * Recording CASIL decisions: the decisions counter and latency histogram on
 * every inspected message, and a `casil` telemetry event for every decision
 * that is not a plain allow. Records carry codes, types and counts, never
 * content: a blocked secret or a redacted field never reaches telemetry or logs.
 */
import type { Counter, Histogram } from 'prom-client';
import type { TelemetryEventName, TelemetryHub } from '../telemetry/hub.js';
import type { BusMetrics } from '../telemetry/metrics.js';
import type { CasilDecision } from './engine.js';

/** Who sent the message and what it was; only ids and addresses, no content. */
export interface DecisionSubject {
  readonly tenant: string;
  readonly clientId: string;
  /** The message's id; null for the profile of an upgrade (no message yet). */
  readonly messageId: string | null;
  readonly type: 'event' | 'private' | 'command' | 'connect';
  readonly room: string | null;
  readonly channel: string | null;
}

const CASIL_EVENT: TelemetryEventName = 'casil';

export class DecisionRecorder {
  /** Label children by "outcome|reason|tenant|mode": no label hashing per message after the first. */
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly latency: Record<'enforce' | 'monitor', Histogram.Internal<'mode'>>;

  constructor(
    private readonly metrics: BusMetrics,
    private readonly telemetry: TelemetryHub,
  ) {
    this.latency = {
      enforce: metrics.casilInspectionSeconds.labels('enforce'),
      monitor: metrics.casilInspectionSeconds.labels('monitor'),
    };
  }

  record(d: CasilDecision, subject: DecisionSubject): void {
    const reason = d.reason ?? 'none';
    const key = `${d.outcome}|${reason}|${subject.tenant}|${d.mode}`;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = this.metrics.casilDecisions.labels(d.outcome, reason, subject.tenant, d.mode);
      this.counters.set(key, counter);
    }
    counter.inc();
    this.latency[d.mode].observe(d.durationMs / 1000);
    // A clean allow is the common case and is not an event worth streaming.
    if (!this.telemetry.active || (d.verdict === 'ALLOW' && d.verdictReason === null && d.classification.flags.length === 0)) return;
    this.telemetry.emit({
      event: CASIL_EVENT,
      tenant: subject.tenant,
      client_id: subject.clientId,
      request_id: subject.messageId,
      message_type: subject.type,
      room: subject.room,
      channel: subject.channel,
      mode: d.mode,
      scope: d.scope,
      decision: d.outcome,
      reason_code: d.reason,
      verdict: d.verdict,
      verdict_reason_code: d.verdictReason,
      kind: d.classification.kind,
      risk_level: d.classification.risk_level,
      flags: d.classification.flags,
      secret_types: d.secretTypes,
      pii_types: d.piiTypes,
      sensitive_fields: d.sensitiveFields,
      duration_ms: Math.round(d.durationMs * 1000) / 1000,
      ...(d.error === undefined ? {} : { error: d.error }),
    });
  }
}
