/**
 * An EmbeddingProvider whose model runs in a worker process (worker.ts), so the
 * bus's event loop never waits on inference: onnxruntime-node 1.14 runs a
 * session synchronously on the calling thread, ~8 ms for a short text and
 * ~100 ms for a batch of 32 (docs/models.md). A process, not a worker thread:
 * the 1.14 addon corrupts the heap when loaded by several threads of one
 * process. Requests are answered in order; at most `maxPending` may be in
 * flight, beyond that embed() rejects with OVERLOADED.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EmbeddingError } from './errors.js';
import type { EmbeddingProvider } from './provider.js';
import type { FromWorker, ToWorker, WorkerModelSpec } from './worker-protocol.js';

export interface WorkerProviderOptions {
  /** Requests in flight before embed() rejects with OVERLOADED. Default 256. */
  readonly maxPending?: number;
}

interface Pending {
  resolve(vectors: Float32Array[]): void;
  reject(err: EmbeddingError): void;
}

/** Forks the entry beside this module: worker.js from dist; worker.ts through tsx from src (tsx, vitest). */
function forkWorker(spec: WorkerModelSpec): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
  return fork(entry, [JSON.stringify(spec)], {
    serialization: 'advanced',
    execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export class WorkerEmbeddingProvider implements EmbeddingProvider {
  readonly modelId: string;
  readonly dimension: number;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #maxPending: number;
  readonly #exited: Promise<void>;
  #nextId = 1;
  /** Set once the provider takes no more requests: closed, or the worker died. */
  #ended: EmbeddingError | null = null;

  private constructor(child: ChildProcess, ready: { modelId: string; dimension: number }, maxPending: number, exited: Promise<void>) {
    this.#child = child;
    this.modelId = ready.modelId;
    this.dimension = ready.dimension;
    this.#maxPending = maxPending;
    this.#exited = exited;
    child.on('message', (msg: FromWorker) => this.#onMessage(msg));
    void exited.then(() => this.#end(new EmbeddingError('WORKER_FAILED', this.modelId, 'the embedding worker process exited')));
  }

  /** Starts a worker process hosting `spec` and waits until its model is loaded (or failed to load). */
  static async start(spec: WorkerModelSpec, options: WorkerProviderOptions = {}): Promise<WorkerEmbeddingProvider> {
    const maxPending = options.maxPending ?? 256;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer, got ${maxPending}`);
    const child = forkWorker(spec);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = await new Promise<{ modelId: string; dimension: number }>((resolve, reject) => {
      const detach = (): void => {
        child.off('message', onMessage);
        child.off('error', onError);
        child.off('exit', onExit);
      };
      const fail = (err: EmbeddingError): void => {
        detach();
        child.kill();
        reject(err);
      };
      const onMessage = (msg: FromWorker): void => {
        if (msg.type === 'ready') {
          detach();
          resolve(msg);
        } else if (msg.type === 'failed') fail(new EmbeddingError(msg.code, spec.model, msg.message));
        else fail(new EmbeddingError('WORKER_FAILED', spec.model, `unexpected first message ${msg.type}`));
      };
      const onError = (err: Error): void => fail(new EmbeddingError('WORKER_FAILED', spec.model, `embedding worker failed: ${err.message}`, { cause: err }));
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new EmbeddingError('WORKER_FAILED', spec.model, `embedding worker exited during load (${signal ?? `code ${code}`})`));
      child.on('message', onMessage);
      child.on('error', onError);
      child.on('exit', onExit);
    });
    return new WorkerEmbeddingProvider(child, ready, maxPending, exited);
  }

  /** The worker process id (for metrics and operators). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.#ended !== null) return Promise.reject(this.#ended);
    if (this.#pending.size >= this.#maxPending) {
      return Promise.reject(new EmbeddingError('OVERLOADED', this.modelId, `${this.#pending.size} embedding requests already in flight`));
    }
    const id = this.#nextId++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ type: 'embed', id, texts: [...texts] });
    });
  }

  /** Lets requests already sent finish, then stops the worker process. Idempotent. */
  async close(): Promise<void> {
    if (this.#ended === null) {
      this.#send({ type: 'close' });
      this.#ended = new EmbeddingError('PROVIDER_CLOSED', this.modelId, `the ${this.modelId} provider is closed`);
    }
    await this.#exited;
  }

  #send(msg: ToWorker): void {
    if (!this.#child.connected) return; // exit is on its way; #end fails what is pending
    this.#child.send(msg);
  }

  #onMessage(msg: FromWorker): void {
    if (msg.type !== 'vectors' && !(msg.type === 'failed' && msg.id !== null)) return;
    const pending = this.#pending.get(msg.id as number);
    this.#pending.delete(msg.id as number);
    if (msg.type === 'vectors') pending?.resolve(msg.vectors);
    else pending?.reject(new EmbeddingError(msg.code, this.modelId, msg.message));
  }

  /** The worker is gone: fail whatever is still waiting. */
  #end(err: EmbeddingError): void {
    this.#ended ??= err;
    for (const pending of this.#pending.values()) pending.reject(this.#ended);
    this.#pending.clear();
  }
}
