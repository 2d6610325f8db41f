/** The services a server instance wires together, handed to sessions and commands. */
import type { CasilGate } from '../casil/gate.js';
import type { Config } from '../config/schema.js';
import type { TenantLimits } from '../config/tenants.js';
import type { Authenticator } from '../identity/authenticator.js';
import type { ChannelRegistry } from '../router/channels.js';
import type { ClientRegistry } from '../router/clients.js';
import type { SemanticService } from '../router/semantic-service.js';
import type { TopicRouter } from '../router/topic-router.js';
import type { RedisSpine } from '../spine/spine.js';
import type { StreamStore } from '../storage/stream-store.js';
import type { TelemetryHub } from '../telemetry/hub.js';
import type { Logger } from '../telemetry/logger.js';
import type { BusMetrics } from '../telemetry/metrics.js';

export interface BusContext {
  readonly config: Config;
  readonly channels: ChannelRegistry;
  readonly clients: ClientRegistry;
  readonly topic: TopicRouter;
  /** Semantic routing: capabilities, agents and the lazily loaded model. */
  readonly semantic: SemanticService;
  readonly store: StreamStore;
  /** CASIL: inspects every event and private message at ingress (src/casil, docs/casil.md). */
  readonly casil: CasilGate;
  /** The multi-node spine (--redis-url); undefined on a single node. */
  readonly spine?: RedisSpine | undefined;
  readonly metrics: BusMetrics;
  readonly telemetry: TelemetryHub;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  /** Limits in force for a tenant (its overrides over the server defaults). */
  tenantLimits(tenant: string): TenantLimits;
  /** The clock token checks use (ms since the epoch); injectable for tests. */
  readonly clock: () => number;
  readonly startedAt: Date;
  readonly version: string;
}
