/**
 * The policy file format (the config file's `casil` section, or the
 * `casil_reload` command's `policy`): its validation, with messages that
 * name the offending path, and its compilation into the lookup structures
 * the engine uses per message.
 *
 *   { "scopes": [Scope, …], "tenants": { "<tenant>": { "mode": Mode, "scopes": [Scope, …] } } }
 *   Scope = { name, include, exclude, mode, max_payload_bytes, secrets, redact_keys, redact_paths, pii }
 *
 * See docs/casil.md for the meaning and defaults of each field.
 */
import { isJsonObject } from '../protocol/envelope.js';
import { compilePaths, parsePath } from './paths.js';
import { checkScopePattern, compileScope, type ScopeMatcher } from './scope.js';
import type { ScanRules } from './scan.js';
import { CASIL_MODES, PII_TYPES, type CasilMode, type Detector, type PiiType, type SecretAction } from './types.js';

export interface ScopeSpec {
  readonly name?: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly mode?: CasilMode;
  readonly max_payload_bytes?: number;
  readonly secrets?: SecretAction;
  readonly redact_keys?: readonly string[];
  readonly redact_paths?: readonly string[];
  readonly pii?: boolean | readonly PiiType[];
}

export interface TenantSpec {
  readonly mode?: CasilMode;
  readonly scopes?: readonly ScopeSpec[];
}

export interface PolicySpec {
  readonly scopes?: readonly ScopeSpec[];
  readonly tenants?: Readonly<Record<string, TenantSpec>>;
}

const SCOPE_KEYS = new Set(['name', 'include', 'exclude', 'mode', 'max_payload_bytes', 'secrets', 'redact_keys', 'redact_paths', 'pii']);
const SECRET_ACTIONS: readonly SecretAction[] = ['block', 'redact', 'allow'];
/** The token's `tenant` claim rule: a key no token could name is a typo. */
const TENANT_RE = /^[A-Za-z0-9_.@+-]{1,128}$/;
const MAX_SCOPES = 256;
const MAX_LIST = 1024;

/**
 * Checks a policy. Returns null when it is valid, else one message naming
 * the first offending path, e.g. `casil.tenants.acme.scopes[0].include[1]:
 * invalid pattern "a:b:c": …`.
 */
export function validatePolicy(raw: unknown, root = 'casil'): string | null {
  if (raw === undefined) return null;
  if (!isJsonObject(raw)) return `${root}: must be an object`;
  for (const key of Object.keys(raw)) {
    if (key !== 'scopes' && key !== 'tenants') return `${root}.${key}: unknown key (expected scopes, tenants)`;
  }
  const scopesError = checkScopes(raw['scopes'], `${root}.scopes`);
  if (scopesError !== null) return scopesError;
  const tenants = raw['tenants'];
  if (tenants === undefined) return null;
  if (!isJsonObject(tenants)) return `${root}.tenants: must be an object of tenant name to { mode, scopes }`;
  for (const [tenant, spec] of Object.entries(tenants)) {
    const at = `${root}.tenants.${tenant}`;
    if (!TENANT_RE.test(tenant)) return `${at}: tenant ids are 1-128 characters of A-Z a-z 0-9 _ . @ + -`;
    if (!isJsonObject(spec)) return `${at}: must be an object with mode and/or scopes`;
    for (const key of Object.keys(spec)) {
      if (key !== 'mode' && key !== 'scopes') return `${at}.${key}: unknown key (expected mode, scopes)`;
    }
    if (spec['mode'] !== undefined && !CASIL_MODES.includes(spec['mode'] as CasilMode)) return `${at}.mode: expected one of ${CASIL_MODES.join(', ')}`;
    const e = checkScopes(spec['scopes'], `${at}.scopes`);
    if (e !== null) return e;
  }
  return null;
}

function checkScopes(scopes: unknown, at: string): string | null {
  if (scopes === undefined) return null;
  if (!Array.isArray(scopes)) return `${at}: must be an array of scopes`;
  if (scopes.length > MAX_SCOPES) return `${at}: at most ${MAX_SCOPES} scopes`;
  for (let i = 0; i < scopes.length; i++) {
    const e = checkScope(scopes[i], `${at}[${i}]`);
    if (e !== null) return e;
  }
  return null;
}

