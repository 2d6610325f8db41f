/**
 * The spine's components over its two Redis connections (`pub` for commands
 * and PUBLISH, `sub` for subscriptions), built in one place so the facade
 * (spine.ts) can make them active only once all of them started.
 */
import type { Redis } from 'ioredis';
import type { StreamStore } from '../storage/stream-store.js';
import type { Logger } from '../telemetry/logger.js';
import { CapabilityShare, type AgentSink } from './capabilities.js';
import { CasilPolicyShare, type CasilPolicySink } from './casil-policy.js';
import { ChannelCatchUp } from './catch-up.js';
import { ChannelBus, type ChannelDelivery } from './channel-bus.js';
import { ChannelDirectory } from './channel-directory.js';
import type { SpineKeys } from './keys.js';
import { NodeRegistry } from './node-registry.js';
import { Presence } from './presence.js';
import { PrivateBus, type PrivateDelivery } from './private.js';
import { Subscriber } from './subscriber.js';
import { TenantCounts } from './tenant-counts.js';

export interface Parts {
  readonly pub: Redis;
  readonly sub: Redis;
  readonly channels: ChannelBus;
  readonly privates: PrivateBus;
  readonly presence: Presence;
  readonly directory: ChannelDirectory;
  readonly counts: TenantCounts;
  readonly registry: NodeRegistry;
  readonly agents: CapabilityShare | undefined;
  readonly casil: CasilPolicyShare | undefined;
}

export interface PartsContext {
  readonly keys: SpineKeys;
  readonly nodeId: string;
  readonly nodeTtlMs: number;
  readonly store: StreamStore | undefined;
  readonly logger: Logger;
  readonly onError: (err: unknown) => void;
  readonly deliverChannel: ChannelDelivery;
  readonly deliverPrivate: PrivateDelivery;
  /** Cleans up after a dead node found by the registry's sweep. */
  readonly reap: (dead: string, parts: Parts) => Promise<void>;
  readonly resurrected: () => void;
  readonly agentSink: AgentSink | undefined;
  readonly casilSink: CasilPolicySink | undefined;
}

/** Builds the components; nothing is sent to Redis until their start() (see RedisSpine.start). */
export function buildParts(pub: Redis, sub: Redis, c: PartsContext): Parts {
  const { keys, nodeId, onError } = c;
  const subscriber = new Subscriber(sub, onError);
  const catchUp = c.store && new ChannelCatchUp(c.store, c.deliverChannel, onError);
  const registry = new NodeRegistry(pub, keys, nodeId, c.nodeTtlMs, {
    reap: (dead) => c.reap(dead, parts),
    resurrected: c.resurrected,
    onError,
  });
  const parts: Parts = {
    pub,
    sub,
    channels: new ChannelBus(pub, subscriber, keys, nodeId, c.deliverChannel, onError, catchUp),
    privates: new PrivateBus(pub, subscriber, keys, nodeId, c.deliverPrivate),
    presence: new Presence(pub, keys, nodeId),
    directory: new ChannelDirectory(pub, keys),
    counts: new TenantCounts(pub, keys, nodeId),
    registry,
    agents: c.agentSink && new CapabilityShare(pub, subscriber, keys, nodeId, c.agentSink, onError),
    casil: c.casilSink && new CasilPolicyShare(pub, subscriber, keys, nodeId, c.casilSink, c.logger),
  };
  return parts;
}
