/**
 * A small leveled logger writing one line per record to stderr. Fields go
 * through CASIL's log redaction first: sensitive keys and probable secrets
 * never reach a log line (docs/casil.md, "Logs and telemetry").
 */
import { redactLogFields } from '../casil/log-redaction.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  readonly level: LogLevel;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const min = RANK[level];
  const make =
    (lvl: Exclude<LogLevel, 'silent'>) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (RANK[lvl] < min) return;
      const extra = fields === undefined ? '' : ' ' + JSON.stringify(redactLogFields(fields));
      write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${msg}${extra}`);
    };
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error'), level };
}