function checkScope(scope: unknown, at: string): string | null {
  if (!isJsonObject(scope)) return `${at}: must be an object`;
  for (const key of Object.keys(scope)) {
    if (!SCOPE_KEYS.has(key)) return `${at}.${key}: unknown key (expected ${[...SCOPE_KEYS].join(', ')})`;
  }
  const name = scope['name'];
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 128)) return `${at}.name: must be a string of 1-128 characters`;
  for (const key of ['include', 'exclude'] as const) {
    const e = checkList(scope[key], `${at}.${key}`, checkScopePattern);
    if (e !== null) return e;
  }
  if (Array.isArray(scope['include']) && scope['include'].length === 0) return `${at}.include: must list at least one pattern (omit it for "*")`;
  const mode = scope['mode'];
  if (mode !== undefined && !CASIL_MODES.includes(mode as CasilMode)) return `${at}.mode: expected one of ${CASIL_MODES.join(', ')}`;
  const max = scope['max_payload_bytes'];
  if (max !== undefined && (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1)) return `${at}.max_payload_bytes: must be a positive integer`;
  const secrets = scope['secrets'];
  if (secrets !== undefined && !SECRET_ACTIONS.includes(secrets as SecretAction)) return `${at}.secrets: expected one of ${SECRET_ACTIONS.join(', ')}`;
  const keysError = checkList(scope['redact_keys'], `${at}.redact_keys`, (k) =>
    typeof k === 'string' && k.length > 0 && k.length <= 256 ? null : 'must be a non-empty string of at most 256 characters',
  );
  if (keysError !== null) return keysError;
  const pathsError = checkList(scope['redact_paths'], `${at}.redact_paths`, (p) => {
    if (typeof p !== 'string') return 'must be a string';
    const parsed = parsePath(p);
    return typeof parsed === 'string' ? `invalid path "${p}": ${parsed}` : null;
  });
  if (pathsError !== null) return pathsError;
  const pii = scope['pii'];
  if (pii !== undefined && typeof pii !== 'boolean') {
    const e = checkList(pii, `${at}.pii`, (t) => (PII_TYPES.includes(t as PiiType) ? null : `expected one of ${PII_TYPES.join(', ')}`));
    if (e !== null) return e.endsWith('must be an array') ? `${at}.pii: must be true, false or a list of ${PII_TYPES.join(', ')}` : e;
  }
  return null;
}

function checkList(list: unknown, at: string, item: (v: unknown) => string | null): string | null {
  if (list === undefined) return null;
  if (!Array.isArray(list)) return `${at}: must be an array`;
  if (list.length > MAX_LIST) return `${at}: at most ${MAX_LIST} entries`;
  for (let i = 0; i < list.length; i++) {
    const e = item(list[i]);
    if (e !== null) return `${at}[${i}]: ${e}`;
  }
  return null;
}

/** One scope ready for matching and scanning. */
export interface CompiledScope {
  readonly name: string;
  readonly matcher: ScopeMatcher;
  /** The scope's own mode; undefined: the tenant's, else the server's. */
  readonly mode: CasilMode | undefined;
  readonly maxPayloadBytes: number;
  readonly rules: ScanRules;
}

export interface CompiledTenant {
  readonly mode: CasilMode | undefined;
  /** Undefined: the server-wide scopes apply (in the tenant's mode). */
  readonly scopes: readonly CompiledScope[] | undefined;
}

export interface CompiledPolicy {
  readonly scopes: readonly CompiledScope[];
  readonly tenants: ReadonlyMap<string, CompiledTenant>;
  /** The policy as given (for `casil_status`); undefined: the built-in default. */
  readonly source: unknown;
}

export interface CompileContext {
  /** The server's frame limit: the default and the ceiling of `max_payload_bytes`. */
  readonly maxPayloadBytes: number;
  readonly secretDetectors: readonly Detector[];
  readonly piiDetectors: Readonly<Record<PiiType, Detector>>;
  /** Extra detectors run in every scope (a test seam, or site-specific rules). */
  readonly extraDetectors: readonly Detector[];
}

/** The secure default: one scope over everything, secrets blocked, size at the server's limit. */
const DEFAULT_SCOPES: readonly ScopeSpec[] = [{ name: 'default', include: ['*'] }];

/** Compiles a policy that passed validatePolicy; throws on an invalid one. */
export function compilePolicy(raw: unknown, ctx: CompileContext): CompiledPolicy {
  const error = validatePolicy(raw);
  if (error !== null) throw new Error(error);
  const spec = (raw ?? {}) as PolicySpec;
  const tenants = new Map<string, CompiledTenant>();
  for (const [tenant, t] of Object.entries(spec.tenants ?? {})) {
    tenants.set(tenant, { mode: t.mode, scopes: t.scopes?.map((s, i) => compileScopeSpec(s, i, ctx)) });
  }
  return { scopes: (spec.scopes ?? DEFAULT_SCOPES).map((s, i) => compileScopeSpec(s, i, ctx)), tenants, source: raw };
}

function compileScopeSpec(s: ScopeSpec, index: number, ctx: CompileContext): CompiledScope {
  const pii: readonly PiiType[] = s.pii === true ? PII_TYPES : s.pii === false || s.pii === undefined ? [] : [...new Set(s.pii)];
  const secrets = s.secrets ?? 'block';
  return {
    name: s.name ?? `scope-${index}`,
    matcher: compileScope(s.include ?? ['*'], s.exclude ?? []),
    mode: s.mode,
    maxPayloadBytes: Math.min(s.max_payload_bytes ?? ctx.maxPayloadBytes, ctx.maxPayloadBytes),
    rules: {
      secrets,
      redactKeys: new Set((s.redact_keys ?? []).map((k) => k.toLowerCase())),
      paths: compilePaths(s.redact_paths ?? []),
      // Secret detectors run under `secrets: "allow"` too: the message is then only classified and recorded.
      detectors: [...ctx.secretDetectors, ...pii.map((t) => ctx.piiDetectors[t]), ...ctx.extraDetectors],
      scanNumbers: pii.includes('card'),
      cleanKeys: new Set(),
    },
  };
}
