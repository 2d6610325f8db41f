/**
 * The server's semantic routing state: the embedding model, loaded lazily on
 * first use (a lone node that never routes by meaning never loads one; with
 * the Redis spine, an agent declaring capabilities on any node makes every
 * node load it, to embed that agent's texts for its own router), the
 * `SemanticRouter` (keyed by tenant inside), and the agents — one per
 * connection, keyed by connection id, so two connections of one `sub` are two
 * agents and a match is delivered to the connection that declared it.
 */
import type { Connection } from '../edge/connection.js';
import type { PrivateFrame } from '../protocol/envelope.js';
import { EmbeddingError } from '../embeddings/errors.js';
import type { EmbeddingProvider } from '../embeddings/provider.js';
import type { ServingEmbeddingProvider, ServingStats } from '../embeddings/serving.js';
import { ArqonError } from '../protocol/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { BusMetrics } from '../telemetry/metrics.js';
import type { CapabilitySpec } from './semantic/capability.js';
import type { SemanticOptionsInput } from './semantic/options.js';
import { SemanticRouter } from './semantic/semantic-router.js';
import { InFlightRequests } from './semantic-requests.js';

export const SEMANTIC_MODELS = ['glove-sif', 'use-lite', 'off'] as const;
export type SemanticModel = (typeof SEMANTIC_MODELS)[number];

/** Loads the embedding provider; injectable (tests point it at a missing model folder). */
export type ProviderLoader = () => Promise<EmbeddingProvider>;

/**
 * The default loaders, imported on demand so `off` (or no use) loads no model
 * code. They return the bare model provider: the service wraps whatever a
 * loader returns (injected ones too) in the serving stack.
 */
export function defaultLoader(model: SemanticModel): ProviderLoader | null {
  switch (model) {
    case 'glove-sif':
      return async () => (await import('../embeddings/glove-sif.js')).GloveSifProvider.load();
    case 'use-lite':
      return async () => (await import('../embeddings/worker-provider.js')).WorkerEmbeddingProvider.start({ model: 'use-lite' });
    case 'off':
      return null;
  }
}

export interface SemanticServiceOptions {
  /** How long a delivered intent counts as in flight at its agent without a reply (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Cap of in-flight requests per tenant (default MAX_IN_FLIGHT_PER_TENANT). */
  readonly maxInFlightPerTenant?: number;
  /** Router options (the config file's `semantic` section): scoring per model, limits, index settings. */
  readonly routing?: SemanticOptionsInput;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Agents on other nodes, through the Redis spine (src/spine/semantic-link.ts). */
export interface RemoteAgents {
  /** A local agent's capabilities changed (empty: it has none left or is gone): tell the other nodes. */
  changed(conn: Connection, capabilities: readonly CapabilitySpec[]): void;
  clientIdOf(agentId: string): string | null;
  /** The ids of the other nodes' agents connected as `clientId` in `tenant`. */
  agentIdsOf(tenant: string, clientId: string): string[];
  /** Forwards an intent routed to another node's agent; false when unknown. */
  forward(agentId: string, bytes: Buffer): boolean;
}

export class SemanticService {
  readonly #loader: ProviderLoader | null;
  readonly #model: string;
  readonly #logger: Logger;
  readonly #routing: SemanticOptionsInput | undefined;
  #router: Promise<SemanticRouter> | null = null;
  #provider: ServingEmbeddingProvider | null = null;
  /** Set by `instrument`: the batch-size histogram is fed per model call. */
  #metrics: BusMetrics | null = null;
  #loaded: SemanticRouter | null = null;
  #closed = false;
  /** Agents with capabilities (or a registration in progress), by connection id. */
  readonly #agents = new Map<string, Connection>();
  /** Intents delivered to agents and not yet answered (drives `best` mode's fewest-in-flight balancing). */
  readonly #inFlight: InFlightRequests;
  /** Set by the server with --redis-url: capabilities are shared with the other nodes. */
  remote: RemoteAgents | undefined;

