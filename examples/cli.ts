/**
 * What every runnable example shares at its entry point: `--url` / `--token`
 * (or ARQON_URL / ARQON_TOKEN), "am I the script node was asked to run?", and
 * a clean stop on Ctrl-C. Environment variables are read here only, never
 * inside the agents, so the same code runs in the demo with minted tokens.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface Connection {
  readonly url: string;
  /** Undefined: connect anonymously, which only a server started with `--auth none` accepts. */
  readonly token: string | undefined;
}

/** True when `moduleUrl` (pass `import.meta.url`) is the file node was started with. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === moduleUrl;
}

/** Reads `--url` and `--token` (`--help` prints the usage line and exits). */
export function connectionFromArgs(usage: string, argv = process.argv.slice(2), env = process.env): Connection {
  const options = { url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean' } } as const;
  const { values } = parseArgs({ args: argv, options, strict: true });
  if (values.help === true) {
    process.stdout.write(`usage: ${usage} [--url ws://127.0.0.1:9100] [--token <jwt>]   (or ARQON_URL / ARQON_TOKEN)\n`);
    process.exit(0);
  }
  const url = values.url ?? env['ARQON_URL'] ?? 'ws://127.0.0.1:9100';
  const token = values.token ?? env['ARQON_TOKEN'];
  if (token === undefined || token.length === 0) {
    process.stderr.write('no --token or ARQON_TOKEN: connecting anonymously (accepted only by a server started with --auth none)\n');
    return { url, token: undefined };
  }
  return { url, token };
}

/** Runs `main`; a failure is printed as `code: message` (ArqonClientError) and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  });
}

/** Keeps a long-running example (an agent) up until SIGINT/SIGTERM, then stops it. */
export function stopOnSignal(stop: () => Promise<void>): void {
  const handler = (): void => {
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
