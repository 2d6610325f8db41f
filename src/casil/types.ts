/**
 * The vocabulary CASIL shares between its parts: modes, outcomes, reason
 * codes, the classification of a message and what a detector reports.
 */

export type CasilMode = 'enforce' | 'monitor' | 'off';
export const CASIL_MODES: readonly CasilMode[] = ['enforce', 'monitor', 'off'];

export type CasilOutcome = 'ALLOW' | 'ALLOW_WITH_REDACTION' | 'BLOCK';

/** Reason codes of a decision. The three blocking ones are also wire error codes (src/protocol/codes.ts). */
export type CasilBlockCode = 'CASIL_POLICY_BLOCKED_SECRET' | 'CASIL_POLICY_OVERSIZE' | 'CASIL_INTERNAL_ERROR';
export type CasilReasonCode = CasilBlockCode | 'CASIL_POLICY_REDACTED' | 'CASIL_MONITOR_MODE';

export type MessageKind = 'data' | 'control' | 'telemetry' | 'system';
export type RiskLevel = 'low' | 'medium' | 'high';

export type CasilFlag = 'contains_probable_secret' | 'contains_pii' | 'sensitive_field' | 'oversize_payload' | 'inspection_failed';

export interface Classification {
  readonly kind: MessageKind;
  readonly risk_level: RiskLevel;
  readonly flags: readonly CasilFlag[];
}

/** What a secrets policy does with a probable secret. */
export type SecretAction = 'block' | 'redact' | 'allow';

export type PiiType = 'email' | 'phone' | 'card';
export const PII_TYPES: readonly PiiType[] = ['email', 'phone', 'card'];

/** One detected span inside a string leaf. */
export interface Finding {
  /** `secret` findings feed the secrets policy, `pii` ones the PII redaction. */
  readonly category: 'secret' | 'pii';
  /** e.g. `aws_access_key`, `jwt`, `email`. Never the matched text. */
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/**
 * A content detector run over each string leaf. `key` is the leaf's own
 * property name (undefined for array items), which lets `password: "…"`
 * style fields count as assignments. Returns the spans it found (or an
 * empty array); a detector that throws makes the inspection fail (closed).
 */
export interface Detector {
  readonly name: string;
  readonly category: 'secret' | 'pii';
  detect(text: string, key: string | undefined): readonly Finding[];
}

/** What a detector returns when it finds nothing: one shared, frozen empty list (no allocation per string). */
export const NO_FINDINGS: readonly Finding[] = Object.freeze([]);
