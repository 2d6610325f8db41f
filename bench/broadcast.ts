/**
 * Broadcast fan-out benchmark: ArqonBus against a bare `ws` broadcast server
 * under the same open-loop load, one server after the other. Each server runs
 * in its own child process so the load generator (this process) never shares
 * its event loop. See bench/README.md.
 *
 *   npm run bench -- --subs 200 --pubs 4 --rate 500 --duration 10
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerProcess } from './children.js';
import { runLoad, type RunResult } from './load.js';
import { HELP, OptionError, parseOptions, type BenchOptions } from './options.js';
import { printReport } from './report.js';
import { TARGETS } from './targets.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function runOne(opts: BenchOptions, name: BenchOptions['targets'][number]): Promise<RunResult> {
  const target = TARGETS[name];
  process.stderr.write(`bench: starting ${target.label} ...`);
  const server = await ServerProcess.start({
    name: target.label,
    args: target.nodeArgs(ROOT, opts),
    cwd: ROOT,
    env: target.env,
    ready: target.ready,
    timeoutMs: opts.setupTimeout * 1000,
  });
  process.stderr.write(` ${server.url} (pid ${server.pid}); ${opts.subs} subs + ${opts.pubs} pubs, ${opts.warmup + opts.duration}s of load\n`);
  try {
    const result = await runLoad(server, target, opts);
    if (!server.running) throw new Error(`${target.label} exited during the run\n${server.stderr}`);
    return result;
  } finally {
    await server.stop();
    // The --auth none start-up warning is expected here; anything else (slow consumers, errors) is shown.
    const lines = server.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('--auth none'));
    if (lines.length > 0) process.stderr.write(`bench: ${target.label} stderr (tail):\n${lines.slice(-5).join('\n')}\n`);
  }
}

async function main(): Promise<number> {
  let opts: BenchOptions | null;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`bench: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === null) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.cpuProfDir !== undefined) mkdirSync(opts.cpuProfDir, { recursive: true });

  // Hard stop: setup + load + drain + teardown for every server, with slack.
  const budgetS = opts.rounds * opts.targets.length * (opts.setupTimeout + opts.warmup + opts.duration + opts.drain + 15);
  const guard = setTimeout(() => {
    process.stderr.write(`bench: exceeded the ${budgetS}s budget, aborting\n`);
    process.exit(3);
  }, budgetS * 1000);
  guard.unref();

  const results: RunResult[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? opts.targets : [...opts.targets].reverse();
    for (const name of order) {
      results.push({ ...(await runOne(opts, name)), round });
      // A moment between runs so the next server does not start while the kernel is still closing sockets.
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  printReport(opts, results);
  if (opts.cpuProfDir !== undefined) {
    process.stderr.write(
      `bench: CPU profiles in ${opts.cpuProfDir}/{${opts.targets.join(',')}}/ (one per thread; the main thread's is the largest); ` +
        'summarise with node --import tsx bench/profile-top.ts <file>\n',
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`\nbench: failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
