import { describe, expect, it } from 'vitest';
import { ArqonError } from '../../src/protocol/errors.js';
import { DeferredStreamStore } from '../../src/storage/stream-store-deferred.js';
import { MemoryStreamStore } from '../../src/storage/stream-store-memory.js';
import { envelope, streamStoreConformance } from './stream-store.conformance.js';

// The stand-in must be invisible once its backend is plugged in.
streamStoreConformance('DeferredStreamStore over memory (conformance)', ({ retention, clock }) => {
  const store = new DeferredStreamStore();
  store.use(new MemoryStreamStore(retention, clock));
  return store;
});

describe('DeferredStreamStore', () => {
  const key = { tenant: 't', room: 'r', channel: 'c' };

  it('answers HISTORY_UNAVAILABLE until a backend is set, and takes only one', async () => {
    const store = new DeferredStreamStore();
    const err = await store.append(key, envelope(), 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArqonError);
    expect((err as ArqonError).code).toBe('HISTORY_UNAVAILABLE');
    await expect(store.close()).resolves.toBeUndefined();

    const backend = new MemoryStreamStore({ maxMessages: 10, maxAgeMs: 0 });
    store.use(backend);
    expect(store.current).toBe(backend);
    expect(() => store.use(new MemoryStreamStore({ maxMessages: 10, maxAgeMs: 0 }))).toThrow(/already set/);
    expect((await store.append(key, envelope(), 0)).offset).toBe(1);
    await store.close();
    expect(backend.size).toBe(0); // closing the stand-in closes the backend
  });
});
