/**
 * The example agents' answers: pure functions of the routed intent, so the
 * demo's replies are reproducible and plausible without any network.
 */
import { describe, expect, it } from 'vitest';
import type { Intent } from '../../examples/agents/agent.js';
import { BILLING_AGENT } from '../../examples/agents/billing.js';
import { CALENDAR_AGENT } from '../../examples/agents/calendar.js';
import { TRANSLATOR_AGENT } from '../../examples/agents/translator.js';
import { cityOf, forecast, WEATHER_AGENT } from '../../examples/agents/weather.js';
import { DEMO_AGENTS } from '../../examples/demo.js';

const intent = (text: string, capability: string): Intent => ({ id: 'i1', from: 'alice', text, capability, score: 0.7, payload: {} });

describe('example agents', () => {
  it('declare valid capabilities: distinct names, a description and a few examples each', () => {
    const names = DEMO_AGENTS.flatMap((a) => a.capabilities.map((c) => c.name));
    expect(new Set(names).size).toBe(names.length);
    for (const c of DEMO_AGENTS.flatMap((a) => a.capabilities)) {
      expect(c.name).toMatch(/^[A-Za-z0-9_.:-]{1,128}$/);
      expect(c.description.length).toBeGreaterThan(0);
      expect(c.examples.length).toBeGreaterThanOrEqual(3);
      expect(c.examples.length).toBeLessThanOrEqual(32);
    }
  });

  it('weather: the city comes from the text and the same city always gets the same forecast', () => {
    expect(cityOf('will it rain in New York tomorrow?')).toBe('New York');
    expect(cityOf('is it sunny today')).toBe('your area');
    expect(forecast('Lisbon')).toEqual(forecast('lisbon'));
    const cities = ['Lisbon', 'Oslo', 'Paris', 'Tokyo', 'Lima', 'Cairo'].map((c) => JSON.stringify(forecast(c)));
    expect(new Set(cities).size).toBeGreaterThan(1);
    for (const c of ['Lisbon', 'Oslo', 'Tokyo']) expect(forecast(c).high).toBeGreaterThan(forecast(c).low);
    const reply = WEATHER_AGENT.answer(intent('what is the weather in Oslo today', 'weather.forecast'));
    expect(reply).toMatchObject({ city: 'Oslo', day: 'today', ...forecast('Oslo') });
  });

  it('translator: phrasebook look-up in the asked language, an honest answer otherwise', () => {
    expect(TRANSLATOR_AGENT.answer(intent('how do I say thank you in French?', 'translate.phrase'))).toMatchObject({ translation: 'merci', language: 'French' });
    expect(TRANSLATOR_AGENT.answer(intent('where is the station, in German', 'translate.phrase'))).toMatchObject({ translation: 'wo ist der Bahnhof?' });
    expect(TRANSLATOR_AGENT.answer(intent('translate quantum chromodynamics', 'translate.phrase'))).toMatchObject({ translation: null });
  });

  it('calendar: books at the asked day and time, lists free slots per day in time order', () => {
    expect(CALENDAR_AGENT.answer(intent('book a meeting with Sam on Friday at 3pm', 'calendar.schedule'))).toMatchObject({
      day: 'Friday',
      time: '15:00',
      title: 'Meeting with Sam',
    });
    const free = CALENDAR_AGENT.answer(intent('when am I free on Wednesday', 'calendar.availability'))['free'] as string[];
    expect(free).toHaveLength(3);
    expect(free).toEqual([...free].sort());
  });

  it('billing: the capability it was routed to decides between invoice and refund; amounts are stable', () => {
    const invoice = BILLING_AGENT.answer(intent('invoice 1042 is overdue', 'billing.invoices'));
    expect(invoice).toMatchObject({ invoice: 1042, reminder_sent: true });
    expect(BILLING_AGENT.answer(intent('invoice 1042 is overdue', 'billing.invoices'))).toEqual(invoice);
    expect(BILLING_AGENT.answer(intent('refund order 7731', 'billing.refunds'))).toMatchObject({ order: 7731, case: expect.stringMatching(/^R-/) });
  });
});
