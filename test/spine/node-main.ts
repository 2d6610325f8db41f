/**
 * One ArqonBus node as a child process, for the SIGKILL test: config from
 * ARQON_* variables, prints `listening <url>` once it accepts clients.
 * Run: node --import tsx test/spine/node-main.ts
 */
import { parseConfig } from '../../src/config/parse.js';
import { ArqonServer } from '../../src/edge/server.js';
import { createLogger } from '../../src/telemetry/logger.js';

const { config } = parseConfig({ env: process.env, overrides: { port: 0, host: '127.0.0.1' } });
const server = new ArqonServer(config, { logger: createLogger(config.logLevel) });
const { url } = await server.listen();
process.stdout.write(`listening ${url}\n`);
