/**
 * Parses and validates configuration once, at start-up: defaults < config
 * file (`--config FILE` / ARQON_CONFIG, JSON) < environment < CLI flags.
 * The result is frozen; errors name the offending key and where it came from.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { validatePolicy } from '../casil/policy.js';
import { parseSemanticOptions, type SemanticOptionsInput } from '../router/semantic/options.js';
import { parseTenantOverrides } from './tenants.js';
import { CONFIG_SCHEMA, configOptions, type Config, type ConfigKey, type Option } from './schema.js';

export { ConfigError };

/**
 * Structured sections of the config file (objects, not flags): each is
 * validated by its owner's parser here, once, so a bad section stops start-up.
 */
const SECTIONS = ['tenants', 'casil', 'semantic'] as const;
type Section = (typeof SECTIONS)[number];
const isSection = (key: string): key is Section => (SECTIONS as readonly string[]).includes(key);

export interface ConfigSources {
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Programmatic overrides (tests, embedding); applied last. */
  readonly overrides?: Partial<Record<ConfigKey | Section, unknown>>;
}

export interface ParsedCommandLine {
  readonly config: Config;
  readonly help: boolean;
}

export function parseConfig(sources: ConfigSources = {}): ParsedCommandLine {
  const env = sources.env ?? {};
  const { values: flags, help, configFile } = readArgv(sources.argv ?? []);
  const raw: Partial<Record<ConfigKey, { value: unknown; from: string }>> = {};
  const sections: Partial<Record<Section, { value: unknown; from: string }>> = {};

  const file = configFile ?? env['ARQON_CONFIG'];
  if (file !== undefined && file !== '') {
    for (const [key, value] of Object.entries(readConfigFile(file))) {
      if (isSection(key)) {
        sections[key] = { value, from: `config file ${file}` };
        continue;
      }
      if (!Object.hasOwn(CONFIG_SCHEMA, key)) throw new ConfigError(key, `unknown key "${key}" in config file ${file}`);
      raw[key as ConfigKey] = { value, from: `config file ${file}` };
    }
  }
  for (const [key, opt] of configOptions()) {
    const v = env[opt.env];
    if (v !== undefined && v !== '') raw[key] = { value: v, from: opt.env };
  }
  for (const [key, v] of flags) raw[key] = { value: v, from: `--${CONFIG_SCHEMA[key].flag}` };
  for (const [key, value] of Object.entries(sources.overrides ?? {})) {
    if (isSection(key)) {
      sections[key] = { value, from: 'overrides' };
      continue;
    }
    if (!Object.hasOwn(CONFIG_SCHEMA, key)) throw new ConfigError(key, `unknown configuration key "${key}"`);
    if (value !== undefined) raw[key as ConfigKey] = { value, from: key };
  }

  const out: Record<string, unknown> = {};
  for (const [key, opt] of configOptions()) {
    const given = raw[key];
    out[key] = given === undefined ? opt.default : coerce(key, opt, given.value, given.from);
  }
  const { tenants, casil, semantic } = sections;
  const parsedTenants = parseTenantOverrides(tenants?.value);
  if (typeof parsedTenants === 'string') throw new ConfigError('tenants', `invalid tenants from ${tenants?.from}: ${parsedTenants}`);
  out['tenants'] = parsedTenants;
  // The CASIL policy format: src/casil/policy.ts.
  out['casil'] = casil === undefined ? undefined : deepFreeze(structuredClone(casil.value));
  const casilError = validatePolicy(out['casil']);
  if (casilError !== null) throw new ConfigError('casil', `invalid casil section from ${casil?.from}: ${casilError}`);
  // Semantic routing options (scoring per model, limits, index): src/router/semantic/options.ts.
  out['semantic'] = semantic === undefined ? undefined : deepFreeze(structuredClone(semantic.value));
  if (semantic !== undefined) parseSemanticSection(semantic.value, semantic.from);
  const config = Object.freeze(out) as Config;
  crossCheck(config, (key) => raw[key]?.from ?? 'defaults');
  return { config, help };
}

