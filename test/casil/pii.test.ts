/** PII detectors: emails, phone numbers and Luhn-valid card numbers, with the look-alikes they must leave alone. */
import { describe, expect, it } from 'vitest';
import { luhnValid, plausibleCard } from '../../src/casil/luhn.js';
import { cardDetector, emailDetector, phoneDetector } from '../../src/casil/pii.js';
import { maskSpans } from '../../src/casil/redact.js';
import type { Detector } from '../../src/casil/types.js';

/** The matched substrings, so assertions read as text. */
const found = (d: Detector, text: string): string[] => d.detect(text, undefined).map((f) => text.slice(f.start, f.end));

describe('luhn', () => {
  it('accepts valid card numbers and rejects one-digit changes', () => {
    for (const n of ['4111111111111111', '5500005555555559', '378282246310005', '6011111111111117', '4012888888881881']) {
      expect(luhnValid(n), n).toBe(true);
      expect(plausibleCard(n), n).toBe(true);
      const changed = n.slice(0, -1) + String((Number(n.at(-1)) + 1) % 10);
      expect(luhnValid(changed), changed).toBe(false);
    }
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('12a4')).toBe(false);
  });

  it('needs a card network prefix and length, not just the checksum', () => {
    expect(luhnValid('1234567812345670')).toBe(true);
    expect(plausibleCard('1234567812345670')).toBe(false);
    expect(plausibleCard('41111111111111')).toBe(false); // Visa with 14 digits
  });
});

describe('cardDetector', () => {
  it('finds card numbers written plain, with spaces or with hyphens', () => {
    expect(found(cardDetector, 'card 4111 1111 1111 1111 exp 12/29')).toEqual(['4111 1111 1111 1111']);
    expect(found(cardDetector, 'amex:378282246310005.')).toEqual(['378282246310005']);
    expect(found(cardDetector, 'pay with 5500-0055-5555-5559 please')).toEqual(['5500-0055-5555-5559']);
  });

  it('ignores Luhn failures, ids glued to letters, timestamps and long digit runs', () => {
    expect(found(cardDetector, '4111 1111 1111 1112')).toEqual([]);
    expect(found(cardDetector, 'order-id A4111111111111111')).toEqual([]);
    expect(found(cardDetector, 'ts 1732612345678 and 00340434161234567890')).toEqual([]);
    expect(found(cardDetector, 'short 4111')).toEqual([]);
  });
});

describe('emailDetector', () => {
  it('finds addresses and ends them before trailing punctuation', () => {
    expect(found(emailDetector, 'mail jane.doe+bus@example.co.uk, or ops@acme.io.')).toEqual(['jane.doe+bus@example.co.uk', 'ops@acme.io']);
    expect(found(emailDetector, 'alice@example.com')).toEqual(['alice@example.com']);
  });

  it('ignores handles, decorators and hosts without a top-level domain', () => {
    expect(found(emailDetector, '@alice said hi to @bob')).toEqual([]);
    expect(found(emailDetector, '@Component({ selector: "x" })')).toEqual([]);
    expect(found(emailDetector, 'git@github:org/repo and user@localhost')).toEqual([]);
    expect(found(emailDetector, 'version 1.2@3.4')).toEqual([]);
  });
});

describe('phoneDetector', () => {
  it('finds international and North-American numbers', () => {
    expect(found(phoneDetector, 'call +44 20 7946 0958 today')).toEqual(['+44 20 7946 0958']);
    expect(found(phoneDetector, 'or +14155550123')).toEqual(['+14155550123']);
    expect(found(phoneDetector, 'office (415) 555-0123, cell 415.555.0199')).toEqual(['(415) 555-0123', '415.555.0199']);
    expect(found(phoneDetector, 'US: 1-800-555-0100')).toEqual(['1-800-555-0100']);
  });

  it('ignores dates, versions, amounts, bare ids and timestamps', () => {
    expect(found(phoneDetector, '2026-11-26T08:00:00Z')).toEqual([]);
    expect(found(phoneDetector, 'v10.20.30.40 build 2026.11.26')).toEqual([]);
    expect(found(phoneDetector, 'total 1,234,567.89 USD, id 4155550123')).toEqual([]);
    expect(found(phoneDetector, 'ts 1732612345678, ip 192.168.100.200')).toEqual([]);
    expect(found(phoneDetector, 'score +1.5 and +100')).toEqual([]);
  });
});

describe('maskSpans', () => {
  it('replaces each span with its typed mask and merges overlaps', () => {
    const text = 'to a@b.io and c@d.io';
    expect(maskSpans(text, emailDetector.detect(text, undefined))).toBe('to [REDACTED:email] and [REDACTED:email]');
    expect(maskSpans('abcdef', [
      { category: 'secret', type: 'x', start: 1, end: 4 },
      { category: 'pii', type: 'y', start: 2, end: 5 },
    ])).toBe('a[REDACTED:x]f');
  });
});
