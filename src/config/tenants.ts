/**
 * Per-tenant limits: server-wide defaults from the schema, overridden per
 * tenant by the config file's `tenants` object:
 *   { "tenants": { "acme": { "maxConnections": 50, "rateLimitPerSecond": 20 } } }
 */

export interface TenantLimits {
  readonly maxConnections: number;
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  readonly maxChannelsPerConnection: number;
  readonly maxPayloadBytes: number;
  /** Channels the tenant may have at once. */
  readonly maxChannels: number;
}

export type TenantOverrides = Readonly<Record<string, Partial<TenantLimits>>>;

const LIMIT_KEYS: ReadonlyArray<keyof TenantLimits> = [
  'maxConnections',
  'rateLimitPerSecond',
  'rateLimitBurst',
  'maxChannelsPerConnection',
  'maxPayloadBytes',
  'maxChannels',
];

const TENANT_RE = /^[A-Za-z0-9_.@+-]{1,128}$/;

/** Validates the `tenants` object; returns a frozen copy or an error message naming the offending path. */
export function parseTenantOverrides(value: unknown): TenantOverrides | string {
  if (value === undefined || value === null) return Object.freeze({});
  if (typeof value !== 'object' || Array.isArray(value)) return 'tenants must be an object of tenant id → limits';
  const out: Record<string, Partial<TenantLimits>> = {};
  for (const [tenant, limits] of Object.entries(value)) {
    if (!TENANT_RE.test(tenant)) return `tenants.${tenant}: tenant ids are 1-128 characters of A-Z a-z 0-9 _ . @ + -`;
    if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) return `tenants.${tenant} must be an object`;
    const entry: Record<string, number> = {};
    for (const [k, v] of Object.entries(limits)) {
      if (!(LIMIT_KEYS as readonly string[]).includes(k)) return `tenants.${tenant}.${k} is not a tenant limit (${LIMIT_KEYS.join(', ')})`;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) return `tenants.${tenant}.${k} must be a positive integer`;
      entry[k] = v;
    }
    out[tenant] = Object.freeze(entry);
  }
  return Object.freeze(out);
}

/** Resolves limits for a tenant: its overrides over the server defaults. */
export function resolveTenantLimits(defaults: TenantLimits, overrides: TenantOverrides, tenant: string): TenantLimits {
  const own = Object.hasOwn(overrides, tenant) ? overrides[tenant] : undefined;
  if (own === undefined) return defaults;
  const merged = { ...defaults, ...own };
  // A tenant never gets a larger frame than the server reads.
  return { ...merged, maxPayloadBytes: Math.min(merged.maxPayloadBytes, defaults.maxPayloadBytes) };
}
