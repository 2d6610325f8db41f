/**
 * Scope patterns over `room:channel`: `*` (every message, addressed or not),
 * `ROOM` (every channel of the rooms it matches, e.g. `secure-*`) or
 * `ROOM:CHANNEL` (e.g. `pii-*:*`). `*` in a glob matches any run of name
 * characters; matching reuses the linear-time glob of the permission patterns.
 */
import { capsAllow } from '../identity/patterns.js';

const SIDE_RE = /^[A-Za-z0-9_.@+*-]{1,128}$/;

/** An error message for a malformed pattern, or null when it is valid. */
export function checkScopePattern(pattern: unknown): string | null {
  if (typeof pattern !== 'string') return 'must be a string';
  if (pattern === '*') return null;
  const parts = pattern.split(':');
  if (parts.length > 2) return `invalid pattern "${pattern}": expected *, ROOM or ROOM:CHANNEL`;
  if (!parts.every((p) => SIDE_RE.test(p))) return `invalid pattern "${pattern}": globs use A-Z a-z 0-9 _ . @ + - and *`;
  return null;
}

/** Whether an address matches one pattern; a message without a room and channel matches only `*`. */
type Matcher = (room: string | null, channel: string | null) => boolean;

function compileOne(pattern: string): Matcher {
  if (pattern === '*' || pattern === '*:*') return () => true;
  const i = pattern.indexOf(':');
  // capsAllow is the glob matcher of src/identity/patterns.ts over a one-pattern list.
  const room = [i === -1 ? pattern : pattern.slice(0, i)];
  const channel = i === -1 ? null : [pattern.slice(i + 1)];
  return (r, c) => r !== null && c !== null && capsAllow(room, r) && (channel === null || capsAllow(channel, c));
}

export interface ScopeMatcher {
  /** True for `include: ["*"]` without excludes: the common case skips matching altogether. */
  readonly all: boolean;
  matches(room: string | null, channel: string | null): boolean;
}

/** Include minus exclude; patterns must have passed checkScopePattern. */
export function compileScope(include: readonly string[], exclude: readonly string[]): ScopeMatcher {
  const inc = include.map(compileOne);
  const exc = exclude.map(compileOne);
  const all = include.includes('*') && exclude.length === 0;
  return {
    all,
    matches: all ? () => true : (room, channel) => inc.some((m) => m(room, channel)) && !exc.some((m) => m(room, channel)),
  };
}
