/**
 * The use-lite model hosted in a worker process: same vectors as in-process,
 * bounded in-flight requests, load errors, close and a crash carried across.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingError } from '../../src/embeddings/errors.js';
import { UseLiteProvider } from '../../src/embeddings/use-lite.js';
import { WorkerEmbeddingProvider } from '../../src/embeddings/worker-provider.js';

let worker: WorkerEmbeddingProvider;

beforeAll(async () => {
  worker = await WorkerEmbeddingProvider.start({ model: 'use-lite' });
}, 60_000);

afterAll(async () => {
  await worker?.close();
});

describe('WorkerEmbeddingProvider (use-lite)', () => {
  it('gives the same vectors as the in-process provider, for concurrent requests', { timeout: 30_000 }, async () => {
    expect(worker.modelId).toBe('use-lite-512');
    expect(worker.dimension).toBe(512);
    const texts = ['order created', '', 'the drone is returning to base', '🚀'];
    const inline = await UseLiteProvider.load();
    try {
      const expected = await inline.embed(texts);
      const [all, ...single] = await Promise.all([worker.embed(texts), ...texts.map((t) => worker.embed([t]))]);
      expect(all).toEqual(expected);
      single.forEach((v, i) => expect(Array.from(v[0] as Float32Array)).toEqual(Array.from(expected[i] as Float32Array).map((x) => expect.closeTo(x, 5))));
    } finally {
      await inline.close();
    }
  });

  it('rejects with OVERLOADED beyond maxPending requests in flight', { timeout: 30_000 }, async () => {
    const bounded = await WorkerEmbeddingProvider.start({ model: 'use-lite' }, { maxPending: 1 });
    try {
      const first = bounded.embed(['first']);
      await expect(bounded.embed(['second'])).rejects.toMatchObject({ code: 'OVERLOADED' });
      expect(await first).toHaveLength(1);
      expect(await bounded.embed(['third'])).toHaveLength(1); // the slot is free again
    } finally {
      await bounded.close();
    }
  });

  it('reports a load failure from the worker with its code', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arqon-models-'));
    try {
      const err = await WorkerEmbeddingProvider.start({ model: 'use-lite', options: { modelsDir: dir } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbeddingError);
      expect((err as EmbeddingError).code).toBe('MODEL_NOT_BUILT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finishes requests sent before close(), then rejects with PROVIDER_CLOSED', { timeout: 30_000 }, async () => {
    const p = await WorkerEmbeddingProvider.start({ model: 'use-lite' });
    const inFlight = p.embed(['sent before close']);
    await p.close();
    expect(await inFlight).toHaveLength(1);
    await expect(p.embed(['late'])).rejects.toMatchObject({ code: 'PROVIDER_CLOSED' });
    await p.close(); // idempotent
  });

  it('fails pending and later requests with WORKER_FAILED when the worker dies', { timeout: 30_000 }, async () => {
    const p = await WorkerEmbeddingProvider.start({ model: 'use-lite' });
    const inFlight = p.embed(Array.from({ length: 64 }, (_, i) => `request number ${i} that will not be answered`));
    process.kill(p.pid as number, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    await expect(p.embed(['after the crash'])).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    await p.close(); // resolves: the process is already gone
  });
});
