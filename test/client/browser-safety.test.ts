/**
 * The SDK must load in browsers: no module reachable through value imports
 * from src/client/index.ts may import a Node built-in, and `ws` may only be
 * loaded lazily (dynamic import) as the fallback implementation.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Static value imports and re-exports; `import type` / `export type` are erased at build time.
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function valueImportGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(STATIC_IMPORT)].map((m) => m[1]!);
    graph.set(file, specifiers);
    for (const spec of specifiers) {
      if (spec.startsWith('.')) pending.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  }
  return graph;
}

describe('SDK browser safety', () => {
  const graph = valueImportGraph(resolve(root, 'src/client/index.ts'));

  it('reaches only relative modules through static value imports', () => {
    const external = [...graph].flatMap(([file, specs]) =>
      specs.filter((s) => !s.startsWith('.')).map((s) => `${file.slice(root.length + 1)} -> ${s}`),
    );
    expect(external).toEqual([]);
    expect([...graph.keys()].some((f) => f.endsWith('src/protocol/codes.ts'))).toBe(true);
  });

  it('loads ws only through a dynamic import', () => {
    const transport = readFileSync(resolve(root, 'src/client/transport.ts'), 'utf8');
    expect(transport).toMatch(/await import\('ws'\)/);
  });
});
