/**
 * CASIL at ingress: the one step the session runs for each `event` and
 * `private` frame before any router sees it. It inspects the frame once,
 * records the decision, and applies it to the frame itself, so every later
 * hop (topic fan-out, private delivery, semantic routing, history) carries
 * the decision: a redacted payload replaces the original, `metadata.casil`
 * is attached when configured, and a block stops the frame here.
 */
import type { EventFrame, PrivateFrame } from '../protocol/envelope.js';
import type { TelemetryHub } from '../telemetry/hub.js';
import type { BusMetrics } from '../telemetry/metrics.js';
import { casilMetadata, CasilEngine, type CasilEngineOptions, type CasilSettings } from './engine.js';
import { DecisionRecorder } from './record.js';
import type { CasilBlockCode } from './types.js';

/** The sender as the gate needs it (a Connection satisfies it). */
export interface GateSender {
  readonly tenant: string;
  readonly clientId: string;
}

export class CasilGate {
  readonly engine: CasilEngine;
  private readonly recorder: DecisionRecorder;

  constructor(settings: CasilSettings, policy: unknown, deps: { metrics: BusMetrics; telemetry: TelemetryHub }, options: CasilEngineOptions = {}) {
    this.engine = new CasilEngine(settings, policy, options);
    this.recorder = new DecisionRecorder(deps.metrics, deps.telemetry);
  }

  /** The session's one flag check: false when every mode in force is `off`. */
  get active(): boolean {
    return this.engine.active;
  }

  /**
   * Inspects and applies. Returns the block code when the frame must not go
   * further (the caller answers the sender), else null with the frame
   * possibly rewritten (redacted payload, `metadata.casil`).
   */
  admit(sender: GateSender, frame: EventFrame | PrivateFrame, size: number): CasilBlockCode | null {
    try {
      return this.apply(sender, frame, size);
    } catch {
      // The engine already fails closed inside an inspection; this catches the rest (recording, applying).
      return this.engine.settings.defaultDecision === 'block' ? 'CASIL_INTERNAL_ERROR' : null;
    }
  }

  private apply(sender: GateSender, frame: EventFrame | PrivateFrame, size: number): CasilBlockCode | null {
    const decision = this.engine.inspect({
      tenant: sender.tenant,
      room: frame.room,
      channel: frame.channel,
      payload: frame.payload,
      metadata: frame.metadata,
      size,
      ...(frame.type === 'private' ? { skipKey: 'target' } : {}),
    });
    if (decision === null) return null;
    this.recorder.record(decision, {
      tenant: sender.tenant, clientId: sender.clientId, messageId: frame.id, type: frame.type, room: frame.room, channel: frame.channel,
    });
    if (decision.outcome === 'BLOCK') return decision.reason as CasilBlockCode;
    if (decision.payload !== undefined) frame.payload = decision.payload;
    if (decision.metadata !== undefined) frame.metadata = decision.metadata;
    // `casil` is a reserved metadata key: only the server sets it.
    if (this.engine.settings.metadata) frame.metadata = { ...frame.metadata, casil: casilMetadata(decision) };
    else if (frame.metadata !== undefined && Object.hasOwn(frame.metadata, 'casil')) {
      const { casil: _spoofed, ...rest } = frame.metadata;
      frame.metadata = rest;
    }
    return null;
  }
}
