/**
 * The little runtime the four example agents share: connect as an ai-agent,
 * declare capabilities, and answer every intent routed here with a private
 * reply (`reply()` sets `metadata.in_reply_to`, which settles the sender's
 * `request()`). An agent itself is only data plus one pure `answer` function,
 * so each stays a few lines of domain logic that tests and the demo can reuse.
 */
import { ArqonClient, type Envelope, type JsonObject } from '../../src/client/index.js';
import { connectionFromArgs, runMain, stopOnSignal } from '../cli.js';

export interface Capability {
  /** Must match one of the token's `caps` patterns. */
  readonly name: string;
  readonly description: string;
  /** A handful of utterances: routing scores the intent against each of them. */
  readonly examples: readonly string[];
  readonly tags?: readonly string[];
}

/** What an agent sees of one routed intent. */
export interface Intent {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  /** The capability the server routed it to (`metadata.route`), and its score. */
  readonly capability: string;
  readonly score: number | null;
  /** The rest of the sender's payload (e.g. `customer`), without `intent`. */
  readonly payload: JsonObject;
}

export interface AgentSpec {
  /** Default client id (the token's `sub`) and screen name. */
  readonly id: string;
  readonly capabilities: readonly Capability[];
  /** The reply's payload; `text` is what a human reads. Pure: no I/O, no clock. */
  answer(intent: Intent): JsonObject & { text: string };
}

/** One intent this agent answered, as the demo's transcript and tests see it. */
export interface Handled {
  readonly agent: string;
  readonly intent: Intent;
  readonly reply: JsonObject;
}

export interface AgentOptions {
  /** Called after each reply was sent. */
  onHandled?: (handled: Handled) => void;
  /** Called when the capabilities were declared again on a new connection (after a reconnect). */
  onRedeclared?: (registered: readonly string[]) => void;
  /** Failures after start-up (a reply on a dropped socket, re-declaring after a reconnect); default: printed to stderr. */
  onError?: (err: unknown) => void;
}

export interface RunningAgent {
  readonly client: ArqonClient;
  readonly clientId: string;
  readonly registered: readonly string[];
  close(): Promise<void>;
}

/** Connects, registers the spec's capabilities, and answers intents until closed. */
export async function startAgent(spec: AgentSpec, url: string, token: string | undefined, options: AgentOptions = {}): Promise<RunningAgent> {
  const client = new ArqonClient({ url, ...(token === undefined ? {} : { token }), clientType: 'ai-agent', screenName: spec.id });
  const onError = options.onError ?? ((err: unknown) => console.error(`${spec.id}:`, err));
  client.on('intent', (envelope) => {
    const intent = readIntent(envelope);
    if (intent === null) return;
    const reply = spec.answer(intent);
    try {
      client.reply(envelope, reply);
    } catch (err) {
      // NOT_CONNECTED: the socket dropped since the intent arrived; the sender's request() times out.
      onError(err);
      return;
    }
    options.onHandled?.({ agent: client.welcome?.client_id ?? spec.id, intent, reply });
  });
  const welcome = await client.connect();
  try {
    // Capabilities belong to the connection: after a reconnect they must be declared again.
    const declare = (): Promise<{ registered: string[] }> =>
      client.command('register_capabilities', { capabilities: spec.capabilities.map(toWire) });
    const { registered } = await declare();
    client.on('welcome', () => {
      declare().then((r) => options.onRedeclared?.(r.registered), onError);
    });
    return { client, clientId: welcome.client_id, registered, close: () => client.close() };
  } catch (err) {
    await client.close();
    throw err;
  }
}

/** Standalone: `node --import tsx <script> --url … --token …` runs the agent until Ctrl-C, printing each answer. */
export function runAgentFromArgs(spec: AgentSpec, script: string): void {
  runMain(async () => {
    const { url, token } = connectionFromArgs(`node --import tsx ${script}`);
    const agent = await startAgent(spec, url, token, {
      onHandled: (h) => console.log(`${h.intent.from} → ${h.intent.capability}: "${h.intent.text}" ← ${String(h.reply['text'])}`),
      onRedeclared: (names) => console.log(`reconnected; registered ${names.join(', ')} again`),
    });
    console.log(`${agent.clientId} registered ${agent.registered.join(', ')} on ${url}; Ctrl-C to stop`);
    stopOnSignal(() => agent.close());
  });
}

function toWire(c: Capability): JsonObject {
  return { name: c.name, description: c.description, examples: [...c.examples], ...(c.tags ? { tags: [...c.tags] } : {}) };
}

/** The intent as delivered: `payload.intent.text` and `metadata.route`; null for a vector-only intent. */
function readIntent(envelope: Envelope): Intent | null {
  const { intent, ...rest } = envelope.payload;
  const text = (intent as JsonObject | undefined)?.['text'];
  if (typeof text !== 'string' || typeof envelope.from !== 'string') return null;
  const route = (envelope.metadata?.['route'] ?? {}) as JsonObject;
  return {
    id: envelope.id,
    from: envelope.from,
    text,
    capability: typeof route['capability'] === 'string' ? route['capability'] : '',
    score: typeof route['score'] === 'number' ? route['score'] : null,
    payload: rest,
  };
}
