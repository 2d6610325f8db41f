/**
 * PII detectors: email addresses, phone numbers and payment card numbers
 * that pass Luhn. Each starts with a cheap prefilter (an `@`, a `+`, a digit
 * shape) so a string without PII costs one fast pass; the rest is either a
 * hand-written linear scan or a regex with bounded, unambiguous repetition,
 * so no input can make it backtrack.
 */
import { luhnValid, plausibleCard } from './luhn.js';
import { NO_FINDINGS, type Detector, type Finding } from './types.js';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
/** Characters of an email's local part (a practical subset of RFC 5322). */
const isLocal = (c: number): boolean => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45; // . _ % + -
const isDomain = (c: number): boolean => isAlnum(c) || c === 46 || c === 45; // . -

/**
 * File extensions that are no top-level domain: `icon@2x.png`, `bundle@1.2.css`
 * are asset names (retina variants, versioned files), not addresses. Only
 * extensions that no registry delegates are listed (`.md`, `.py`, `.rs` are
 * country domains and stay addresses).
 */
const FILE_EXTENSIONS: ReadonlySet<string> = new Set([
  'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'avif', 'ico', 'bmp', 'tif', 'tiff', 'heic',
  'css', 'scss', 'js', 'mjs', 'cjs', 'jsx', 'tsx', 'json', 'html', 'htm', 'txt', 'yaml', 'yml', 'toml', 'lock', 'xml', 'csv', 'log', 'wasm', 'woff', 'woff2', 'ttf',
]);

export const emailDetector: Detector = {
  name: 'email',
  category: 'pii',
  detect(text) {
    let at = text.indexOf('@');
    if (at === -1) return NO_FINDINGS;
    const out: Finding[] = [];
    let floor = 0; // a match never starts before the end of the previous one
    while (at !== -1) {
      let s = at;
      while (s > floor && at - s < 64 && isLocal(text.charCodeAt(s - 1))) s--;
      let e = at + 1;
      while (e < text.length && e - at <= 253 && isDomain(text.charCodeAt(e))) e++;
      // Trailing dots/hyphens end a sentence, not a domain.
      while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
      while (s < at && text.charCodeAt(s) === 46) s++;
      const domain = text.slice(at + 1, e);
      const dot = domain.lastIndexOf('.');
      const tld = dot === -1 ? '' : domain.slice(dot + 1);
      if (s < at && dot > 0 && tld.length >= 2 && /^[A-Za-z]+$/.test(tld) && !domain.includes('..') && !FILE_EXTENSIONS.has(tld.toLowerCase())) {
        out.push({ category: 'pii', type: 'email', start: s, end: e });
        floor = e;
      }
      at = text.indexOf('@', Math.max(at + 1, floor));
    }
    return out;
  },
};

/** A payment card number as an integer (a JSON number): a network's prefix and length, and Luhn. */
export function isCardInteger(value: number): boolean {
  if (value < 1e12 || !Number.isSafeInteger(value)) return false;
  const digits = String(value);
  return plausibleCard(digits) && luhnValid(digits);
}

/** Counts digits, stopping early once `enough` is reached. */
function hasDigits(text: string, enough: number): boolean {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (isDigit(text.charCodeAt(i)) && ++n >= enough) return true;
  }
  return false;
}

export const cardDetector: Detector = {
  name: 'card',
  category: 'pii',
  /**
   * One pass over runs of digits joined by single spaces or hyphens, bounded on
   * both sides by something that is neither a digit nor a letter (so ids and
   * hex strings with digits in them are not read as cards).
   */
  detect(text) {
    const n = text.length;
    if (n < 13 || !CARD_SHAPE.test(text)) return NO_FINDINGS;
    let out: Finding[] | undefined;
    let i = 0;
    while (i < n) {
      if (!isDigit(text.charCodeAt(i))) {
        i++;
        continue;
      }
      const start = i;
      // Not glued to a word, and not the fraction of a decimal (`0.4111…`).
      const bounded = i === 0 || (!isAlnum(text.charCodeAt(i - 1)) && !(text.charCodeAt(i - 1) === 46 && i >= 2 && isDigit(text.charCodeAt(i - 2))));
      let digits = 0;
      let end = i;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (isDigit(c)) {
          digits++;
          end = ++i;
        } else if ((c === 32 || c === 45) && i + 1 < n && isDigit(text.charCodeAt(i + 1))) {
          i++;
        } else {
          break;
        }
      }
      // Nor followed by a letter, or by a decimal point and digits (`4111….5`).
      if (!bounded || digits < 13 || digits > 19 || (end < n && isAlpha(text.charCodeAt(end)))) continue;
      if (end + 1 < n && text.charCodeAt(end) === 46 && isDigit(text.charCodeAt(end + 1))) continue;
      const number = text.slice(start, end).replace(/[ -]/g, '');
      if (plausibleCard(number) && luhnValid(number)) (out ??= []).push({ category: 'pii', type: 'card', start, end });
    }
    return out ?? NO_FINDINGS;
  },
};

/** `+` and 8–15 digits with single separators; validated in code after this cheap, bounded match. */
const INTL_PHONE = /(?<![\w+])\+\d[\d ().-]{6,22}\d(?![\w])/g;
/**
 * North-American: `(415) 555-0123`, `415-555-0123`, `415.555.0123`, optionally
 * `+1`/`1` first. Area and exchange codes start with 2–9 (the numbering plan's
 * rule), which keeps ranges and ids like `100-200-3000` or `000-000-0000` out;
 * a number glued to more of an identifier (`555-123-4567-XL`) is not a phone.
 */
const NANP_PHONE = /(?<![\w+.-])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w]|[.-]\w)/g;

/** A North-American number's core shape (3 digits, separator, 3 digits); a regex runs this scan faster than a JS loop. */
const NANP_SHAPE = /\d{3}(?:[ .-]|\) ?)\d{3}/;
/** 13 digits with optional single separators: the least any card number has. */
const CARD_SHAPE = /(?:\d[ -]?){12}\d/;

/**
 * Phone numbers in the forms people write them: international (`+` and 8–15
 * digits) or North-American with separators. Bare digit runs are not phones:
 * they are far more often ids, amounts or timestamps.
 */
export const phoneDetector: Detector = {
  name: 'phone',
  category: 'pii',
  detect(text) {
    if (text.length < 10) return NO_FINDINGS;
    const plus = text.includes('+');
    if (!plus && !NANP_SHAPE.test(text)) return NO_FINDINGS;
    const out: Finding[] = [];
    if (plus && hasDigits(text, 8)) {
      for (const m of text.matchAll(INTL_PHONE)) {
        const raw = m[0];
        const digits = raw.replace(/\D/g, '').length;
        if (digits >= 8 && digits <= 15 && !/[ .-]{2}|\.\d{1,2}$/.test(raw)) {
          out.push({ category: 'pii', type: 'phone', start: m.index, end: m.index + raw.length });
        }
      }
    }
    for (const m of text.matchAll(NANP_PHONE)) {
      if (out.some((f) => f.start <= m.index && m.index < f.end)) continue;
      out.push({ category: 'pii', type: 'phone', start: m.index, end: m.index + m[0].length });
    }
    return out;
  },
};
