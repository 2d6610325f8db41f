/**
 * BatchingEmbeddingProvider over the real models: coalesced, length-bucketed
 * calls give the same vectors as one call per text, in each caller's order;
 * the queue is bounded; a failed model call rejects exactly its callers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingEmbeddingProvider } from '../../src/embeddings/batcher.js';
import { EmbeddingError } from '../../src/embeddings/errors.js';
import { GloveSifProvider } from '../../src/embeddings/glove-sif.js';
import { lengthClass } from '../../src/embeddings/length-class.js';
import type { EmbeddingProvider } from '../../src/embeddings/provider.js';
import { WorkerEmbeddingProvider } from '../../src/embeddings/worker-provider.js';
import { CORPUS } from './corpus.js';
import { cosine, FailingProvider, RecordingProvider } from './decorators.js';

let glove: GloveSifProvider;

beforeAll(async () => {
  glove = await GloveSifProvider.load();
});
afterAll(async () => {
  await glove?.close();
});

/** Every text embedded alone: the reference the batched vectors must match. */
async function alone(provider: EmbeddingProvider, texts: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const text of texts) out.push((await provider.embed([text]))[0]!);
  return out;
}

/** Splits texts into requests of 1, 2 or 3 texts (mixed lengths within a request too). */
function requestsOf(texts: readonly string[]): string[][] {
  const requests: string[][] = [];
  for (let i = 0, size = 1; i < texts.length; i += size, size = (size % 3) + 1) requests.push(texts.slice(i, i + size));
  return requests;
}

/** A text of each length class, so mixes cover every bucket. */
const LONG = 'the drone lost its GPS signal near the warehouse and is returning to base '.repeat(5);
const lengthsOf = (calls: readonly string[][]): Set<number>[] => calls.map((call) => new Set(call.map(lengthClass)));

