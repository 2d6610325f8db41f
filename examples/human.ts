/**
 * A scripted human: joins a chat channel, says hello there, then asks the
 * agents a few questions by meaning (`request()`), without knowing who
 * answers, and prints each routing decision and reply.
 *
 * Run: node --import tsx examples/human.ts --url ws://127.0.0.1:9100 --token <jwt>
 * (a human token with publish/subscribe on lobby:chat; publishing is also what allows intents).
 */
import { ArqonClient } from '../src/client/index.js';
import { askEach, type Exchange } from './ask.js';
import { connectionFromArgs, isMain, runMain } from './cli.js';
import type { Print } from './transcript.js';

export const HUMAN_QUESTIONS: readonly string[] = [
  'how do you say good morning in Spanish?',
  'will it rain in Lisbon tomorrow?',
  'schedule a meeting with Sam on Tuesday at 10am',
  'when am I free on Thursday?',
];

export interface HumanOptions {
  print?: Print;
  room?: string;
  channel?: string;
  questions?: readonly string[];
  timeoutMs?: number;
}

export async function runHuman(url: string, token: string | undefined, options: HumanOptions = {}): Promise<Exchange[]> {
  const { print = console.log, room = 'lobby', channel = 'chat', questions = HUMAN_QUESTIONS, timeoutMs = 5000 } = options;
  const client = new ArqonClient({ url, ...(token === undefined ? {} : { token }), clientType: 'human', screenName: 'Alice', reconnect: false });
  try {
    const welcome = await client.connect();
    await client.join(room, channel);
    const greeting = 'hi all, asking the bots a few things';
    client.publish(room, channel, { text: greeting });
    print(`${welcome.client_id} (human) joined ${room}:${channel} and said "${greeting}"`);
    return await askEach(client, questions.map((text) => ({ text })), print, timeoutMs);
  } finally {
    await client.close();
  }
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { url, token } = connectionFromArgs('node --import tsx examples/human.ts');
    await runHuman(url, token);
  });
}
