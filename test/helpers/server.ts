/** Starts a real ArqonBus server on port 0 for a test. */
import { parseConfig } from '../../src/config/parse.js';
import type { ConfigKey } from '../../src/config/schema.js';
import { ArqonServer } from '../../src/edge/server.js';
import { createLogger } from '../../src/telemetry/logger.js';

export interface TestServer {
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
  readonly telemetryUrl: string;
  readonly server: ArqonServer;
  close(): Promise<void>;
}

export async function startServer(overrides: Partial<Record<ConfigKey, unknown>> = {}): Promise<TestServer> {
  const { config } = parseConfig({ overrides: { port: 0, logLevel: 'silent', shutdownTimeoutMs: 1000, auth: 'none', ...overrides } });
  const server = new ArqonServer(config, { logger: createLogger(config.logLevel) });
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
