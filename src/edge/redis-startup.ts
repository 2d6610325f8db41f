/**
 * Start-up of a node's Redis side, before it accepts clients: the history
 * store first, then the spine. Redis unreachable: fail closed with
 * RedisUnavailableError (`arqonbus` prints it and exits 1), unless
 * --redis-optional, which logs a warning, keeps history in memory and runs
 * the node alone (no spine: waiting for Redis a second time would only delay
 * start-up, and shared traffic over local offsets would not agree). Once
 * open, a lost connection turns /health 503 until ioredis reconnects.
 */
import { randomBytes } from 'node:crypto';
import { RedisUnavailableError } from '../storage/redis-connection.js';
import type { DeferredStreamStore } from '../storage/stream-store-deferred.js';
import { MemoryStreamStore } from '../storage/stream-store-memory.js';
import { RedisStreamStore } from '../storage/stream-store-redis.js';
import type { BusContext } from './context.js';
import type { HealthCheck } from './http.js';

export async function openRedis(bus: BusContext, deferred: DeferredStreamStore | undefined, addHealthCheck: (check: HealthCheck) => void): Promise<void> {
  if (await openStore(bus, deferred, addHealthCheck)) await startSpine(bus, addHealthCheck);
}

/** Resolves false when the store fell back to memory. */
async function openStore(bus: BusContext, deferred: DeferredStreamStore | undefined, addHealthCheck: (check: HealthCheck) => void): Promise<boolean> {
  const { config, logger } = bus;
  const url = config.redisUrl;
  if (deferred === undefined || url === undefined || deferred.current !== undefined) return true;
  const retention = { maxMessages: config.historyMaxMessages, maxAgeMs: config.historyMaxAgeMs };
  try {
    const store = await RedisStreamStore.connect(url, {
      retention, prefix: config.redisKeyPrefix, logger,
      // Named like the spine's connections, so CLIENT LIST shows which node holds which.
      connectionName: `${config.redisKeyPrefix}:history:${bus.spine?.nodeId ?? config.nodeId ?? randomBytes(4).toString('hex')}`,
    });
    deferred.use(store);
    addHealthCheck(() => store.healthReason());
    return true;
  } catch (err) {
    if (!(err instanceof RedisUnavailableError) || !config.redisOptional) throw err;
    logger.warn(`${err.message}; --redis-optional: history is kept in memory on this node, which runs alone (no spine)`);
    deferred.use(new MemoryStreamStore(retention));
    return false;
  }
}

async function startSpine(bus: BusContext, addHealthCheck: (check: HealthCheck) => void): Promise<void> {
  const spine = bus.spine;
  if (spine === undefined) return;
  try {
    await spine.start();
    addHealthCheck(() => spine.healthReason());
  } catch (err) {
    if (!bus.config.redisOptional) throw err;
    bus.logger.warn('redis spine unavailable, running as a single node', { error: String((err as Error).message ?? err) });
  }
}
