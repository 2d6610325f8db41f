/**
 * Worker process entry that hosts one embedding provider, started by
 * WorkerEmbeddingProvider with `child_process.fork` (advanced serialization).
 * A process rather than a worker thread: onnxruntime-node 1.14 corrupts the heap
 * when its addon is used from several threads of one process, and a process
 * also keeps a native crash away from the bus. argv[2] is the WorkerModelSpec.
 */
import { EmbeddingError } from './errors.js';
import type { EmbeddingProvider } from './provider.js';
import { UseLiteProvider } from './use-lite.js';
import type { FromWorker, ToWorker, WorkerModelSpec } from './worker-protocol.js';

if (process.send === undefined) throw new Error('embeddings/worker.ts must be started with an IPC channel (fork)');

const post = (msg: FromWorker): void => {
  if (process.connected) process.send?.(msg);
};
const failure = (id: number | null, err: unknown): FromWorker =>
  err instanceof EmbeddingError
    ? { type: 'failed', id, code: err.code, message: err.message }
    : { type: 'failed', id, code: 'WORKER_FAILED', message: err instanceof Error ? err.message : String(err) };

async function load(spec: WorkerModelSpec): Promise<EmbeddingProvider> {
  switch (spec.model) {
    case 'use-lite':
      return UseLiteProvider.load(spec.options);
  }
}

// The parent went away (exit or crash): nothing left to serve.
process.on('disconnect', () => process.exit(0));

let provider: EmbeddingProvider;
try {
  provider = await load(JSON.parse(process.argv[2] ?? '{}') as WorkerModelSpec);
  post({ type: 'ready', modelId: provider.modelId, dimension: provider.dimension });
} catch (err) {
  post(failure(null, err));
  process.exit(0);
}

// One request at a time, in arrival order: the model uses every core for one batch anyway.
let queue: Promise<void> = Promise.resolve();
process.on('message', (msg: ToWorker) => {
  if (msg.type === 'close') {
    queue = queue.then(async () => {
      await provider.close();
      post({ type: 'closed' });
      process.exit(0);
    });
    return;
  }
  queue = queue.then(async () => {
    try {
      post({ type: 'vectors', id: msg.id, vectors: await provider.embed(msg.texts) });
    } catch (err) {
      post(failure(msg.id, err));
    }
  });
});