describe('BatchingEmbeddingProvider (glove-sif)', () => {
  it('gives every caller the vectors of unbatched calls, in its order, for mixed lengths', async () => {
    const texts = [...CORPUS.slice(0, 120), LONG];
    const expected = await alone(glove, texts);
    const recorder = new RecordingProvider(glove);
    const batcher = new BatchingEmbeddingProvider(recorder, { maxBatchSize: 16 });
    expect([batcher.modelId, batcher.dimension]).toEqual([glove.modelId, glove.dimension]);

    const requests = requestsOf(texts);
    const answers = await Promise.all(requests.map((r) => batcher.embed(r)));
    const flat = answers.flat();
    expect(flat).toHaveLength(texts.length);
    flat.forEach((v, i) => {
      expect(v).toHaveLength(glove.dimension);
      expect(cosine(v, expected[i]!), texts[i]).toBeGreaterThanOrEqual(0.9999);
    });
    // Fewer model calls than requests, each within one length class and the batch size.
    expect(recorder.calls.length).toBeLessThan(requests.length);
    for (const classes of lengthsOf(recorder.calls)) expect(classes.size).toBe(1);
    for (const call of recorder.calls) expect(call.length).toBeLessThanOrEqual(16);
    expect(recorder.calls.flat().sort()).toEqual([...texts].sort());
    expect(batcher.stats()).toMatchObject({ requests: requests.length, texts: texts.length, calls: recorder.calls.length, rejected: 0, queuedTexts: 0 });
  });

  it('queues calls made while a round runs and sends them together when it ends', async () => {
    const recorder = new RecordingProvider(glove);
    const batcher = new BatchingEmbeddingProvider(recorder);
    const first = batcher.embed(['order created']);
    await new Promise((resolve) => setImmediate(resolve)); // the batcher's round started before this callback
    expect(recorder.calls).toEqual([['order created']]);
    const later = Array.from({ length: 10 }, (_, i) => batcher.embed([`invoice ${i} was paid`]));
    expect(batcher.stats().queuedTexts).toBe(10);
    const [one, ...rest] = await Promise.all([first, ...later]);
    expect(one).toHaveLength(1);
    expect(rest.map((r) => r.length)).toEqual(Array(10).fill(1));
    expect(recorder.calls).toHaveLength(2);
    expect(recorder.calls[1]).toEqual(Array.from({ length: 10 }, (_, i) => `invoice ${i} was paid`));
    expect(batcher.stats()).toMatchObject({ rounds: 2, calls: 2 });
  });

  it('takes at most maxRoundTexts texts per round, in calls of at most maxBatchSize', async () => {
    const recorder = new RecordingProvider(glove);
    const batcher = new BatchingEmbeddingProvider(recorder, { maxBatchSize: 4, maxRoundTexts: 8 });
    const texts = Array.from({ length: 20 }, (_, i) => `refund request ${i}`);
    const expected = await alone(glove, texts);
    const answers = await Promise.all(texts.map((t) => batcher.embed([t])));
    answers.forEach(([v], i) => expect(cosine(v!, expected[i]!)).toBeGreaterThanOrEqual(0.9999));
    expect(batcher.stats()).toMatchObject({ rounds: 3, calls: 5 }); // 8 + 8 + 4 texts
    expect(recorder.calls.map((c) => c.length)).toEqual([4, 4, 4, 4, 4]);

    // One request larger than a round is split across rounds, and answered whole, in order.
    const [whole] = await Promise.all([batcher.embed(texts)]);
    whole!.forEach((v, i) => expect(cosine(v, expected[i]!)).toBeGreaterThanOrEqual(0.9999));
    expect(batcher.stats()).toMatchObject({ rounds: 6, calls: 10, queuedTexts: 0 });
  });

  it('drops the rest of a split request once part of it failed', async () => {
    const failing = new FailingProvider(glove, 'POISON');
    const batcher = new BatchingEmbeddingProvider(failing, { maxBatchSize: 4, maxRoundTexts: 4 });
    const texts = ['POISON first', ...Array.from({ length: 11 }, (_, i) => `refund request ${i}`)];
    const split = batcher.embed(texts);
    const behind = batcher.embed(['an unrelated request']); // queued behind the rest of the split request
    await expect(split).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    expect(await behind).toHaveLength(1);
    // Only the first round of the failed request reached the model; the caller behind it was served next.
    expect(failing.calls.flat().filter((t) => t.startsWith('refund request'))).toEqual(['refund request 0', 'refund request 1', 'refund request 2']);
    expect(failing.calls.at(-1)).toEqual(['an unrelated request']);
    expect(batcher.stats()).toMatchObject({ rounds: 2, queuedTexts: 0 });
  });

  it('rejects with OVERLOADED beyond maxQueuedTexts, and serves the calls it took', async () => {
    const batcher = new BatchingEmbeddingProvider(glove, { maxQueuedTexts: 4 });
    const accepted = [batcher.embed(['a', 'b', 'c'].map((w) => `${w} order`)), batcher.embed(['one more order'])];
    const refused = await batcher.embed(['over the bound']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EmbeddingError);
    expect(refused).toMatchObject({ code: 'OVERLOADED', modelId: glove.modelId });
    expect((await Promise.all(accepted)).map((r) => r.length)).toEqual([3, 1]);
    // With nothing queued, one request larger than the bound is served (alone) rather than refused forever.
    expect(await batcher.embed(Array.from({ length: 10 }, (_, i) => `bulk ${i}`))).toHaveLength(10);
    expect(batcher.stats()).toMatchObject({ rejected: 1, requests: 3, queuedTexts: 0 });
  });

  it('rejects exactly the callers whose texts were in a failed model call', async () => {
    const poison = `POISON ${LONG}`;
    const failing = new FailingProvider(glove, 'POISON');
    const batcher = new BatchingEmbeddingProvider(failing);
    const short = ['cancel my subscription', 'what is the weather tomorrow'];
    const medium = 'please summarise the last ten support tickets about late deliveries';
    const settled = await Promise.allSettled([
      batcher.embed([short[0]!]), // its own short bucket
      batcher.embed([poison]), // the long bucket: fails
      batcher.embed([medium, short[1]!]), // two buckets, neither failing
      batcher.embed([LONG]), // shares the failing long call
      batcher.embed([short[1]!, poison]), // one text in a good call, one in the failing one
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected']);
    for (const s of settled) if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'WORKER_FAILED' });
    const expected = await alone(glove, [short[0]!, medium, short[1]!]);
    const ok = settled.filter((s) => s.status === 'fulfilled').flatMap((s) => s.value);
    ok.forEach((v, i) => expect(cosine(v, expected[i]!)).toBeGreaterThanOrEqual(0.9999));
    // The batcher keeps serving after a failure.
    expect(await batcher.embed([LONG])).toHaveLength(1);
  });

  it('serves what is queued on close(), closes the provider, then rejects with PROVIDER_CLOSED', async () => {
    const own = await GloveSifProvider.load();
    const batcher = new BatchingEmbeddingProvider(own);
    const queued = batcher.embed(['sent before close', 'and another one']);
    await batcher.close();
    expect(await queued).toHaveLength(2);
    await expect(batcher.embed(['late'])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED' });
    await expect(own.embed(['closed underneath'])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED' });
    await batcher.close(); // idempotent
    expect(await new BatchingEmbeddingProvider(glove).embed([])).toEqual([]);
  });
});

describe('BatchingEmbeddingProvider (use-lite in its worker process)', () => {
  let worker: WorkerEmbeddingProvider;
  beforeAll(async () => {
    worker = await WorkerEmbeddingProvider.start({ model: 'use-lite' });
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
  });

  it('gives the vectors of unbatched calls for mixed lengths, in fewer length-bucketed calls', { timeout: 60_000 }, async () => {
    const texts = [...CORPUS.filter((_, i) => i % 4 === 0), LONG];
    const expected = await alone(worker, texts);
    const recorder = new RecordingProvider(worker);
    const batcher = new BatchingEmbeddingProvider(recorder);
    const requests = requestsOf(texts);
    const flat = (await Promise.all(requests.map((r) => batcher.embed(r)))).flat();
    flat.forEach((v, i) => expect(cosine(v, expected[i]!), texts[i]).toBeGreaterThanOrEqual(0.9999));
    expect(recorder.calls.length).toBeLessThan(requests.length);
    for (const classes of lengthsOf(recorder.calls)) expect(classes.size).toBe(1);
  });
});
