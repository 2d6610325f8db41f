/**
 * What the semantic routing integration tests share (not a test file itself):
 * the capability declarations they register, a JWT connector for real
 * `RawClient`s, and envelope predicates. The spine's capability tests import
 * the declarations too, so every suite routes against the same texts.
 */
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';

export type Json = Record<string, unknown>;

/** The HS256 secret servers of these suites are started with (`auth: 'jwt', jwtSecret: SECRET`). */
export const SECRET = 'semantic-test-secret-0123456789abcdef';
export const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };

/** A billing capability: card payments and refunds. */
export const BILLING = {
  name: 'billing.payments',
  description: 'Card payments, billing, invoices and refunds',
  examples: ['my card payment was declined', 'I was charged twice on my invoice', 'please refund my payment'],
};
/** A weather capability, far from billing in meaning. */
export const WEATHER = {
  name: 'weather.forecast',
  description: 'Weather forecast: rain, temperature and wind',
  examples: ['will it rain tomorrow', 'what is the temperature this weekend'],
};

/**
 * Connects to `url` with a token minted for `sub` (tenant `acme`, every
 * channel permission, unless `extra` says otherwise) and records the client
 * in `open` for the suite's cleanup.
 */
export async function connectAs(url: string, open: RawClient[], sub: string, extra: Partial<TokenClaims> = {}): Promise<RawClient> {
  const token = await mintToken(secretSigningKey(SECRET), { sub, tenant: 'acme', permissions: ALL, ...extra }, { ttlS: 600 });
  const { client } = await RawClient.connect(url, { token });
  open.push(client);
  return client;
}

/** The `routed` acknowledgement of intent `id`. */
export const routed = (id: string) => (e: Envelope): boolean => e.type === 'system' && e.payload['event'] === 'routed' && e.payload['request_id'] === id;
/** The error envelope answering frame `id`. */
export const errorFor = (id: string) => (e: Envelope): boolean => e.type === 'error' && e.request_id === id;
/** The event with id `id` (an intent delivered to an agent, or a channel event). */
export const eventId = (id: string) => (e: Envelope): boolean => e.type === 'event' && e.id === id;

/** One sample of a Prometheus text exposition; a declared family without that series yet reads 0. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line !== undefined) return Number(line.slice(series.length + 1));
  const family = series.replace(/\{.*$/, '').replace(/_(bucket|count|sum)$/, '');
  if (!text.includes(`# TYPE ${family} `)) throw new Error(`no metric ${family} in /metrics`);
  return 0;
}
