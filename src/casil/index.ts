/** CASIL: content-aware safety and inspection (docs/casil.md). */
export { CasilGate, INSPECTED_COMMANDS, type GateSender, type ProfileAdmission } from './gate.js';
export { CasilEngine, casilMetadata, type CasilDecision, type CasilEngineOptions, type CasilSettings, type InspectInput } from './engine.js';
export { validatePolicy, type PolicySpec, type ScopeSpec, type TenantSpec } from './policy.js';
export type { CasilBlockCode, CasilMode, CasilOutcome, CasilReasonCode, Classification, Detector, Finding } from './types.js';

import type { Config } from '../config/schema.js';
import type { CasilSettings } from './engine.js';

/** The engine settings a server's config gives. */
export function casilSettings(config: Config): CasilSettings {
  return {
    mode: config.casilMode,
    defaultDecision: config.casilDefaultDecision,
    timeBudgetMs: config.casilTimeBudgetMs,
    metadata: config.casilMetadata,
    maxPayloadBytes: config.maxPayloadBytes,
  };
}
