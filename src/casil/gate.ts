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

/** What the upgrade's profile inspection concludes: refuse with a code, or keep these (possibly redacted) fields. */
export type ProfileAdmission = { readonly blocked: CasilBlockCode } | { readonly blocked: null; readonly fields: Readonly<Record<string, string>> };

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
    // A client's own `casil` never gets here: the parser drops server-only metadata keys (src/protocol/envelope.ts).
    if (this.engine.settings.metadata) frame.metadata = { ...frame.metadata, casil: casilMetadata(decision) };
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

  /**
   * The free-text profile fields given at connect time (the upgrade URL's
   * `screen_name`, `avatar`, `personality`), inspected like `set_metadata`'s
   * parameters: the tenant's `*` scopes, no size policy. Called at the
   * upgrade, after authentication (the tenant is known only then). In enforce
   * mode a block refuses the upgrade and a redaction replaces the values;
   * monitor mode only records.
   */
  admitProfile(sender: GateSender, fields: Readonly<Record<string, string>>): ProfileAdmission {
    try {
      const decision = this.engine.inspect({ tenant: sender.tenant, room: null, channel: null, payload: { ...fields }, metadata: undefined, size: 0, kind: 'control' });
      if (decision === null) return { blocked: null, fields };
      const blocked = this.decided(sender, decision, null, 'connect', null, null);
      if (blocked !== null) return { blocked };
      if (decision.payload === undefined) return { blocked: null, fields };
      // Redaction keeps strings strings ("[REDACTED]", "[REDACTED:email]"); anything else would be a bug, masked whole.
      const redacted = Object.fromEntries(Object.entries(decision.payload).map(([k, v]) => [k, typeof v === 'string' ? v : '[REDACTED]']));
      return { blocked: null, fields: redacted };
    } catch (err) {
      this.logger?.error('casil gate failed', { error: err instanceof Error ? err.name : typeof err, message_type: 'connect' });
      return this.engine.settings.defaultDecision === 'block' ? { blocked: 'CASIL_INTERNAL_ERROR' } : { blocked: null, fields };
    }
  }

  /**
   * Applies a policy `casil_reload` set on another node (the Redis spine):
   * validated like a local reload; `null` resets to this node's configured
   * policy. Returns null when applied, else why it was refused (the policy in
   * force stays).
   */
  applyShared(policy: unknown, origin: string): string | null {
    const result = policy === null ? this.engine.reset() : this.engine.reload(policy);
    if (!result.ok) return result.error;
    this.logger?.info('casil policy reloaded', { version: result.version, by: `node ${origin}` });
    return null;
  }

  /** Records a decision; returns its code when it blocks. */
  private decided(
    sender: GateSender, d: CasilDecision, messageId: string | null, type: 'event' | 'private' | 'command' | 'connect', room: string | null, channel: string | null,
  ): CasilBlockCode | null {
    this.recorder.record(d, { tenant: sender.tenant, clientId: sender.clientId, messageId, type, room, channel });
    return d.outcome === 'BLOCK' ? (d.reason as CasilBlockCode) : null;
  }
}