function readArgv(argv: readonly string[]): { values: Map<ConfigKey, string | boolean>; help: boolean; configFile?: string } {
  const byFlag = new Map(configOptions().map(([key, opt]) => [opt.flag, [key, opt] as const]));
  const values = new Map<ConfigKey, string | boolean>();
  let help = false;
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') { help = true; continue; }
    if (!arg.startsWith('--')) throw new ConfigError(arg, `unexpected argument "${arg}" (see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (name === 'config') {
      configFile = value ?? argv[++i];
      if (configFile === undefined || configFile === '') throw new ConfigError('config', '--config needs a file path');
      continue;
    }
    // `--no-NAME` negates boolean options only; `--no-port` is not a way to spell `--port`.
    const negated = byFlag.has(name) || !name.startsWith('no-') ? undefined : byFlag.get(name.slice(3));
    const entry = byFlag.get(name) ?? (negated?.[1].kind === 'bool' ? negated : undefined);
    if (entry === undefined) throw new ConfigError(name, `unknown option --${name} (see --help)`);
    const [key, opt] = entry;
    if (opt.kind === 'bool') {
      values.set(key, entry === negated ? false : (value ?? true));
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(key, `--${name} needs a value`);
    }
    values.set(key, value);
  }
  return configFile === undefined ? { values, help } : { values, help, configFile };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('config', `config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('config', `config file ${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function coerce(key: string, opt: Option, value: unknown, from: string): unknown {
  const fail = (what: string): never => {
    throw new ConfigError(key, `invalid ${key} from ${from}: ${what} (got ${JSON.stringify(value)})`);
  };
  switch (opt.kind) {
    case 'string':
    case 'optional-string':
      if (typeof value !== 'string' || value === '') return fail('expected a non-empty string');
      return value;
    case 'enum':
      if (typeof value !== 'string' || !opt.values.includes(value)) return fail(`expected one of ${opt.values.join(', ')}`);
      return value;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return fail('expected true or false');
    case 'int':
    case 'optional-int': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) return fail('expected an integer');
      if (n < opt.min || n > opt.max) return fail(`expected ${opt.min}..${opt.max}`);
      return n;
    }
  }
}

/** Rules between options. `from` names where a key's value came from, so the message can point at it. */
function crossCheck(config: Config, from: (key: ConfigKey) => string): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    const [missing, given]: [ConfigKey, ConfigKey] = config.tlsCert === undefined ? ['tlsCert', 'tlsKey'] : ['tlsKey', 'tlsCert'];
    throw new ConfigError(missing, `${missing} is missing: ${given} (from ${from(given)}) needs it; tlsCert and tlsKey must be given together`);
  }
  checkAuth(config, from);
  // Node ids appear in Redis key and channel names (docs/operations.md, "Redis spine").
  if (config.nodeId !== undefined && !/^[A-Za-z0-9_.@+-]{1,64}$/.test(config.nodeId)) {
    throw new ConfigError('nodeId', `invalid nodeId from ${from('nodeId')}: 1-64 characters of A-Z a-z 0-9 _ . @ + -`);
  }
  if (config.telemetryPort !== undefined && config.telemetryPort !== 0 && config.telemetryPort === config.port) {
    throw new ConfigError(
      'telemetryPort',
      `invalid telemetryPort from ${from('telemetryPort')}: must differ from port (from ${from('port')}), both are ${config.port}`,
    );
  }
}

/** `--help` text generated from the schema. */
export function helpText(): string {
  const lines = ['Usage: arqonbus [options]', '', 'Options (each also as an environment variable):', ''];
  lines.push('  --config FILE  (ARQON_CONFIG)', '      JSON file with any of the keys below (camelCase); env and flags override it.', '');
  for (const [, opt] of configOptions()) {
    const def = opt.default === undefined ? 'unset' : String(opt.default);
    const values = opt.kind === 'enum' ? ` (${opt.values.join('|')})` : '';
    lines.push(`  --${opt.flag}${opt.kind === 'bool' ? '' : ' VALUE'}  (${opt.env}, default ${def})${values}`);
    lines.push(`      ${opt.doc}`);
  }
  lines.push('', '  --help  Show this text.');
  return lines.join('\n');
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

/** Identity settings that only make sense together. */
function checkAuth(config: Config, from: (key: ConfigKey) => string): void {
  const sources = (['jwtSecret', 'jwtPublicKeyFile', 'jwksFile', 'jwksUrl'] as const).filter((k) => config[k] !== undefined);
  if (sources.length > 1) {
    throw new ConfigError(sources[1]!, `configure one key source, not ${sources.map((k) => `${k} (from ${from(k)})`).join(' and ')}`);
  }
  if (config.jwtSecret !== undefined && config.jwtSecret.length < 32) {
    throw new ConfigError('jwtSecret', `invalid jwtSecret from ${from('jwtSecret')}: use at least 32 characters`);
  }
  if (config.jwksUrl !== undefined && !/^https?:\/\//.test(config.jwksUrl)) {
    throw new ConfigError('jwksUrl', `invalid jwksUrl from ${from('jwksUrl')}: expected an http(s) URL`);
  }
  // Keys fetched over plain http could be swapped by anyone on the path, unless it stays on this machine.
  if (config.jwksUrl?.startsWith('http://') && !config.allowInsecure) {
    let host = '';
    try {
      host = new URL(config.jwksUrl).hostname.replace(/^\[|\]$/g, '');
    } catch {
      // Reported by the key loader with the offending key.
    }
    if (!LOOPBACK.test(host)) {
      throw new ConfigError('jwksUrl', `refusing plain-http jwksUrl ${config.jwksUrl} (from ${from('jwksUrl')}) to a non-loopback host: use https or --allow-insecure`);
    }
  }
  if (config.auth === 'none' && !LOOPBACK.test(config.host) && !config.allowInsecure) {
    throw new ConfigError(
      'auth',
      `refusing --auth none on non-loopback host ${config.host} (from ${from('host')}): anyone who can reach it could connect; add --allow-insecure to accept that`,
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function parseSemanticSection(value: unknown, from: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('semantic', `invalid semantic section from ${from}: it must be an object`);
  }
  try {
    parseSemanticOptions(value as SemanticOptionsInput);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.key, `invalid semantic section from ${from}: ${err.message}`);
    throw err;
  }
}
