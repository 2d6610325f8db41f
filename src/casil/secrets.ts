/**
 * Probable secrets: the credential formats people really leak. Each rule is
 * a prefix-anchored regex with bounded quantifiers (linear on any input)
 * guarded by a cheap substring test, so ordinary text pays a few `includes`
 * calls and no regex. Generic `password=…` style assignments additionally
 * need a value that looks random (entropy, character classes) and not like
 * code, a placeholder or a word, which keeps prose and snippets out.
 */
import { NO_FINDINGS, type Detector, type Finding } from './types.js';

interface Rule {
  readonly type: string;
  /** Every match of `re` contains one of these substrings; strings without any skip the regex. */
  readonly markers: readonly string[];
  readonly re: RegExp;
  /** Extra check on the match (e.g. the password part of a connection string). */
  readonly accept?: (match: RegExpMatchArray) => boolean;
}

const RULES: readonly Rule[] = [
  { type: 'aws_access_key', markers: ['AKIA', 'ASIA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'ABIA', 'ACCA'],
    re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/g },
  { type: 'github_token', markers: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9])/g },
  { type: 'github_token', markers: ['github_pat_'], re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,244}(?![A-Za-z0-9_])/g },
  { type: 'gitlab_token', markers: ['glpat-'], re: /(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])/g },
  { type: 'slack_token', markers: ['xox'], re: /(?<![A-Za-z0-9])xox[abposre]-[0-9]{6,16}-[A-Za-z0-9-]{10,200}/g },
  { type: 'slack_webhook', markers: ['hooks.slack.com/'], re: /hooks\.slack\.com\/services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{16,48}/g },
  { type: 'stripe_key', markers: ['_live_'], re: /(?<![A-Za-z0-9])(?:sk|rk)_live_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])/g },
  { type: 'openai_key', markers: ['sk-'], re: /(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,200}(?![A-Za-z0-9_-])/g,
    accept: (m) => mixed(m[0].slice(3)) },
  { type: 'google_api_key', markers: ['AIza'], re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
  { type: 'npm_token', markers: ['npm_'], re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
  { type: 'sendgrid_key', markers: ['SG.'], re: /(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g },
  { type: 'private_key', markers: ['-----BEGIN'], re: /-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g },
  { type: 'jwt', markers: ['eyJ'],
    re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,4096}\.eyJ[A-Za-z0-9_-]{10,8192}\.[A-Za-z0-9_-]{16,1024}(?![A-Za-z0-9_-])/g },
  // scheme://user:password@host — the password must not be a placeholder.
  { type: 'connection_string', markers: ['://'],
    re: /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,24}:\/\/[^\s:/@"']{0,128}:([^\s/@"']{3,256})@[A-Za-z0-9[]/g,
    accept: (m) => !isPlaceholder(m[1]!) },
];

/** Keys whose value is a credential when it looks random: `password=…`, `"api_key": "…"`. */
const SECRET_KEY = /(?:pass(?:word|wd|phrase)?|pwd|secret|secret[_-]?key|account[_-]?key|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|client[_-]?secret|private[_-]?key|credentials?)$/i;
/** The same keys inside free text, followed by `=` or `:` and a value. */
const ASSIGNMENT =
  /(?<![A-Za-z0-9])((?:[A-Za-z0-9]{1,20}[_-]?)?(?:pass(?:word|wd|phrase)?|pwd|secret(?:[_-]?key)?|account[_-]?key|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|client[_-]?secret|private[_-]?key))["']?\s{0,3}[:=]\s{0,3}["']?([^\s"'`,;&)}\]]{8,200})/gi;
const ASSIGNMENT_MARKERS = ['pass', 'pwd', 'secret', 'key', 'token', 'PASS', 'PWD', 'SECRET', 'KEY', 'TOKEN', 'Pass', 'Secret', 'Key', 'Token'];

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** How many of lower case, upper case, digits (and, with `symbols`, anything else) a string mixes. */
function charClasses(s: string, symbols: boolean): number {
  let classes = 0;
  if (/[a-z]/.test(s)) classes++;
  if (/[A-Z]/.test(s)) classes++;
  if (/[0-9]/.test(s)) classes++;
  if (symbols && /[^A-Za-z0-9]/.test(s)) classes++;
  return classes;
}

/** At least two of lower case, upper case, digits: random tokens mix them; words rarely do. */
const mixed = (s: string): boolean => charClasses(s, false) >= 2;

const PLACEHOLDER = /^(?:<.*|\$\{.*|\{\{.*|%[sd]|\$[A-Za-z_]\w*|x+|\*+|\.+|\?+|-+|#+|changeme|password\d*|secret|redacted|none|null|undefined|example|your[_-]?\w*|my[_-]?\w*)$/i;

function isPlaceholder(v: string): boolean {
  return PLACEHOLDER.test(v) || /^(.)\1+$/.test(v);
}

/** One path segment that reads like a name (`node2`, `server.key`, `Documents`), not a slice of random base64 (`K7MDENGbPx`). */
const nameLike = (segment: string): boolean => /^[A-Za-z0-9._@+-]{0,64}$/.test(segment) && charClasses(segment, false) < 3;

/**
 * A path or a resource name, not a credential: `PWD=/usr/local/lib/node2`,
 * `secret: /etc/ssl/private/server2.key`, a Vault path `v1/kv/data/app2`, an
 * ARN. Base64 secrets contain `/` too, but their segments mix cases and
 * digits (or, relative, upper case), which names rarely do.
 */
function looksLikePath(v: string): boolean {
  if (v.startsWith('arn:')) return true;
  if (!v.includes('/')) return false;
  const rooted = /^(?:~|\.{1,2})?\//.test(v);
  const segments = v.replace(/^(?:~|\.{1,2})?\//, '').split('/');
  if (rooted) return segments.length >= 2 && segments.every(nameLike);
  return segments.length >= 3 && segments.every((seg) => /^[a-z0-9._-]{1,64}$/.test(seg));
}

/** Code, not a value: `process.env.DB_PASS`, `getSecret()`, `DB_PASSWORD`, `config.apiKey`, `req.body.password`, a path. */
function looksLikeCode(v: string): boolean {
  if (/[(){}]/.test(v)) return true;
  if (looksLikePath(v)) return true;
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(v)) return true; // dotted identifier
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(v)) return true; // CONST_CASE
  if (/^[a-z]+(?:_[a-z0-9]+)+$/.test(v)) return true; // snake_case
  if (/^[a-z]+(?:[A-Z][a-z]+)+$/.test(v)) return true; // camelCase without digits
  return false;
}

/** Whether an assigned value looks like a real, random credential. */
export function randomLookingValue(v: string): boolean {
  if (v.length < 8 || isPlaceholder(v) || looksLikeCode(v)) return false;
  if (/^[a-z]+$/i.test(v)) return false; // a word
  if (/^\d+$/.test(v)) return false; // a number (pin, id, amount)
  const classes = charClasses(v, true);
  return classes >= 3 ? entropy(v) >= 2.8 : classes === 2 && entropy(v) >= 3.5;
}

/**
 * One pass that every match of every rule above must pass (a superset of their
 * markers, case-folded like the assignment keywords): most strings fail it and
 * cost nothing more. Factored by first character, which V8 runs several times
 * faster than a flat alternation or a loop of `includes`.
 */
const PREFILTER = /A[KSGIRNBC][IPDOCNV]A|AIza|npm_|SG\.|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack|_live_|sk-|-----BEGIN|eyJ|:\/\/|[pP](?:ass|ASS|wd|WD)|[sS](?:ecret|ECRET)|[kK](?:ey|EY)|[tT](?:oken|OKEN)/;

/** Field names repeat across messages: their verdicts are cached (bounded; cleared when full). */
const keyVerdicts = new Map<string, boolean>();

function isSecretKey(key: string): boolean {
  let v = keyVerdicts.get(key);
  if (v === undefined) {
    if (keyVerdicts.size >= 4096) keyVerdicts.clear();
    v = key.length <= 64 && SECRET_KEY.test(key);
    keyVerdicts.set(key, v);
  }
  return v;
}

/** The shortest string any rule can match; shorter strings are skipped outright. */
const MIN_LENGTH = 8;

export const secretDetector: Detector = {
  name: 'secrets',
  category: 'secret',
  detect(text, key) {
    let out: Finding[] | undefined;
    // `"password": "k9#Qz…"` — the field name is the assignment.
    if (key !== undefined && text.length >= MIN_LENGTH && text.length <= 200 && isSecretKey(key) && randomLookingValue(text)) {
      return [{ category: 'secret', type: 'assignment', start: 0, end: text.length }];
    }
    if (text.length < MIN_LENGTH || !PREFILTER.test(text)) return NO_FINDINGS;
    for (const rule of RULES) {
      if (!rule.markers.some((m) => text.includes(m))) continue;
      for (const m of text.matchAll(rule.re)) {
        if (rule.accept !== undefined && !rule.accept(m)) continue;
        (out ??= []).push({ category: 'secret', type: rule.type, start: m.index, end: m.index + m[0].length });
      }
    }
    // An assignment needs its `=` or `:`; most strings (and object keys) have neither.
    if ((text.includes('=') || text.includes(':')) && ASSIGNMENT_MARKERS.some((m) => text.includes(m))) {
      for (const m of text.matchAll(ASSIGNMENT)) {
        const value = m[2]!;
        if (!randomLookingValue(value)) continue;
        const start = m.index + m[0].length - value.length;
        (out ??= []).push({ category: 'secret', type: 'assignment', start, end: start + value.length });
      }
    }
    return out ?? NO_FINDINGS;
  },
};
