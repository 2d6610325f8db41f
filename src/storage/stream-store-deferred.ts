/**
 * A StreamStore whose backend is chosen after construction.
 *
 * The server is built synchronously, but a Redis store exists only once its
 * connection is ready, which happens in `listen()` before the port opens. The
 * routers and commands hold this stand-in from the start; `use()` plugs in the
 * real store (Redis, or memory when `--redis-optional` degrades). Only servers
 * configured with Redis pay the extra call; without Redis there is no wrapper.
 */
import type { Envelope } from '../protocol/envelope.js';
import { ArqonError } from '../protocol/errors.js';
import type { AppendBroadcast, AppendResult, HistoryPage, HistoryQuery, StreamKey, StreamPosition, StreamStore } from './stream-store.js';

export class DeferredStreamStore implements StreamStore {
  private target: StreamStore | undefined;

  /** The store in use (undefined until `use`). */
  get current(): StreamStore | undefined {
    return this.target;
  }

  /** Plugs in the backend; once only. */
  use(store: StreamStore): void {
    if (this.target !== undefined) throw new Error('DeferredStreamStore: backend already set');
    this.target = store;
  }

  // async, so a missing backend is a rejection like any other store failure, never a synchronous throw.
  async append(key: StreamKey, envelope: Envelope, time: number, broadcast?: AppendBroadcast): Promise<AppendResult> {
    return this.get().append(key, envelope, time, broadcast);
  }

  async read(key: StreamKey, query: HistoryQuery): Promise<HistoryPage> {
    return this.get().read(key, query);
  }

  async position(key: StreamKey): Promise<StreamPosition> {
    return this.get().position(key);
  }

  async remove(key: StreamKey): Promise<void> {
    return this.get().remove(key);
  }

  async close(): Promise<void> {
    await this.target?.close();
  }

  private get(): StreamStore {
    // Nothing reaches the store before listen() (no client can connect), so this is a wiring bug if it fires.
    if (this.target === undefined) throw new ArqonError('HISTORY_UNAVAILABLE', 'history store is not open yet');
    return this.target;
  }
}
