import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, helpText, parseConfig } from '../../src/config/parse.js';
import { CONFIG_SCHEMA, configOptions } from '../../src/config/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'arqon-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileSeq = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++fileSeq}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Runs `fn`, expects a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('returns every schema default when nothing is given', () => {
    const { config, help } = parseConfig();
    expect(help).toBe(false);
    for (const [key, opt] of configOptions()) expect(config[key], key).toBe(opt.default);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 9100, maxPayloadBytes: 1024 * 1024, logLevel: 'info' });
    expect(config.telemetryPort).toBeUndefined();
  });

  it('freezes the result', () => {
    const { config } = parseConfig({ argv: ['--port', '1234'] });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(1234);
  });

  it('reads ARQON_* environment variables and coerces their types', () => {
    const { config } = parseConfig({
      env: {
        ARQON_HOST: '0.0.0.0',
        ARQON_PORT: '8080',
        ARQON_MAX_CONNECTIONS: ' 42 ',
        ARQON_TELEMETRY_PORT: '0',
        ARQON_LOG_LEVEL: 'debug',
        ARQON_HEARTBEAT_INTERVAL_MS: '', // empty means unset
        UNRELATED: 'x',
      },
    });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, maxConnections: 42, telemetryPort: 0, logLevel: 'debug' });
    expect(config.heartbeatIntervalMs).toBe(CONFIG_SCHEMA.heartbeatIntervalMs.default);
  });

  it('lets CLI flags override the environment', () => {
    const { config } = parseConfig({
      argv: ['--port', '7000', '--log-level=warn'],
      env: { ARQON_PORT: '8080', ARQON_LOG_LEVEL: 'debug', ARQON_HOST: '0.0.0.0' },
    });
    expect(config).toMatchObject({ port: 7000, logLevel: 'warn', host: '0.0.0.0' });
  });

  it('accepts both --key=value and --key value, the last occurrence winning', () => {
    const { config } = parseConfig({
      argv: ['--max-payload-bytes=2048', '--max-buffered-bytes', '65536', '--host=::1', '--port', '1', '--port=2'],
    });
    expect(config).toMatchObject({ maxPayloadBytes: 2048, maxBufferedBytes: 65536, host: '::1', port: 2 });
  });

  it('reports --help and -h', () => {
    expect(parseConfig({ argv: ['--help'] }).help).toBe(true);
    expect(parseConfig({ argv: ['-h', '--port', '5'] })).toMatchObject({ help: true, config: { port: 5 } });
  });

  it('reads a JSON config file from --config; env and flags override it', () => {
    const file = configFile({ port: 7100, host: '0.0.0.0', logLevel: 'error', maxConnections: 5, historyMaxMessages: '10' });
    const { config } = parseConfig({
      argv: ['--config', file, '--max-connections', '6'],
      env: { ARQON_LOG_LEVEL: 'warn' },
    });
    expect(config).toMatchObject({ port: 7100, host: '0.0.0.0', logLevel: 'warn', maxConnections: 6, historyMaxMessages: 10 });
    expect(parseConfig({ argv: [`--config=${file}`] }).config.port).toBe(7100);
  });

  it('reads the config file named by ARQON_CONFIG; --config takes precedence over it', () => {
    const fromEnv = configFile({ port: 7200, maxInvalidFrames: 3 });
    const fromFlag = configFile({ port: 7300 });
    expect(parseConfig({ env: { ARQON_CONFIG: fromEnv } }).config).toMatchObject({ port: 7200, maxInvalidFrames: 3 });
    expect(parseConfig({ env: { ARQON_CONFIG: fromEnv }, argv: ['--port', '7201'] }).config.port).toBe(7201);
    const both = parseConfig({ env: { ARQON_CONFIG: fromEnv }, argv: ['--config', fromFlag] }).config;
    expect(both.port).toBe(7300);
    expect(both.maxInvalidFrames).toBe(CONFIG_SCHEMA.maxInvalidFrames.default);
  });

  it('applies programmatic overrides last', () => {
    const { config } = parseConfig({ argv: ['--port', '1'], env: { ARQON_PORT: '2' }, overrides: { port: 0, logLevel: 'silent' } });
    expect(config).toMatchObject({ port: 0, logLevel: 'silent' });
  });

  describe('rejects invalid values, naming the key and the source', () => {
    it('port out of range from a flag', () => {
      const err = configError(() => parseConfig({ argv: ['--port', '70000'] }));
      expect(err.key).toBe('port');
      expect(err.message).toContain('--port');
      expect(err.message).toContain('0..65535');
    });

    it('non-numeric port from the environment', () => {
      const err = configError(() => parseConfig({ env: { ARQON_PORT: 'abc' } }));
      expect(err.key).toBe('port');
      expect(err.message).toContain('ARQON_PORT');
      expect(err.message).toContain('"abc"');
    });

    it('a non-integer number in the config file', () => {
      const file = configFile({ maxPayloadBytes: 1024.5 });
      const err = configError(() => parseConfig({ argv: ['--config', file] }));
      expect(err.key).toBe('maxPayloadBytes');
      expect(err.message).toContain(file);
    });

    it('a value below the minimum', () => {
      const err = configError(() => parseConfig({ argv: ['--max-buffered-bytes=1024'] }));
      expect(err.key).toBe('maxBufferedBytes');
      expect(err.message).toContain('--max-buffered-bytes');
    });

    it('an unknown flag', () => {
      const err = configError(() => parseConfig({ argv: ['--max-conections', '5'] }));
      expect(err.key).toBe('max-conections');
      expect(err.message).toContain('--max-conections');
    });

    it('--no- on an option that is not boolean', () => {
      const err = configError(() => parseConfig({ argv: ['--no-port', '5'] }));
      expect(err.key).toBe('no-port');
      expect(err.message).toContain('unknown option --no-port');
    });

    it('an empty --config path', () => {
      expect(configError(() => parseConfig({ argv: ['--config='] })).key).toBe('config');
    });

    it('a positional argument', () => {
      const err = configError(() => parseConfig({ argv: ['9100'] }));
      expect(err.key).toBe('9100');
    });

    it('a flag without its value', () => {
      const err = configError(() => parseConfig({ argv: ['--port'] }));
      expect(err.key).toBe('port');
      expect(err.message).toContain('--port');
      expect(configError(() => parseConfig({ argv: ['--config'] })).key).toBe('config');
    });

    it('an enum mismatch', () => {
      const err = configError(() => parseConfig({ argv: ['--log-level', 'verbose'] }));
      expect(err.key).toBe('logLevel');
      expect(err.message).toContain('--log-level');
      expect(err.message).toContain('debug, info, warn, error, silent');
      const fromEnv = configError(() => parseConfig({ env: { ARQON_LOG_LEVEL: 'INFO' } }));
      expect(fromEnv.key).toBe('logLevel');
      expect(fromEnv.message).toContain('ARQON_LOG_LEVEL');
    });

    it('an unknown key in the config file', () => {
      const file = configFile({ port: 1, maxConnection: 5 });
      const err = configError(() => parseConfig({ argv: ['--config', file] }));
      expect(err.key).toBe('maxConnection');
      expect(err.message).toContain(file);
    });

    it('a config file that is missing, not JSON or not an object', () => {
      const missing = join(dir, 'does-not-exist.json');
      const e1 = configError(() => parseConfig({ argv: ['--config', missing] }));
      expect(e1.key).toBe('config');
      expect(e1.message).toContain(missing);
      const notJson = configFile('{ port: 1 ');
      const e2 = configError(() => parseConfig({ env: { ARQON_CONFIG: notJson } }));
      expect(e2.key).toBe('config');
      expect(e2.message).toContain(notJson);
      const array = configFile([1, 2]);
      expect(configError(() => parseConfig({ argv: ['--config', array] })).key).toBe('config');
    });

    it('an unknown programmatic override', () => {
      expect(configError(() => parseConfig({ overrides: { nope: 1 } as never })).key).toBe('nope');
    });

    it('--tls-cert without --tls-key, and the reverse', () => {
      const err = configError(() => parseConfig({ argv: ['--tls-cert', '/tmp/cert.pem'] }));
      expect(err.key).toBe('tlsKey');
      expect(err.message).toContain('--tls-cert');
      const reverse = configError(() => parseConfig({ env: { ARQON_TLS_KEY: '/tmp/key.pem' } }));
      expect(reverse.key).toBe('tlsCert');
      expect(reverse.message).toContain('ARQON_TLS_KEY');
      const both = parseConfig({ argv: ['--tls-cert', '/c.pem'], env: { ARQON_TLS_KEY: '/k.pem' } }).config;
      expect(both).toMatchObject({ tlsCert: '/c.pem', tlsKey: '/k.pem' });
    });

    it('a telemetry port equal to the bus port (0 for both is allowed)', () => {
      const err = configError(() => parseConfig({ argv: ['--port', '9000', '--telemetry-port', '9000'] }));
      expect(err.key).toBe('telemetryPort');
      expect(err.message).toContain('--telemetry-port');
      expect(parseConfig({ argv: ['--port', '0', '--telemetry-port', '0'] }).config.telemetryPort).toBe(0);
    });
  });
});

