#!/usr/bin/env node
/** `arqonbus` / `npm start`: parse config once, start a node, stop cleanly on SIGINT/SIGTERM. */
import { ConfigError, helpText, parseConfig } from '../config/parse.js';
import { ArqonServer } from '../edge/server.js';
import { KeyConfigError } from '../identity/keys.js';
import { RedisStartError, RedisUnavailableError } from '../storage/redis-connection.js';
import { devBanner, generateSecret, needsGeneratedSecret } from './dev-mode.js';
import { runTokenCommand } from './token.js';
import { createLogger } from '../telemetry/logger.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'token') return runTokenCommand(argv.slice(1), process.env);
  let parsed;
  let generated = false;
  try {
    parsed = parseConfig({ argv, env: process.env });
    if (!parsed.help && needsGeneratedSecret(parsed.config)) {
      parsed = parseConfig({ argv, env: process.env, overrides: { jwtSecret: generateSecret() } });
      generated = true;
    }
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
  let server: ArqonServer;
  try {
    server = new ArqonServer(config, { logger });
  } catch (err) {
    if (err instanceof KeyConfigError) {
      process.stderr.write(`arqonbus: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.auth === 'none') {
    logger.warn('--auth none: every client is an anonymous admin in tenant "default"; use only for local experiments');
  }
  let info;
  try {
    info = await server.listen();
  } catch (err) {
    // --redis-url given and Redis not there or not usable (and no --redis-optional): refuse to start, saying why.
    if (err instanceof RedisUnavailableError || err instanceof RedisStartError) {
      process.stderr.write(`arqonbus: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`arqonbus: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const http = info.url.replace(/^ws/, 'http');
  process.stdout.write(
    `ArqonBus ${server.bus.version} listening on ${info.url}\n` +
      `  telemetry: ${info.telemetryUrl}\n  dashboard: ${http}/dashboard\n  health:    ${http}/health\n  metrics:   ${http}/metrics\n`,
  );
  if (generated) process.stdout.write((await devBanner(config, info.url, info.telemetryUrl)) + '\n');

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
