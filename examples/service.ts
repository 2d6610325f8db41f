/**
 * A backend service publishing by meaning: it does not know the billing
 * agent's id, only what it needs done. Its second intent matches no agent, to
 * show ROUTE_NO_MATCH and the candidates the server considered anyway.
 *
 * Run: node --import tsx examples/service.ts --url ws://127.0.0.1:9100 --token <jwt>
 * (a token with client_type "service" and at least one publish pattern: intents need one).
 */
import { ArqonClient } from '../src/client/index.js';
import { askEach, type Exchange, type Question } from './ask.js';
import { connectionFromArgs, isMain, runMain } from './cli.js';
import type { Print } from './transcript.js';

/** Each with the structured payload a service would attach. */
export const SERVICE_INTENTS: readonly Question[] = [
  { text: 'invoice 1042 is overdue, send the customer a payment reminder', payload: { customer: 'C-1042', source: 'dunning-job' } },
  { text: 'the customer was charged twice for order 7731, refund one payment', payload: { customer: 'C-7731', source: 'support-desk' } },
  // Nobody plays music: this one is meant to match no capability.
  { text: 'the cathedral organ played a fugue', payload: { source: 'demo' } },
];

export interface ServiceOptions {
  print?: Print;
  intents?: readonly Question[];
  timeoutMs?: number;
}

export async function runService(url: string, token: string | undefined, options: ServiceOptions = {}): Promise<Exchange[]> {
  const { print = console.log, intents = SERVICE_INTENTS, timeoutMs = 5000 } = options;
  const client = new ArqonClient({ url, ...(token === undefined ? {} : { token }), clientType: 'service', reconnect: false });
  try {
    await client.connect();
    return await askEach(client, intents, print, timeoutMs);
  } finally {
    await client.close();
  }
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { url, token } = connectionFromArgs('node --import tsx examples/service.ts');
    await runService(url, token);
  });
}