describe('limits added with tenancy', () => {
  it('tenantMaxChannels and maxTelemetryObservers: defaults, flags, environment and bounds', () => {
    expect(parseConfig().config).toMatchObject({ tenantMaxChannels: 10_000, maxTelemetryObservers: 64 });
    expect(parseConfig({ argv: ['--tenant-max-channels', '3', '--max-telemetry-observers=2'] }).config).toMatchObject({
      tenantMaxChannels: 3,
      maxTelemetryObservers: 2,
    });
    expect(parseConfig({ env: { ARQON_TENANT_MAX_CHANNELS: '7', ARQON_MAX_TELEMETRY_OBSERVERS: '9' } }).config).toMatchObject({
      tenantMaxChannels: 7,
      maxTelemetryObservers: 9,
    });
    expect(configError(() => parseConfig({ argv: ['--tenant-max-channels', '0'] })).key).toBe('tenantMaxChannels');
    expect(configError(() => parseConfig({ env: { ARQON_MAX_TELEMETRY_OBSERVERS: '0' } })).key).toBe('maxTelemetryObservers');
    expect(configError(() => parseConfig({ overrides: { maxTelemetryObservers: 10_001 } })).key).toBe('maxTelemetryObservers');
  });
});

describe('tenants', () => {
  it('accepts maxChannels beside the other tenant limits, from the config file', () => {
    const file = configFile({ tenants: { acme: { maxChannels: 5, maxConnections: 2 }, 'team_1.eu@x+y-z': { maxChannels: 1 } } });
    const { tenants } = parseConfig({ argv: ['--config', file] }).config;
    expect(tenants).toEqual({ acme: { maxChannels: 5, maxConnections: 2 }, 'team_1.eu@x+y-z': { maxChannels: 1 } });
    expect(Object.isFrozen(tenants)).toBe(true);
    expect(Object.isFrozen(tenants['acme'])).toBe(true);
  });

  it.each([
    ['a space', 'acme corp'],
    ['a colon', 'acme:eu'],
    ['a slash', 'acme/eu'],
    ['the empty string', ''],
    ['129 characters', 'a'.repeat(129)],
  ])('refuses a tenant id with %s, naming tenants and the rule', (_what, tenant) => {
    const file = configFile({ tenants: { [tenant]: { maxChannels: 1 } } });
    const err = configError(() => parseConfig({ argv: ['--config', file] }));
    expect(err.key).toBe('tenants');
    expect(err.message).toContain(file);
    expect(err.message).toContain(`tenants.${tenant}:`);
    expect(err.message).toMatch(/1-128 characters/);
  });

  it('accepts a 128-character tenant id', () => {
    const tenant = 'a'.repeat(128);
    expect(parseConfig({ overrides: { tenants: { [tenant]: { maxChannels: 1 } } } }).config.tenants[tenant]).toEqual({ maxChannels: 1 });
  });

  it('refuses a non-positive maxChannels and names the path', () => {
    const err = configError(() => parseConfig({ overrides: { tenants: { acme: { maxChannels: 0 } } } }));
    expect(err.key).toBe('tenants');
    expect(err.message).toContain('tenants.acme.maxChannels');
  });
});

