/**
 * Hostile payloads of about 64 KB each, built to make a content inspector
 * slow: long runs of base64-ish characters, repeated keywords and prefixes
 * that start a match and never finish it, deep nesting, huge arrays, many
 * short strings and many keys. Shared by test/casil/hard-cases.test.ts
 * (which asserts they are decided within the default budget) and
 * bench/casil.ts (which prints their worst-case times).
 */
/** 64 KB of text built from one repeated unit. */
const fill = (unit: string, bytes = 64 * 1024): string => unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Hostile payloads of about 64 KB each: what an attacker would send to make inspection slow. */
export function hostilePayloads(): Record<string, Record<string, unknown>> {
  let nested: Record<string, unknown> = { v: 'password=' + 'Zq9#'.repeat(4) };
  for (let i = 0; i < 60; i++) nested = { a: nested, p: fill('password=', 1000) };
  return {
    'base64 run': { t: Array.from({ length: 64 * 1024 }, (_, i) => B64[(i * 7919) % 64]).join('') },
    'one letter': { t: fill('A') },
    'repeated password=': { t: fill('password=') },
    'repeated api_key: ': { t: fill('api_key: ') },
    'repeated token=Ab1': { t: fill('token=Ab1') },
    'repeated eyJ': { t: fill('eyJaaaaaaaaaaaa.') },
    'repeated scheme://x:': { t: fill('ab://x:') },
    'repeated @': { t: fill('a.b@c.') },
    'digits and hyphens': { t: fill('1-') },
    'digits and spaces': { t: fill('1 ') },
    'plus and digits': { t: fill('+12345678 ') },
    'nanp fragments': { t: fill('555-123-') },
    'slack prefixes': { t: fill('xoxb-1234567-') },
    'nested 60 deep': nested,
    'huge array of numbers': { a: Array.from({ length: 12_000 }, (_, i) => 4_000_000_000_000_000 + i) },
    'many short strings': { a: Array.from({ length: 13_000 }, () => 'a') },
    'many keys': Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`password_${i}@x.io`, 'v'])),
  };
}

