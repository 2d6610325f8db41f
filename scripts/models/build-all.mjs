#!/usr/bin/env node
/**
 * Builds every bundled model (the target of `npm run build:models`, which `prepare` runs on
 * `npm ci` / `npm install`). Each build runs in its own process, one after the other, so the
 * memory of one (GloVe-SIF parses a ~300 MB JSON) is returned before the next starts. Each
 * build is idempotent and offline; arguments (--force, --quiet) are passed to every build.
 *
 *   node scripts/models/build-all.mjs [--force] [--quiet]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUILDS = ['build-use-lite.mjs', 'build-glove-sif.mjs'];

let failed = 0;
for (const script of BUILDS) {
  const path = fileURLToPath(new URL(script, import.meta.url));
  if (!existsSync(path)) continue;
  const { status, signal } = spawnSync(process.execPath, [path, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (status !== 0) {
    process.stderr.write(`build:models: ${script} failed (${signal ?? `exit ${status}`})\n`);
    failed++;
  }
}
process.exitCode = failed > 0 ? 1 : 0;
