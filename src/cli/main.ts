#!/usr/bin/env node
/** `arqonbus` / `npm start`: parse config once, start a node, stop cleanly on SIGINT/SIGTERM. */
import { ConfigError, helpText, parseConfig } from '../config/parse.js';
import { ArqonServer } from '../edge/server.js';
import { createLogger } from '../telemetry/logger.js';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`arqonbus: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  const { config } = parsed;
  const logger = createLogger(config.logLevel);
  const server = new ArqonServer(config, { logger });
  let info;
  try {
    info = await server.listen();
  } catch (err) {
    process.stderr.write(`arqonbus: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const http = info.url.replace(/^ws/, 'http');
  process.stdout.write(
    `ArqonBus ${server.bus.version} listening on ${info.url}\n` +
      `  telemetry: ${info.telemetryUrl}\n  health:    ${http}/health\n  metrics:   ${http}/metrics\n`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn('second signal, exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info(`${signal} received, shutting down`);
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error('shutdown failed', { error: String(err) });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`arqonbus: fatal: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
