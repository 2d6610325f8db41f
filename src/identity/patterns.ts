/**
 * Permission patterns over `room:channel`. A pattern is `ROOM:CHANNEL` where
 * each side is a glob in which `*` matches any run of name characters (never
 * `:`), or the single pattern `*`, which matches every channel. Patterns are
 * validated once, when an identity is built; matching is a linear-time glob match.
 * They apply inside the identity's own tenant only: no pattern can name
 * another tenant.
 */

const SIDE_RE = /^[A-Za-z0-9_.@+*-]{1,128}$/;

export class PatternError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`invalid pattern "${pattern}": ${reason}`);
    this.name = 'PatternError';
  }
}

export interface PatternSet {
  readonly patterns: readonly string[];
  matches(room: string, channel: string): boolean;
}

/**
 * Glob match of one side (`*` = any run of characters), iterative with one
 * backtrack point: O(glob × name) at worst. A regex with several `*` backtracks
 * exponentially on a long non-matching name, and names are chosen by clients.
 */
function globMatch(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = n;
    } else if (g < glob.length && glob[g] === name[n]) {
      g++;
      n++;
    } else if (star !== -1) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** Whether a capability name matches one of the identity's `caps` patterns (`*` matches any run of characters). */
export function capsAllow(caps: readonly string[], name: string): boolean {
  return caps.some((pattern) => globMatch(pattern, name));
}

export function compilePatterns(patterns: readonly string[]): PatternSet {
  if (patterns.length === 0) return { patterns, matches: () => false };
  const parts: Array<[room: string, channel: string]> = [];
  for (const p of patterns) {
    if (p === '*') continue;
    const i = p.indexOf(':');
    if (i === -1 || p.indexOf(':', i + 1) !== -1) throw new PatternError(p, 'expected ROOM:CHANNEL or *');
    const room = p.slice(0, i);
    const channel = p.slice(i + 1);
    if (!SIDE_RE.test(room) || !SIDE_RE.test(channel)) throw new PatternError(p, 'room and channel globs use A-Z a-z 0-9 _ . @ + - and *');
    parts.push([room, channel]);
  }
  // Every pattern is validated first: a `*` beside an invalid entry does not hide it.
  if (patterns.includes('*') || patterns.includes('*:*')) return { patterns, matches: () => true };
  return {
    patterns,
    // `*` never matches `:` (names cannot hold one; a name that does matches nothing).
    matches: (room, channel) =>
      !room.includes(':') && !channel.includes(':') && parts.some(([r, c]) => globMatch(r, room) && globMatch(c, channel)),
  };
}
