/**
 * The CASIL engine: for one inbound message, finds its scope (per tenant),
 * its mode, inspects it within the time budget and returns the decision
 * that travels with the message. Fails closed: an inspection that throws or
 * runs over its budget gets the default decision (`casilDefaultDecision`).
 * Holds the compiled policy and swaps it atomically on reload.
 */
import { classification, classifyKind } from './classifier.js';
import { cardDetector, emailDetector, phoneDetector } from './pii.js';
import { compilePolicy, validatePolicy, type CompileContext, type CompiledPolicy, type CompiledScope, type CompiledTenant } from './policy.js';
import { ScanState } from './scan.js';
import { secretDetector } from './secrets.js';
import type { CasilFlag, CasilMode, CasilOutcome, CasilReasonCode, Classification, Detector, MessageKind } from './types.js';

export interface CasilSettings {
  /** Server default mode (`casilMode`). */
  readonly mode: CasilMode;
  readonly defaultDecision: 'block' | 'allow';
  readonly timeBudgetMs: number;
  /** Attach `metadata.casil` to delivered envelopes. */
  readonly metadata: boolean;
  /** The server's frame limit (`maxPayloadBytes`): the default size policy. */
  readonly maxPayloadBytes: number;
}

export interface CasilEngineOptions {
  /** Detectors run in every scope after the built-in ones (a test seam, or site rules). */
  readonly extraDetectors?: readonly Detector[];
  /** Monotonic clock in ms for the time budget; injectable for tests. */
  readonly now?: () => number;
}

export interface InspectInput {
  readonly tenant: string;
  readonly room: string | null;
  readonly channel: string | null;
  readonly payload: Record<string, unknown>;
  readonly metadata: Record<string, unknown> | undefined;
  /** Size of the message in bytes as received (the frame). */
  readonly size: number;
  /** A top-level payload field that is addressing, not content (`target` of a private message). */
  readonly skipKey?: string;
  /** The kind when the caller knows it (a command is `control`); else classified from the room and payload. */
  readonly kind?: MessageKind;
}

export interface CasilDecision {
  readonly mode: 'enforce' | 'monitor';
  readonly scope: string;
  /** What is applied to the message: in monitor mode always ALLOW. */
  readonly outcome: CasilOutcome;
  readonly reason: CasilReasonCode | null;
  /** What the policy concluded (equal to outcome/reason in enforce mode). */
  readonly verdict: CasilOutcome;
  readonly verdictReason: CasilReasonCode | null;
  readonly classification: Classification;
  /** The redacted payload/metadata, set only when the applied outcome is ALLOW_WITH_REDACTION. */
  readonly payload: Record<string, unknown> | undefined;
  readonly metadata: Record<string, unknown> | undefined;
  readonly secretTypes: readonly string[];
  readonly piiTypes: readonly string[];
  readonly sensitiveFields: number;
  readonly durationMs: number;
  /** Class name of the error that failed the inspection (never its message, which may quote content). */
  readonly error: string | undefined;
}

const NO_TYPES: readonly string[] = Object.freeze([]);

class BudgetExceeded extends Error {
  override readonly name = 'BudgetExceeded';
}

export type ReloadResult = { ok: true; version: number } | { ok: false; error: string };

export class CasilEngine {
  private policy: CompiledPolicy;
  private readonly ctx: CompileContext;
  private readonly now: () => number;
  /** False when every mode in force is `off`: the session then skips CASIL with this one check. */
  active: boolean;
  /** Increments on every successful reload. */
  version = 1;
  /** The policy the node was configured with (the config file's `casil` section; undefined: the built-in default). */
  private readonly configured: unknown;

  constructor(readonly settings: CasilSettings, policy: unknown, options: CasilEngineOptions = {}) {
    this.configured = policy;
    this.ctx = {
      maxPayloadBytes: settings.maxPayloadBytes,
      secretDetectors: [secretDetector],
      piiDetectors: { email: emailDetector, phone: phoneDetector, card: cardDetector },
      extraDetectors: options.extraDetectors ?? [],
    };
    this.now = options.now ?? (() => performance.now());
    this.policy = compilePolicy(policy, this.ctx);
    this.active = this.computeActive();
  }

  /** Validates first; a bad policy is refused and the one in force stays. */
  reload(policy: unknown): ReloadResult {
    const error = validatePolicy(policy, 'policy');
    if (error !== null) return { ok: false, error };
    // A private copy: the policy in force cannot change behind the engine's back (e.g. a caller reusing the object).
    this.policy = compilePolicy(structuredClone(policy), this.ctx);
    this.active = this.computeActive();
    return { ok: true, version: ++this.version };
  }

  /** Back to the configured policy (`casil_reload` with `policy: null`). */
  reset(): ReloadResult {
    this.policy = compilePolicy(this.configured, this.ctx);
    this.active = this.computeActive();
    return { ok: true, version: ++this.version };
  }

  get source(): unknown {
    return this.policy.source;
  }

