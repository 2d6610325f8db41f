/**
 * JSON paths for `redact_paths`: dot-separated keys relative to the payload,
 * with `[n]` for an array index and `*` (or `[*]`) for any key or index, e.g.
 * `user.ssn`, `cards[*].number`, `*.password`. An optional `$.` or
 * `payload.` prefix is accepted. Paths compile into one trie walked beside
 * the payload, so any number of paths costs one map lookup per key.
 */

export interface PathNode {
  readonly children: Map<string, PathNode>;
  /** The `*` child. */
  any: PathNode | undefined;
  /** A path ends here: the value at this node is redacted. */
  terminal: boolean;
}

const SEGMENT = /^(?:[^.[\]]+)$/;

/** Splits a path into segments; returns an error message instead when it is malformed. */
export function parsePath(path: string): string[] | string {
  if (path.length === 0 || path.length > 512) return 'must be a non-empty path of at most 512 characters';
  const rest = path.startsWith('$.') ? path.slice(2) : path.startsWith('payload.') ? path.slice(8) : path;
  const out: string[] = [];
  for (const part of rest.split('.')) {
    const m = /^([^[\]]*)((?:\[(?:\d{1,9}|\*)\])*)$/.exec(part);
    if (m === null || (m[1] === '' && m[2] === '')) return `segment "${part}" is malformed (expected key, key[n], key[*] or *)`;
    if (m[1] !== '') {
      if (!SEGMENT.test(m[1]!)) return `segment "${part}" is malformed`;
      out.push(m[1]!);
    }
    for (const idx of m[2]!.matchAll(/\[(\d{1,9}|\*)\]/g)) out.push(idx[1]!);
  }
  if (out.length > 64) return 'is deeper than 64 segments';
  return out;
}

export function newNode(): PathNode {
  return { children: new Map(), any: undefined, terminal: false };
}

/** Builds the trie of already-validated paths; null when there are none. */
export function compilePaths(paths: readonly string[]): PathNode | null {
  if (paths.length === 0) return null;
  const root = newNode();
  for (const p of paths) {
    const segments = parsePath(p);
    if (typeof segments === 'string') throw new Error(`invalid path ${p}: ${segments}`);
    let node = root;
    for (const s of segments) {
      if (s === '*') node = node.any ??= newNode();
      else {
        let next = node.children.get(s);
        if (next === undefined) node.children.set(s, (next = newNode()));
        node = next;
      }
    }
    node.terminal = true;
  }
  return root;
}

/** The nodes reached from `nodes` through `key`; reuses one empty array when none. */
export function advance(nodes: readonly PathNode[], key: string): readonly PathNode[] {
  if (nodes.length === 0) return EMPTY;
  let out: PathNode[] | undefined;
  for (const n of nodes) {
    const exact = n.children.get(key);
    if (exact !== undefined) (out ??= []).push(exact);
    if (n.any !== undefined) (out ??= []).push(n.any);
  }
  return out ?? EMPTY;
}

export const EMPTY: readonly PathNode[] = Object.freeze([]);