describe('helpText', () => {
  it('lists every flag and environment variable with its default', () => {
    const text = helpText();
    for (const [, opt] of configOptions()) {
      expect(text).toContain(`--${opt.flag}`);
      expect(text).toContain(opt.env);
    }
    expect(text).toContain('--config');
    expect(text).toContain('ARQON_CONFIG');
    expect(text).toContain('--help');
    expect(text).toContain('default 9100');
    expect(text).toContain('debug|info|warn|error|silent');
  });
});

describe('semantic section', () => {
  it('is validated at start-up: a bad value names its path', () => {
    expect(() => parseConfig({ overrides: { semantic: { threshold: 2 } } })).toThrow(/semantic\.threshold must be a number in \[-1, 1\]/);
    expect(() => parseConfig({ overrides: { semantic: { models: { 'glove-sif-100': { weights: { lexical: -1 } } } } } })).toThrow(
      /semantic\.models\.glove-sif-100\.weights\.lexical/,
    );
    expect(() => parseConfig({ overrides: { semantic: [] } })).toThrow(/semantic section from overrides: it must be an object/);
  });

  it('is kept frozen in the config', () => {
    const { config } = parseConfig({ overrides: { semantic: { threshold: 0.6 } } });
    expect(config.semantic).toEqual({ threshold: 0.6 });
    expect(Object.isFrozen(config.semantic)).toBe(true);
  });
});

describe('nodeId', () => {
  it('accepts a plain id and refuses characters that would break Redis names', () => {
    expect(parseConfig({ overrides: { nodeId: 'edge-1.eu' } }).config.nodeId).toBe('edge-1.eu');
    for (const bad of ['a:b', 'with space', 'x'.repeat(65), 'a{b}']) {
      expect(() => parseConfig({ overrides: { nodeId: bad } }), bad).toThrow(/invalid nodeId from nodeId/);
    }
  });
});
