/**
 * CASIL at ingress: the one step the session runs for each `event` and
 * `private` frame, and for the commands whose parameters carry content other
 * clients see or the bus stores, before any router or handler sees them. It
 * inspects the frame once, records the decision, and applies it to the frame
 * itself, so every later hop (topic fan-out, private delivery, semantic
 * routing, history, the spine to other nodes) carries the decision: a
 * redacted payload replaces the original, `metadata.casil` is attached when
 * configured, and a block stops the frame here. Monitor mode never changes a
 * frame (except the configured `metadata.casil`).
 */
import type { CommandFrame, EventFrame, PrivateFrame } from '../protocol/envelope.js';
import type { TelemetryHub } from '../telemetry/hub.js';
import type { Logger } from '../telemetry/logger.js';
import type { BusMetrics } from '../telemetry/metrics.js';
import { casilMetadata, CasilEngine, type CasilDecision, type CasilEngineOptions, type CasilSettings } from './engine.js';
import { DecisionRecorder } from './record.js';
import type { CasilBlockCode } from './types.js';

/**
 * Commands whose parameters are content: `set_metadata` (profile fields every
 * member of the sender's channels receives) and `register_capabilities`
 * (descriptions and examples, embedded and shared with the other nodes).
 * Other commands carry names, ids and options only.
 */
export const INSPECTED_COMMANDS: ReadonlySet<string> = new Set(['set_metadata', 'register_capabilities']);

/** The sender as the gate needs it (a Connection satisfies it). */
export interface GateSender {
  readonly tenant: string;
  readonly clientId: string;
}

export class CasilGate {
  readonly engine: CasilEngine;
  private readonly recorder: DecisionRecorder;
  private readonly logger: Logger | undefined;

  constructor(
    settings: CasilSettings, policy: unknown, deps: { metrics: BusMetrics; telemetry: TelemetryHub; logger?: Logger }, options: CasilEngineOptions = {},
  ) {
    this.engine = new CasilEngine(settings, policy, options);
    this.recorder = new DecisionRecorder(deps.metrics, deps.telemetry);
    this.logger = deps.logger;
  }

  /** The session's one flag check: false when every mode in force is `off`. */
  get active(): boolean {
    return this.engine.active;
  }

  /**
   * Inspects and applies. Returns the block code when the frame must not go
   * further (the caller answers the sender), else null with the frame
   * possibly rewritten (redacted payload or parameters, `metadata.casil`).
   */
  admit(sender: GateSender, frame: EventFrame | PrivateFrame | CommandFrame, size: number): CasilBlockCode | null {
    if (frame.type === 'command' && !INSPECTED_COMMANDS.has(frame.command)) return null;
    try {
      return frame.type === 'command' ? this.applyCommand(sender, frame) : this.apply(sender, frame, size);
    } catch (err) {
      // The engine already fails closed inside an inspection; this catches the rest (recording, applying): a bug,
      // logged by class name only (a message may quote content).
      this.logger?.error('casil gate failed', { error: err instanceof Error ? err.name : typeof err, message_id: frame.id });
      return this.engine.settings.defaultDecision === 'block' ? 'CASIL_INTERNAL_ERROR' : null;
    }
  }

  private apply(sender: GateSender, frame: EventFrame | PrivateFrame, size: number): CasilBlockCode | null {
    // A private message's room/channel is a label the sender picks without any permission: it must not pick the
    // scope (a label naming an excluded or `off` scope would escape inspection), so privates are matched as unaddressed.
    const addressed = frame.type === 'event';
    const decision = this.engine.inspect({
      tenant: sender.tenant,
      room: addressed ? frame.room : null,
      channel: addressed ? frame.channel : null,
      payload: frame.payload,
      metadata: frame.metadata,
      size,
      ...(frame.type === 'private' ? { skipKey: 'target' } : {}),
    });
    if (decision === null) return null;
    const blocked = this.decided(sender, decision, frame.id, frame.type, frame.room, frame.channel);
    if (blocked !== null) return blocked;
    if (decision.payload !== undefined) frame.payload = decision.payload;
    if (decision.metadata !== undefined) frame.metadata = decision.metadata;
    // `casil` is a reserved metadata key: only the server sets it. Monitor mode leaves a client's value alone (it changes nothing).
    if (this.engine.settings.metadata) frame.metadata = { ...frame.metadata, casil: casilMetadata(decision) };
    else if (decision.mode === 'enforce' && frame.metadata !== undefined && Object.hasOwn(frame.metadata, 'casil')) {
      const { casil: _spoofed, ...rest } = frame.metadata;
      frame.metadata = rest;
    }
    return null;
  }

  /**
   * A content-carrying command: its parameters are inspected like a payload,
   * under the scopes that cover unaddressed messages (`*`), without the size
   * policy (a command's size is bounded by the frame limit and its handler).
   */
  private applyCommand(sender: GateSender, frame: CommandFrame): CasilBlockCode | null {
    const decision = this.engine.inspect({
      tenant: sender.tenant, room: null, channel: null, payload: frame.parameters, metadata: undefined, size: 0, kind: 'control',
    });
    if (decision === null) return null;
    const blocked = this.decided(sender, decision, frame.id, 'command', null, null);
    if (blocked === null && decision.payload !== undefined) frame.parameters = decision.payload;
    return blocked;
  }

  /** Records a decision; returns its code when it blocks. */
  private decided(
    sender: GateSender, d: CasilDecision, messageId: string, type: 'event' | 'private' | 'command', room: string | null, channel: string | null,
  ): CasilBlockCode | null {
    this.recorder.record(d, { tenant: sender.tenant, clientId: sender.clientId, messageId, type, room, channel });
    return d.outcome === 'BLOCK' ? (d.reason as CasilBlockCode) : null;
  }
}
