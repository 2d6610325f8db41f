/** Starts a real ArqonBus server on port 0 for a test. */
import { parseConfig } from '../../src/config/parse.js';
import type { ConfigKey } from '../../src/config/schema.js';
import { ArqonServer, type ServerOptions } from '../../src/edge/server.js';
import { createLogger } from '../../src/telemetry/logger.js';

export interface TestServer {
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
  readonly telemetryUrl: string;
  readonly server: ArqonServer;
  close(): Promise<void>;
}

/** `options` (e.g. an injected `clock`) are passed to ArqonServer as given; the silent logger is the default. */
export async function startServer(overrides: Partial<Record<ConfigKey | 'tenants' | 'casil' | 'semantic', unknown>> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const { config } = parseConfig({ overrides: { port: 0, logLevel: 'silent', shutdownTimeoutMs: 1000, auth: 'none', ...overrides } });
  const server = new ArqonServer(config, { logger: createLogger(config.logLevel), ...options });
  const info = await server.listen();
  return {
    url: info.url,
    httpUrl: info.url.replace(/^ws/, 'http'),
    port: info.port,
    telemetryUrl: info.telemetryUrl,
    server,
    close: () => server.close(),
  };
}
