/**
 * The wire registries and the config schema are the source of truth; the docs
 * must keep up with them. Each check reads the relevant table of the docs and
 * compares it both ways, so a new code fails until it is documented and a
 * removed one fails until its row goes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import { CONFIG_SCHEMA, configOptions } from '../../src/config/schema.js';
import { parseTenantOverrides } from '../../src/config/tenants.js';
import { BUILTIN_COMMANDS } from '../../src/edge/commands/index.js';
import { identityFromClaims } from '../../src/identity/claims.js';
import { AuthError, type AuthErrorCode } from '../../src/identity/errors.js';
import { compilePatterns } from '../../src/identity/patterns.js';
import { CLOSE_CODES, ERROR_CODES, type ErrorCode } from '../../src/protocol/codes.js';

function readDoc(name: string): string {
  return readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
}

/** The text under a `## heading`, up to the next `## ` heading. */
function section(doc: string, heading: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start === -1) throw new Error(`heading "## ${heading}" not found`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('## '));
  return (end === -1 ? rest : rest.slice(0, end)).join('\n');
}

/** Markdown table rows (not the header separator) as trimmed cells. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trimStart().startsWith('|') && !/^\s*\|[\s|:-]+\|\s*$/.test(l))
    .map((l) => l.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim()));
}

/** Rows whose first cell is a single `code` span, keyed by its text. */
function rowsByFirstCode(rows: string[][]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const row of rows) {
    const m = /^`([^`]+)`$/.exec(row[0] ?? '');
    if (m) out.set(m[1]!, row);
  }
  return out;
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** The bodies of the ```json blocks in a piece of markdown, parsed. */
function jsonBlocks(text: string): unknown[] {
  return [...text.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
}

describe('docs/protocol.md', () => {
  const protocol = readDoc('protocol.md');

  it('lists every ERROR_CODES entry in the Error codes table, with its retryable flag', () => {
    const rows = rowsByFirstCode(tableRows(section(protocol, 'Error codes')));
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      const row = rows.get(code);
      expect(row, `error code ${code} missing from the Error codes table`).toBeDefined();
      expect(row![1], `retryable flag of ${code}`).toBe(yesNo(info.retryable));
      expect(row![row!.length - 1], `description of ${code}`).not.toBe('');
    }
    const stale = [...rows.keys()].filter((code) => !Object.hasOwn(ERROR_CODES, code));
    expect(stale, 'codes in the table that are not in ERROR_CODES').toEqual([]);
  });

  it('lists every CLOSE_CODES entry in the Close codes table, with its number and reconnect flag', () => {
    const text = section(protocol, 'Close codes');
    const rows = rowsByFirstCode(tableRows(text));
    for (const [name, info] of Object.entries(CLOSE_CODES)) {
      const row = rows.get(name);
      expect(row, `close code ${name} missing from the Close codes table`).toBeDefined();
      expect(row![1], `number of ${name}`).toBe(String(info.code));
      expect(row![2], `reconnect flag of ${name}`).toBe(yesNo(info.reconnect));
    }
    const stale = [...rows.keys()].filter((name) => !Object.hasOwn(CLOSE_CODES, name));
    expect(stale, 'close codes in the table that are not in CLOSE_CODES').toEqual([]);
    expect(text).toContain('4000–4499');
    expect(text).toContain('4500–4999');
  });

  it('documents every built-in command under its own heading', () => {
    const commands = section(protocol, 'Commands');
    expect(BUILTIN_COMMANDS.size).toBeGreaterThan(0);
    for (const name of BUILTIN_COMMANDS.keys()) {
      expect(commands, `command ${name} has no "### \`${name}\`" heading`).toContain(`### \`${name}\``);
    }
    const documented = [...commands.matchAll(/^### `([a-z_]+)`$/gm)].map((m) => m[1]!);
    expect(documented.filter((n) => !BUILTIN_COMMANDS.has(n)), 'documented commands that do not exist').toEqual([]);
  });

  it('has the Routing order section the router code refers to', () => {
    expect(section(protocol, 'Routing order')).toContain('topic');
  });
});

describe('docs/configuration.md', () => {
  const configuration = readDoc('configuration.md');
  const rows = tableRows(section(configuration, 'Options'));

  it('has one row per CONFIG_SCHEMA option with its flag, env name and default', () => {
    for (const [key, opt] of configOptions()) {
      const row = rows.find((r) => r[1] === `\`--${opt.flag}\``);
      expect(row, `option ${key}: no row for --${opt.flag}`).toBeDefined();
      expect(row![0], `option ${key}: config file key`).toBe(`\`${key}\``);
      expect(row![2], `option ${key}: env name`).toBe(`\`${opt.env}\``);
      const shownDefault = opt.default === undefined ? 'unset' : `\`${String(opt.default)}\``;
      expect(row![3]!.startsWith(shownDefault), `option ${key}: default should read ${shownDefault}, got ${row![3]}`).toBe(true);
    }
  });

  it('documents no option the schema does not have', () => {
    const flags = new Set(Object.values(CONFIG_SCHEMA).map((o) => `\`--${o.flag}\``));
    const extra = rows.filter((r) => r[1]?.startsWith('`--') && !flags.has(r[1])).map((r) => r[1]);
    expect(extra).toEqual([]);
  });

  it('mentions the config file flag and variable', () => {
    expect(configuration).toContain('--config');
    expect(configuration).toContain('ARQON_CONFIG');
  });
});

describe('docs/identity.md', () => {
  const identity = readDoc('identity.md');

  it('lists every AUTH_* code and the other identity refusals with their HTTP status and retryable flag', () => {
    const rows = rowsByFirstCode(tableRows(section(identity, 'Upgrade refusals')));
    const authCodes = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c): c is AuthErrorCode => c.startsWith('AUTH_'));
    expect(authCodes.length).toBeGreaterThan(0);
    const expected = new Map<ErrorCode, string>([
      ...authCodes.map((c): [ErrorCode, string] => [c, c === 'AUTH_TOKEN_MISMATCH' ? '—' : String(new AuthError(c).status)]),
      ['TENANT_CONNECTION_LIMIT', '503'],
      ['TELEMETRY_FORBIDDEN', '403'],
    ]);
    for (const [code, status] of expected) {
      const row = rows.get(code);
      expect(row, `${code} missing from the Upgrade refusals table`).toBeDefined();
      expect(row![1], `HTTP status of ${code}`).toBe(status);
      expect(row![2], `retryable flag of ${code}`).toBe(yesNo(ERROR_CODES[code].retryable));
    }
    expect([...rows.keys()].filter((c) => !expected.has(c as ErrorCode)), 'rows that are not identity refusals').toEqual([]);
  });

  it('says what every built-in command needs', () => {
    const firstCells = tableRows(section(identity, 'What each action needs')).map((r) => r[0] ?? '');
    const named = new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)));
    for (const name of BUILTIN_COMMANDS.keys()) expect(named.has(name), `command ${name} has no row`).toBe(true);
  });

  it('has an example token payload that is a valid claim set', () => {
    const blocks = jsonBlocks(section(identity, 'Example token'));
    expect(blocks).toHaveLength(2);
    const claims = blocks[1] as Record<string, unknown>;
    const id = identityFromClaims(claims);
    expect(id.tenant).toBe(claims['tenant']);
    expect(id.permissions.subscribe.matches('lobby', 'general')).toBe(true);
  });

  it('shows only valid patterns in the pattern table', () => {
    const patterns = [...rowsByFirstCode(tableRows(section(identity, 'Permission patterns'))).keys()];
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) expect(() => compilePatterns([p]), p).not.toThrow();
  });
});

describe('docs/configuration.md examples', () => {
  const configuration = readDoc('configuration.md');

  it('has a config file example the parser accepts', () => {
    const [example] = jsonBlocks(section(configuration, 'Sources'));
    const dir = mkdtempSync(join(tmpdir(), 'arqon-docs-'));
    try {
      const file = join(dir, 'arqon.json');
      writeFileSync(file, JSON.stringify(example));
      expect(() => parseConfig({ argv: ['--config', file] })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a tenants example the parser accepts', () => {
    const [example] = jsonBlocks(section(configuration, 'Per-tenant limits')) as Array<{ tenants: unknown }>;
    expect(typeof parseTenantOverrides(example!.tenants)).toBe('object');
  });
});
