/**
 * Permission patterns over `room:channel`. A pattern is `ROOM:CHANNEL` where
 * each side is a glob in which `*` matches any run of name characters (never
 * `:`), or the single pattern `*`, which matches every channel. Patterns are
 * compiled once, when an identity is built; matching is a regex test.
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

const escape = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

function compileSide(glob: string): string {
  return glob.split('*').map(escape).join('[^:]*');
}

export function compilePatterns(patterns: readonly string[]): PatternSet {
  if (patterns.length === 0) return { patterns, matches: () => false };
  if (patterns.includes('*') || patterns.includes('*:*')) return { patterns, matches: () => true };
  const parts: string[] = [];
  for (const p of patterns) {
    const i = p.indexOf(':');
    if (i === -1 || p.indexOf(':', i + 1) !== -1) throw new PatternError(p, 'expected ROOM:CHANNEL or *');
    const room = p.slice(0, i);
    const channel = p.slice(i + 1);
    if (!SIDE_RE.test(room) || !SIDE_RE.test(channel)) throw new PatternError(p, 'room and channel globs use A-Z a-z 0-9 _ . @ + - and *');
    parts.push(`${compileSide(room)}:${compileSide(channel)}`);
  }
  const re = new RegExp(`^(?:${parts.join('|')})$`);
  return { patterns, matches: (room, channel) => re.test(`${room}:${channel}`) };
}
