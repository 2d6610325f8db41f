/**
 * One intent, start to finish, as a sender sees it: `request()` resolves with
 * the agent's reply; the server's `routed` acknowledgement (which agent,
 * capability and score) arrives just before it on the same socket and is
 * matched by id (the reply's `metadata.in_reply_to`); a ROUTE_NO_MATCH
 * rejection carries the best candidates anyway. `askEach` runs a list of
 * questions that way, printing the transcript (the human and the service).
 */
import { ArqonClientError, type ArqonClient, type Envelope, type JsonObject } from '../src/client/index.js';
import { printExchange, type Print } from './transcript.js';

/** An agent an intent went to, or a candidate it could have gone to (wire shape of `recipients` / `candidates`). */
export interface Recipient {
  readonly client_id: string;
  readonly capability: string;
  readonly score: number;
}

export type Exchange =
  | { readonly kind: 'replied'; readonly from: string; readonly text: string; readonly routedTo: Recipient | null; readonly reply: Envelope }
  | {
      readonly kind: 'no_match';
      readonly from: string;
      readonly text: string;
      readonly reason: string;
      readonly threshold: number | null;
      readonly candidates: readonly Recipient[];
    }
  /** E.g. TIMEOUT: routed (routedTo) but no reply in time. */
  | { readonly kind: 'failed'; readonly from: string; readonly text: string; readonly routedTo: Recipient | null; readonly error: ArqonClientError };

/** Keeps the `routed` acknowledgements of one client by request id until its reply takes them. */
export class RoutedAcks {
  readonly #acks = new Map<string, Recipient[]>();
  readonly #off: () => void;

  constructor(client: ArqonClient) {
    this.#off = client.on('system', (env) => {
      if (env.payload['event'] !== 'routed' || typeof env.payload['request_id'] !== 'string') return;
      this.#acks.set(env.payload['request_id'], recipients(env.payload['recipients']));
    });
  }

  take(requestId: string): Recipient[] {
    const found = this.#acks.get(requestId) ?? [];
    this.#acks.delete(requestId);
    return found;
  }

  dispose(): void {
    this.#off();
    this.#acks.clear();
  }
}

/** Sends `text` by meaning and waits for the outcome; never rejects for routing or agent failures. */
export async function ask(client: ArqonClient, acks: RoutedAcks, text: string, payload: JsonObject = {}, timeoutMs = 5000): Promise<Exchange> {
  const from = client.welcome?.client_id ?? '?';
  try {
    const reply = await client.request({ text }, payload, { timeoutMs });
    const inReplyTo = reply.metadata?.['in_reply_to'];
    const routed = typeof inReplyTo === 'string' ? acks.take(inReplyTo) : [];
    return { kind: 'replied', from, text, routedTo: routed[0] ?? null, reply };
  } catch (err) {
    if (!(err instanceof ArqonClientError)) throw err;
    const routed = err.requestId === null ? [] : acks.take(err.requestId);
    if (err.code !== 'ROUTE_NO_MATCH') return { kind: 'failed', from, text, routedTo: routed[0] ?? null, error: err };
    const d = err.details ?? {};
    return {
      kind: 'no_match',
      from,
      text,
      reason: typeof d['no_match_reason'] === 'string' ? d['no_match_reason'] : 'unknown',
      threshold: typeof d['threshold'] === 'number' ? d['threshold'] : null,
      candidates: recipients(d['candidates']),
    };
  }
}

/** One intent to send: what is asked, and the structured payload that goes with it. */
export interface Question {
  readonly text: string;
  readonly payload?: JsonObject;
}

/**
 * Asks each question in turn, one at a time so the transcript reads in order,
 * printing every exchange; what the human and the service examples share.
 * The client must be connected; it stays open.
 */
export async function askEach(client: ArqonClient, questions: readonly Question[], print: Print, timeoutMs = 5000): Promise<Exchange[]> {
  const acks = new RoutedAcks(client);
  try {
    const exchanges: Exchange[] = [];
    for (const { text, payload } of questions) {
      const exchange = await ask(client, acks, text, payload, timeoutMs);
      printExchange(print, exchange);
      exchanges.push(exchange);
    }
    return exchanges;
  } finally {
    acks.dispose();
  }
}

function recipients(value: unknown): Recipient[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v: unknown) => {
    const r = v as Partial<Recipient> | null;
    if (typeof r?.client_id !== 'string' || typeof r.capability !== 'string' || typeof r.score !== 'number') return [];
    return [{ client_id: r.client_id, capability: r.capability, score: r.score }];
  });
}
