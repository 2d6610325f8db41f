import { describe, expect, it } from 'vitest';
import { TfIdfCorpus, termCounts, tokenize } from '../../../src/router/semantic/lexical.js';

describe('tokenize / termCounts', () => {
  it('lower-cases Unicode words and digits, dropping punctuation and apostrophes', () => {
    expect(tokenize("What's the WEATHER in Zürich, 2024?")).toEqual(['whats', 'the', 'weather', 'in', 'zürich', '2024']);
    expect(tokenize('   ...  ')).toEqual([]);
  });

  it('counts unigrams and adjacent bigrams, never across texts', () => {
    const counts = termCounts(['book a flight', 'flight book']);
    expect(Object.fromEntries(counts)).toEqual({
      book: 2,
      a: 1,
      flight: 2,
      'book a': 1,
      'a flight': 1,
      'flight book': 1,
    });
    expect(counts.has('flight flight')).toBe(false);
  });
});

describe('TfIdfCorpus', () => {
  function corpus(): TfIdfCorpus<string> {
    const c = new TfIdfCorpus<string>();
    c.set('weather', ['Get the weather forecast for a city', 'will it rain tomorrow']);
    c.set('flights', ['Book a flight to a city', 'find cheap flights']);
    c.set('translate', ['Translate text to another language']);
    return c;
  }

  it('computes smoothed IDF from document frequencies', () => {
    const c = corpus();
    // N = 3; "city" and "to" are in two documents, "rain" in one.
    expect(c.size).toBe(3);
    expect(c.idf('city')).toBeCloseTo(Math.log(4 / 3) + 1, 12);
    expect(c.idf('to')).toBeCloseTo(Math.log(4 / 3) + 1, 12);
    expect(c.idf('rain')).toBeCloseTo(Math.log(4 / 2) + 1, 12);
    expect(c.idf('unknown')).toBe(0);
    // A term in every document keeps a weight of 1 (smoothing), never 0.
    c.set('weather', ['weather to a city']);
    expect(c.idf('to')).toBeCloseTo(1, 12);
  });

  it('scores a document against itself 1, disjoint texts 0, an unknown document 0', () => {
    const c = corpus();
    expect(c.similarity(c.query('Translate text to another language'), 'translate')).toBeCloseTo(1, 12);
    expect(c.similarity(c.query('zebra quokka'), 'weather')).toBe(0);
    expect(c.similarity(c.query('rain'), 'nope')).toBe(0);
    expect(c.similarity(c.query(''), 'weather')).toBe(0);
  });

  it('matches the TF-IDF cosine computed by hand', () => {
    const c = new TfIdfCorpus<number>();
    c.set(1, ['red apple']);
    c.set(2, ['green apple']);
    // N = 2: idf(apple) = 1, idf(red) = idf(green) = idf(bigrams) = ln(3/2) + 1.
    const rare = Math.log(3 / 2) + 1;
    const q = c.query('red red apple'); // tf(red) = 1 + ln 2; the bigrams "red red", "red apple" (only the latter is known).
    const qRed = (1 + Math.log(2)) * rare;
    const qApple = 1;
    const qRedApple = rare;
    const qNorm = Math.hypot(qRed, qApple, qRedApple);
    const dNorm = Math.hypot(rare, 1, rare); // doc 1: red, apple, "red apple"
    const expected = (qRed * rare + qApple * 1 + qRedApple * rare) / (qNorm * dNorm);
    expect(c.similarity(q, 1)).toBeCloseTo(expected, 12);
    const d2Norm = Math.hypot(rare, 1, rare);
    expect(c.similarity(q, 2)).toBeCloseTo((qApple * 1) / (qNorm * d2Norm), 12);
  });

  it('weights a rare shared term above a common one', () => {
    const c = corpus();
    c.set('forecast', ['weather forecast service']);
    const q = c.query('forecast for tomorrow');
    expect(c.similarity(q, 'weather')).toBeGreaterThan(c.similarity(q, 'flights'));
  });

  it('bigrams reward word order', () => {
    const c = new TfIdfCorpus<string>();
    c.set('a', ['dog bites man']);
    c.set('b', ['man bites dog']);
    const q = c.query('man bites dog');
    expect(c.similarity(q, 'b')).toBeGreaterThan(c.similarity(q, 'a'));
    expect(c.similarity(q, 'a')).toBeGreaterThan(0);
  });

  it('updates incrementally: removal and replacement change IDF and stale norms are recomputed', () => {
    const c = corpus();
    const before = c.similarity(c.query('city'), 'weather');
    c.delete('flights');
    expect(c.has('flights')).toBe(false);
    expect(c.idf('flights')).toBe(0);
    expect(c.idf('city')).toBeCloseTo(Math.log(3 / 2) + 1, 12);
    const fresh = new TfIdfCorpus<string>();
    fresh.set('weather', ['Get the weather forecast for a city', 'will it rain tomorrow']);
    fresh.set('translate', ['Translate text to another language']);
    expect(c.similarity(c.query('city'), 'weather')).toBeCloseTo(fresh.similarity(fresh.query('city'), 'weather'), 12);
    expect(c.similarity(c.query('city'), 'weather')).not.toBeCloseTo(before, 6);
    c.set('weather', ['stock prices']);
    expect(c.size).toBe(2);
    expect(c.similarity(c.query('rain'), 'weather')).toBe(0);
    expect(c.similarity(c.query('stock prices'), 'weather')).toBeCloseTo(1, 12);
    expect(c.delete('weather')).toBe(true);
    expect(c.delete('weather')).toBe(false);
    expect(c.delete('translate')).toBe(true);
    expect(c.vocabularySize).toBe(0);
  });
});
