/**
 * The binary codec must not weigh on JSON users nor break browser bundles:
 * the SDK reaches it only through a dynamic import, and the codec itself
 * imports protobufjs and relative modules only (no Node built-ins, no Buffer).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function staticGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const specs = [...readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)].map((m) => m[1]!);
    graph.set(file, specs);
    for (const spec of specs) if (spec.startsWith('.')) pending.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return graph;
}

describe('binary codec in the SDK', () => {
  it('is loaded by the SDK only through a dynamic import', () => {
    const sdk = staticGraph(resolve(root, 'src/client/index.ts'));
    expect([...sdk.keys()].some((f) => f.endsWith('src/protocol/proto-codec.ts'))).toBe(false);
    expect(readFileSync(resolve(root, 'src/client/codec.ts'), 'utf8')).toMatch(/await import\('\.\.\/protocol\/proto-codec\.js'\)/);
  });

  it('imports only protobufjs and browser-safe relative modules', () => {
    const graph = staticGraph(resolve(root, 'src/protocol/proto-codec.ts'));
    const external = [...graph.values()].flat().filter((s) => !s.startsWith('.'));
    expect(external).toEqual(['protobufjs']);
    for (const file of graph.keys()) expect(readFileSync(file, 'utf8'), file).not.toMatch(/\bBuffer\.\w|from ['"]node:/);
  });
});