  /** A summary of the policy in force, for `casil_status`. */
  describe(): Record<string, unknown> {
    const scope = (s: CompiledScope): Record<string, unknown> => ({
      name: s.name, mode: s.mode ?? null, max_payload_bytes: s.maxPayloadBytes, secrets: s.rules.secrets,
      redact_keys: [...s.rules.redactKeys], pii: s.rules.detectors.filter((d) => d.category === 'pii').map((d) => d.name),
    });
    return {
      active: this.active,
      version: this.version,
      scopes: this.policy.scopes.map(scope),
      tenants: Object.fromEntries([...this.policy.tenants].map(([t, spec]) => [t, { mode: spec.mode ?? null, scopes: spec.scopes?.map(scope) ?? null }])),
    };
  }

  /** The decision for one message, or null when it is out of scope or its mode is `off`. */
  inspect(input: InspectInput): CasilDecision | null {
    const tenant: CompiledTenant | undefined = this.policy.tenants.size === 0 ? undefined : this.policy.tenants.get(input.tenant);
    const own = tenant?.scopes;
    const scope = findScope(own ?? this.policy.scopes, input.room, input.channel);
    if (scope === undefined) return null;
    const mode = own !== undefined ? (scope.mode ?? tenant?.mode ?? this.settings.mode) : (tenant?.mode ?? scope.mode ?? this.settings.mode);
    if (mode === 'off') return null;

    const start = this.now();
    const budget = this.settings.timeBudgetMs;
    let verdict: CasilOutcome = 'ALLOW';
    let verdictReason: CasilReasonCode | null = null;
    let flags: CasilFlag[] = [];
    let payload: Record<string, unknown> | undefined;
    let metadata: Record<string, unknown> | undefined;
    let state: ScanState | undefined;
    let error: string | undefined;
    try {
      if (input.size > scope.maxPayloadBytes) {
        // Oversize: blocked without reading the content.
        verdict = 'BLOCK';
        verdictReason = 'CASIL_POLICY_OVERSIZE';
        flags = ['oversize_payload'];
      } else {
        state = new ScanState(scope.rules, () => {
          if (this.now() - start > budget) throw new BudgetExceeded();
        });
        const p = state.scanRoot(input.payload, true, input.skipKey);
        const m = input.metadata === undefined || state.blocked ? input.metadata : state.scanRoot(input.metadata, false);
        if (this.now() - start > budget) throw new BudgetExceeded();
        if (state.secretTypes !== undefined) flags.push('contains_probable_secret');
        if (state.piiTypes !== undefined) flags.push('contains_pii');
        if (state.sensitiveFields > 0) flags.push('sensitive_field');
        if (state.blocked) {
          verdict = 'BLOCK';
          verdictReason = 'CASIL_POLICY_BLOCKED_SECRET';
        } else if (p !== input.payload || m !== input.metadata) {
          verdict = 'ALLOW_WITH_REDACTION';
          verdictReason = 'CASIL_POLICY_REDACTED';
          payload = p;
          metadata = m;
        }
      }
    } catch (err) {
      error = err instanceof Error ? err.name : typeof err;
      verdict = this.settings.defaultDecision === 'block' ? 'BLOCK' : 'ALLOW';
      verdictReason = 'CASIL_INTERNAL_ERROR';
      flags = ['inspection_failed'];
      payload = metadata = undefined;
    }
    const enforce = mode === 'enforce';
    return {
      mode,
      scope: scope.name,
      outcome: enforce ? verdict : 'ALLOW',
      reason: enforce ? verdictReason : 'CASIL_MONITOR_MODE',
      verdict,
      verdictReason,
      classification: classification(input.kind ?? classifyKind(input.room, input.payload), flags),
      payload: enforce ? payload : undefined,
      metadata: enforce ? metadata : undefined,
      secretTypes: state?.secretTypes === undefined ? NO_TYPES : [...state.secretTypes],
      piiTypes: state?.piiTypes === undefined ? NO_TYPES : [...state.piiTypes],
      sensitiveFields: state?.sensitiveFields ?? 0,
      durationMs: this.now() - start,
      error,
    };
  }

  private computeActive(): boolean {
    const modes: Array<CasilMode | undefined> = [this.settings.mode];
    for (const s of this.policy.scopes) modes.push(s.mode);
    for (const t of this.policy.tenants.values()) {
      modes.push(t.mode);
      for (const s of t.scopes ?? []) modes.push(s.mode);
    }
    return modes.some((m) => m !== undefined && m !== 'off');
  }
}

function findScope(scopes: readonly CompiledScope[], room: string | null, channel: string | null): CompiledScope | undefined {
  for (const s of scopes) if (s.matcher.all || s.matcher.matches(room, channel)) return s;
  return undefined;
}

/** `metadata.casil` of a delivered envelope. */
export function casilMetadata(d: CasilDecision): Record<string, unknown> {
  return {
    kind: d.classification.kind,
    risk_level: d.classification.risk_level,
    flags: d.classification.flags,
    decision: d.outcome,
    reason_code: d.reason,
  };
}
