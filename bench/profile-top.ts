/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`):
 * top functions by self time, by total (inclusive) time, and self time per
 * file. No dependencies; paths are shortened to the repository.
 *
 *   node --import tsx bench/profile-top.ts DIR/arqon-*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('/node_modules/');
  if (nm !== -1) return clean.slice(nm + 1);
  const src = clean.search(/\/(src|bench)\//);
  return src === -1 ? clean : clean.slice(src + 1);
}

function keyOf(f: CallFrame): string {
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  const where = shortUrl(f.url);
  return where === '' ? name : `${name}  ${where}:${f.lineNumber + 1}`;
}

function fileOf(f: CallFrame): string {
  const where = shortUrl(f.url);
  if (where !== '') return where;
  return f.functionName.startsWith('(') ? f.functionName : '(native/builtin)';
}

function top(map: Map<string, number>, n: number, totalMs: number, title: string): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  for (const [key, ms] of rows) {
    process.stdout.write(`${ms.toFixed(0).padStart(8)} ms ${((ms / totalMs) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const n = ti === -1 ? 25 : Number(args[ti + 1]);
  const files = args.filter((a, i) => !a.startsWith('--') && (ti === -1 || i !== ti + 1));
  if (files.length === 0) {
    process.stderr.write('usage: node --import tsx bench/profile-top.ts FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  for (const file of files) {
    const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

    const self = new Map<string, number>();
    const total = new Map<string, number>();
    const perFile = new Map<string, number>();
    let busyMs = 0;
    let allMs = 0;
    for (let i = 0; i < prof.samples.length; i++) {
      const ms = (prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0) / 1000;
      const leaf = byId.get(prof.samples[i]!);
      if (leaf === undefined) continue;
      allMs += ms;
      const leafKey = keyOf(leaf.callFrame);
      if (leaf.callFrame.functionName === '(idle)') continue;
      busyMs += ms;
      self.set(leafKey, (self.get(leafKey) ?? 0) + ms);
      const f = fileOf(leaf.callFrame);
      perFile.set(f, (perFile.get(f) ?? 0) + ms);
      const seen = new Set<string>();
      for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
        const node = byId.get(id);
        if (node === undefined) break;
        const k = keyOf(node.callFrame);
        if (seen.has(k)) continue;
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + ms);
      }
    }
    total.delete('(root)');
    process.stdout.write(`\n== ${file}: ${(allMs / 1000).toFixed(1)} s sampled, ${(busyMs / 1000).toFixed(1)} s busy (not idle)\n`);
    top(self, n, busyMs, 'self time (% of busy):');
    top(total, n, busyMs, 'total time incl. callees (% of busy):');
    top(perFile, Math.min(n, 15), busyMs, 'self time by file:');
  }
}

main();
