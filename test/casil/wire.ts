/**
 * What the CASIL wire tests share (not a test file itself): fake credentials,
 * and a per-file harness that starts a real server keeping every log line, so
 * a test can look for a blocked or redacted value in the log too, and closes
 * the raw clients and the server after each test.
 */
import type { ServerOptions } from '../../src/edge/server.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

// Fake credentials, built at run time so no file holds a literal token.
export const AWS_KEY = 'AKIA' + 'Q3EGRIVXNXT7HZWA';
export const GH_TOKEN = 'ghp_' + 'x7Rk2PqLmN9sT4vWyZ1aB3cD5eF6gH8iJ0kL';

export const LOBBY = { room: 'lobby', channel: 'general' } as const;

export interface CasilWire {
  /** The server of the running test (set by `start`). */
  readonly srv: TestServer;
  /** Every log line of the running test's server. */
  readonly logLines: readonly string[];
  /** A server with `casil` (the config file section) and other overrides, at log level debug. */
  start(overrides?: Record<string, unknown>, options?: ServerOptions): Promise<TestServer>;
  /** A raw client of `url` (the bus by default), closed after the test. */
  connect(url?: string, query?: Record<string, string>): Promise<RawClient>;
  /** Two clients, both members of LOBBY. */
  pair(): Promise<[RawClient, RawClient]>;
}

export function casilWire(afterEach: (fn: () => Promise<void>) => void): CasilWire {
  let srv: TestServer | undefined;
  const open: RawClient[] = [];
  const logLines: string[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv?.close();
    srv = undefined;
    logLines.length = 0;
  });
  const wire: CasilWire = {
    get srv(): TestServer {
      if (srv === undefined) throw new Error('no server: call start() first');
      return srv;
    },
    logLines,
    async start(overrides = {}, options = {}) {
      srv = await startServer({ logLevel: 'debug', ...overrides }, { logger: createLogger('debug', (line) => logLines.push(line)), ...options });
      return srv;
    },
    async connect(url = wire.srv.url, query = {}) {
      const { client } = await RawClient.connect(url, query);
      open.push(client);
      return client;
    },
    async pair() {
      const a = await wire.connect();
      const b = await wire.connect();
      for (const c of [a, b]) await c.ok('join_channel', LOBBY);
      return [a, b];
    },
  };
  return wire;
}