  constructor(model: SemanticModel, logger: Logger, loader?: ProviderLoader, options: SemanticServiceOptions = {}) {
    this.#model = model;
    this.#logger = logger;
    this.#routing = options.routing;
    this.#loader = loader ?? defaultLoader(model);
    this.#inFlight = new InFlightRequests({
      timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      ...(options.maxInFlightPerTenant !== undefined ? { maxPerTenant: options.maxInFlightPerTenant } : {}),
      onFinish: (tenant, agentId) => this.#loaded?.requestFinished(tenant, agentId),
    });
  }

  /** The router, loading the model on the first call; SEMANTIC_UNAVAILABLE when off or the model cannot load. */
  router(): Promise<SemanticRouter> {
    this.#router ??= this.#load();
    return this.#router;
  }

  async #load(): Promise<SemanticRouter> {
    if (this.#loader === null) {
      throw new ArqonError('SEMANTIC_UNAVAILABLE', 'semantic routing is off on this server', { model: this.#model });
    }
    let model: EmbeddingProvider;
    try {
      model = await this.#loader();
    } catch (err) {
      // Not retryable: a model that is missing now stays missing until an operator builds it.
      const reason = err instanceof EmbeddingError ? err.code : 'LOAD_FAILED';
      this.#logger.error('semantic model could not be loaded', { model: this.#model, reason, error: String(err) });
      throw new ArqonError('SEMANTIC_UNAVAILABLE', `the ${this.#model} embedding model could not be loaded`, { model: this.#model, reason });
    }
    if (this.#closed) {
      await model.close();
      throw new ArqonError('SHUTTING_DOWN');
    }
    // Cache → batcher → the model, with the defaults of src/embeddings/serving.ts (docs/models.md).
    const { servingProvider } = await import('../embeddings/serving.js');
    const batches = this.#metrics?.embeddingBatchTexts.labels(model.modelId);
    const provider = servingProvider(model, batches === undefined ? {} : { batcher: { onCall: (texts) => batches.observe(texts) } });
    this.#provider = provider;
    this.#loaded = new SemanticRouter({ providers: [provider], ...(this.#routing ? { options: this.#routing } : {}) });
    this.#logger.info('semantic model loaded', { model: provider.modelId });
    return this.#loaded;
  }

  /**
   * Exports the embedding serving stack's counters (cache, batcher queue,
   * batch sizes) in `metrics`; call before the model loads (the adapter does,
   * when the server builds it).
   */
  instrument(metrics: BusMetrics): void {
    this.#metrics = metrics;
    metrics.observeEmbeddingServing(() => this.servingStats());
  }

  /** The cache and batcher counters of the loaded model; null before it is loaded (or with semantic routing off). */
  servingStats(): ServingStats | null {
    return this.#provider?.stats() ?? null;
  }

  /** The live agent connection of an agent id, if it is still connected. */
  agent(agentId: string): Connection | undefined {
    return this.#agents.get(agentId);
  }

  clientIdOf = (agentId: string): string | null => this.#agents.get(agentId)?.clientId ?? this.remote?.clientIdOf(agentId) ?? null;

  /** Declares (or replaces by name) the connection's capabilities. */
  async register(conn: Connection, capabilities: unknown): Promise<CapabilitySpec[]> {
    const router = await this.router();
    if (!conn.isOpen) return [];
    this.#agents.set(conn.connectionId, conn);
    try {
      return await router.register(conn.tenant, conn.connectionId, capabilities);
    } finally {
      // The connection closed while its texts were embedded (dropConnection already ran): nothing stays.
      if (this.#agents.get(conn.connectionId) !== conn) router.removeAgent(conn.tenant, conn.connectionId);
      else if (router.capabilities(conn.tenant, conn.connectionId).length === 0) this.#agents.delete(conn.connectionId);
      this.#announce(conn);
    }
  }

  /** Tells other nodes (spine) what the connection can do now. */
  #announce(conn: Connection): void {
    if (this.remote === undefined) return;
    const live = this.#agents.get(conn.connectionId) === conn;
    this.remote.changed(conn, live ? (this.#loaded?.capabilities(conn.tenant, conn.connectionId) ?? []) : []);
  }

  /**
   * Another node's agent (spine): replaces its capabilities in this node's
   * router, so intents arriving here match it too; none: it is gone.
   */
  async setRemoteAgent(tenant: string, agentId: string, capabilities: readonly unknown[]): Promise<void> {
    this.#loaded?.removeAgent(tenant, agentId);
    if (capabilities.length === 0) return;
    const router = await this.router();
    await router.register(tenant, agentId, capabilities);
  }

  /** Removes another node's agent from this node's router (and the requests forwarded to it). */
  removeRemoteAgent(tenant: string, agentId: string): void {
    this.#inFlight.dropConnection(agentId);
    this.#loaded?.removeAgent(tenant, agentId);
  }

  /** Removes named capabilities of the connection; returns the names that existed. */
  unregister(conn: Connection, names: readonly string[]): string[] {
    const router = this.#loaded;
    if (router === null) return [];
    const had = new Set(router.capabilities(conn.tenant, conn.connectionId).map((c) => c.name));
    router.unregister(conn.tenant, conn.connectionId, names);
    if (router.capabilities(conn.tenant, conn.connectionId).length === 0) this.#agents.delete(conn.connectionId);
    this.#announce(conn);
    return names.filter((n) => had.has(n));
  }

  /**
   * An intent `requestId` of `sender` was delivered to `agent` (a connection
   * here, or the id of another node's agent it was forwarded to): it is in
   * flight there until answered.
   */
  requestDelivered(sender: Connection, requestId: string, agent: Connection | string): void {
    const router = this.#loaded;
    if (router === null) return;
    const agentId = typeof agent === 'string' ? agent : agent.connectionId;
    const parties = { tenant: sender.tenant, requestId, senderClientId: sender.clientId, senderConnectionId: sender.connectionId, agentId };
    if (this.#inFlight.start(parties)) router.requestStarted(sender.tenant, agentId);
  }

  /**
   * A private message from another node reached `target` here: when it is a
   * reply (`metadata.in_reply_to`) from one of the remote agents this node
   * forwarded that intent to, the request is no longer in flight. Decodes the
   * message only while requests are in flight at this node.
   */
  remotePrivateDelivered(tenant: string, target: string, bytes: Buffer): void {
    if (this.#inFlight.size === 0 || this.remote === undefined) return;
    let reply: { from?: unknown; metadata?: { in_reply_to?: unknown } };
    try {
      reply = JSON.parse(bytes.toString()) as typeof reply;
    } catch {
      return;
    }
    const inReplyTo = reply.metadata?.in_reply_to;
    if (typeof inReplyTo !== 'string' || typeof reply.from !== 'string') return;
    for (const agentId of this.remote.agentIdsOf(tenant, reply.from)) this.#inFlight.replied(tenant, agentId, target, inReplyTo);
  }

  /**
   * A private message was delivered: when it carries `metadata.in_reply_to`, it
   * answers that intent of each target, if one is in flight at this connection.
   * Costs one check for private messages that are no replies.
   */
  privateDelivered(conn: Connection, frame: PrivateFrame): void {
    const inReplyTo = frame.metadata?.['in_reply_to'];
    if (typeof inReplyTo !== 'string' || this.#inFlight.size === 0) return;
    for (const target of frame.targets) this.#inFlight.replied(conn.tenant, conn.connectionId, target, inReplyTo);
  }

  /** In-flight requests across tenants (tests, metrics). */
  get requestsInFlight(): number {
    return this.#inFlight.size;
  }

  /** The connection closed: its capabilities vanish, and so do the requests it sent or held. */
  dropConnection(conn: Connection): void {
    this.#inFlight.dropConnection(conn.connectionId);
    if (this.#agents.get(conn.connectionId) !== conn) return;
    this.#agents.delete(conn.connectionId);
    this.#loaded?.removeAgent(conn.tenant, conn.connectionId);
    this.#announce(conn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#inFlight.close();
    this.#loaded?.close();
    this.#agents.clear();
    await this.#provider?.close();
  }
}
