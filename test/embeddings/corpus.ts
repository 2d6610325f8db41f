/**
 * Sentences for the use-lite parity tests: hand-picked edge cases plus
 * deterministic template sentences in the bus's domain. No randomness, no I/O.
 */

/** Texts whose tokenisation is tricky: unicode, punctuation runs (score ties), leading ":", reserved pieces. */
export const EDGE_CASES: readonly string[] = [
  '',
  ' ',
  '   ',
  '\t',
  '\n\n',
  '🚀',
  '😀 😀',
  '🚀🎉',
  '👩‍👩‍👧‍👦',
  '中文',
  '日本語のテキスト',
  'ℵ ∀ ∃',
  '\u2581',
  '\u2581\u2581 \u2581',
  '\uFFFD',
  '\u0000',
  'a🚀b',
  'rocket 🚀 launch',
  ':root > .dev',
  ':)',
  ':-) nice',
  '::1',
  ': leading colon',
  '://',
  'http://example.com/path?q=1',
  '):',
  ':30',
  '”5 ”55 ”5”5',
  '111',
  '1111',
  '11111111',
  '2000000',
  '!!!!',
  '!!!!!!!!',
  '???',
  '.....',
  '---------',
  '===============',
  '|------------|--------------------------|',
  '****',
  '$$$ $$$',
  '<s> </s> extra_token_id_1',
  '<unk>',
  'naïve café résumé',
  'Straße Größe ÄÖÜ',
  'İstanbul ıi',
  'Ελληνικά κείμενα',
  'Русский текст',
  'مرحبا بالعالم',
  'नमस्ते दुनिया',
  'ＡＢＣ ｆｕｌｌｗｉｄｔｈ',
  'ﬁne ﬂow ﬀ',
  '① ② ③',
  'x² + y³',
  'Ⅻ ㎏ ŉ',
  'e\u0301 combining accent',
  'non\u00A0breaking\u00A0space',
  'tabs\tand\nnewlines',
  '  leading and  double  spaces ',
  'UPPER CASE SHOUTING',
  'camelCaseIdentifier snake_case_name kebab-case-name',
  'order.created.v2 → billing-service',
  'sensor/42/temperature = 21.5°C',
  'user@example.com',
  '#hashtag @mention',
  '{"type":"publish","channel":"orders"}',
  'SELECT * FROM events WHERE id > 10;',
  'a',
  'I',
  'ok',
  'The quick brown fox jumps over the lazy dog.',
  'How do I reset my password?',
  "It's 5 o'clock somewhere, isn't it?",
  'word '.repeat(200).trim(),
  'a much longer sentence that keeps going '.repeat(12).trim(),
];

const SUBJECTS = [
  'the billing service', 'a new customer', 'the temperature sensor', 'our support agent', 'the payment gateway',
  'an autonomous drone', 'the warehouse robot', 'the scheduler', 'a mobile client', 'the fraud detector',
  'my assistant', 'the dashboard', 'a delivery truck', 'the weather station', 'the chat bot',
];
const VERBS = [
  'published', 'received', 'cancelled', 'requested', 'reported', 'forwarded', 'rejected', 'approved',
  'scheduled', 'detected', 'summarised', 'translated',
];
const OBJECTS = [
  'an order for two books', 'a refund', 'a temperature spike', 'the monthly invoice', 'a suspicious login',
  'a low battery warning', 'the route to the depot', 'a meeting for tomorrow morning', 'new firmware',
  'a customer complaint about late delivery', 'the sales report for March', 'a heartbeat', 'an error',
];
const ENDINGS = ['.', '!', '?', ' quickly.', ' again', ' at 10:30', ' (retry 3)', ' — twice.', '...', ''];

/** Deterministic template sentences (a fixed linear congruential walk over the lists). */
export function templateSentences(count: number): string[] {
  const out: string[] = [];
  let state = 12345;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  for (let i = 0; i < count; i++) {
    const s = `${SUBJECTS[next(SUBJECTS.length)]} ${VERBS[next(VERBS.length)]} ${OBJECTS[next(OBJECTS.length)]}${ENDINGS[next(ENDINGS.length)]}`;
    out.push(i % 3 === 0 ? s.charAt(0).toUpperCase() + s.slice(1) : s);
  }
  return out;
}

/** The full corpus: edge cases first, then template sentences, deduplicated. */
export const CORPUS: readonly string[] = [...new Set([...EDGE_CASES, ...templateSentences(200)])];
