/**
 * The serving stack (cache → batcher → glove-sif) behind the real server: a
 * burst of intents sent in one go, with repeated texts (cache hits and
 * coalesced misses) and mixed lengths (several buckets per round), is routed
 * exactly as intents sent one at a time are.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SECRET = 'serving-test-secret-0123456789abcdef';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };
const BILLING = { name: 'billing.payments', description: 'Card payments, billing, invoices and refunds', examples: ['my card payment was declined', 'please refund my payment'] };
const WEATHER = { name: 'weather.forecast', description: 'Weather forecast: rain, temperature and wind', examples: ['will it rain tomorrow', 'what is the temperature this weekend'] };

const INTENTS: [string, 'billing-bot' | 'weather-bot' | null][] = [
  ['my card payment was declined', 'billing-bot'],
  ['will it rain tomorrow', 'weather-bot'],
  ['I was charged twice on my last invoice and would like the duplicate payment refunded to my card as soon as possible, thank you', 'billing-bot'],
  ['how windy and how cold will it be this weekend at the coast, and should we expect heavy rain on saturday afternoon', 'weather-bot'],
  ['please refund my payment', 'billing-bot'],
  ['what is the temperature this weekend', 'weather-bot'],
  ['zzqxv', null], // no known word: ROUTE_NO_MATCH (zero vector), in the burst as alone
];

let srv: TestServer;
const open: RawClient[] = [];

async function connect(sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> {
  const token = await mintToken(secretSigningKey(SECRET), { sub, tenant: 'acme', permissions: ALL, ...extra }, { ttlS: 600 });
  const { client } = await RawClient.connect(srv.url, { token });
  open.push(client);
  return client;
}

/** The sender's answer to an intent: the routed acknowledgement or the ROUTE_NO_MATCH error. */
const answer = (id: string) => (e: Envelope): boolean =>
  (e.type === 'system' && e.payload['event'] === 'routed' && e.payload['request_id'] === id) || (e.type === 'error' && e.request_id === id);
/** What routing decided: recipients (or candidates) with their scores, rounded past float noise. */
const outcome = (e: Envelope): unknown =>
  ((e.payload['recipients'] ?? e.payload['candidates']) as Record<string, unknown>[]).map((r) => [r['client_id'], r['capability'], Math.round((r['score'] as number) * 1e5)]);

describe('serving stack behind the server (glove-sif)', () => {
  beforeEach(async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET, semanticModel: 'glove-sif' });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await srv.close();
  });

  it('routes a burst of repeated, mixed-length intents like intents sent one at a time', async () => {
    const billing = await connect('billing-bot', { client_type: 'ai-agent', caps: ['*'] });
    const weather = await connect('weather-bot', { client_type: 'ai-agent', caps: ['*'] });
    // Registered concurrently: both registrations' texts go through the batcher together.
    await Promise.all([billing.ok('register_capabilities', { capabilities: [BILLING] }), weather.ok('register_capabilities', { capabilities: [WEATHER] })]);
    const user = await connect('user');

    const one = async (id: string, text: string): Promise<Envelope> => {
      user.send({ type: 'event', id, payload: { intent: { text } } });
      return user.next(answer(id));
    };
    const alone: Envelope[] = [];
    for (const [i, [text]] of INTENTS.entries()) alone.push(await one(`alone-${i}`, text));
    INTENTS.forEach(([text, expected], i) => {
      if (expected === null) expect(alone[i], text).toMatchObject({ type: 'error', error_code: 'ROUTE_NO_MATCH' });
      else expect(alone[i]!.payload['recipients'], text).toMatchObject([{ client_id: expected }]);
    });

    const burst = Array.from({ length: 48 }, (_, k) => INTENTS[k % INTENTS.length]![0]);
    burst.forEach((text, k) => user.send({ type: 'event', id: `burst-${k}`, payload: { intent: { text } } }));
    for (const [k, text] of burst.entries()) {
      const got = await user.next(answer(`burst-${k}`));
      const reference = alone[k % INTENTS.length]!;
      expect(got.type, text).toBe(reference.type);
      expect(outcome(got), text).toEqual(outcome(reference));
    }
  });
});
