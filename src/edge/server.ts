/**
 * The composition root of one ArqonBus node: one HTTP(S) server carrying the
 * WebSocket bus, the telemetry stream and the HTTP endpoints on one port.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CasilGate, casilSettings, type Detector } from '../casil/index.js';
import type { Config } from '../config/schema.js';
import { resolveTenantLimits, type TenantLimits } from '../config/tenants.js';
import { createAuthenticator } from '../identity/index.js';
import type { Identity } from '../identity/identity.js';
import { CLOSE_CODES } from '../protocol/codes.js';
import { PROTOCOL_VERSION } from '../protocol/envelope.js';
import { systemEnvelope } from '../protocol/outbound.js';
import { ChannelRegistry } from '../router/channels.js';
import { ClientRegistry } from '../router/clients.js';
import { SemanticRouterAdapter } from '../router/semantic-adapter.js';
import { SemanticService, type ProviderLoader } from '../router/semantic-service.js';
import { TopicRouter } from '../router/topic-router.js';
import { linkSemantic } from '../spine/semantic-link.js';
import { RedisSpine } from '../spine/spine.js';
import { DeferredStreamStore } from '../storage/stream-store-deferred.js';
import { MemoryStreamStore } from '../storage/stream-store-memory.js';
import type { StreamStore } from '../storage/stream-store.js';
import { TelemetryHub } from '../telemetry/hub.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { BusMetrics } from '../telemetry/metrics.js';
import { VERSION } from '../version.js';
import { encodeEnvelope } from './codec-json.js';
import { Connection, type ClientProfile, type ConnectionHooks } from './connection.js';
import type { BusContext } from './context.js';
import { UpgradeHandler } from './upgrade.js';
import { busSubprotocol, telemetrySubprotocol } from './handshake.js';
import { codecFor } from './codec.js';
import { armAt, clearExpiry, scheduleTokenExpiry } from './token-lifetime.js';
import { Heartbeat } from './heartbeat.js';
import { createHttpHandler, type HealthCheck, type HealthState } from './http.js';
import { openRedis } from './redis-startup.js';
import { SessionHandler } from './session.js';

export interface ServerOptions {
  readonly logger?: Logger;
  readonly store?: StreamStore;
  /** Injectable clock for token validation (ms since the epoch). */
  readonly clock?: () => number;
  /** Loads the semantic routing model instead of the one `semanticModel` names (tests). */
  readonly semanticProvider?: ProviderLoader;
  /** Extra CASIL detectors run in every scope (tests inject a failing one to check fail-closed). */
  readonly casilDetectors?: readonly Detector[];
  /** CASIL's monotonic clock in ms for its time budget (tests). */
  readonly casilClock?: () => number;
}

export class ArqonServer {
  readonly bus: BusContext;
  private readonly http: Server;
  private telemetryHttp: Server | undefined;
  private readonly upgrades: UpgradeHandler;
  private readonly maxHeaderSize: number;
  private readonly session: SessionHandler;
  private readonly heartbeat: Heartbeat;
  private readonly hooks: ConnectionHooks;
  private shuttingDown = false;
  /** Set when the history store is Redis: opened in listen(), before the port opens. */
  private readonly deferredStore: DeferredStreamStore | undefined;
  /** Components' health contributions (see addHealthCheck). */
  private readonly healthChecks: HealthCheck[] = [];
  private closed: Promise<void> | undefined;

  constructor(readonly config: Config, options: ServerOptions = {}) {
    const logger = options.logger ?? createLogger(config.logLevel);
    const metrics = new BusMetrics({ defaultMetrics: true });
    const channels = new ChannelRegistry();
    const clients = new ClientRegistry();
    // With --redis-url the store needs a connection, made in listen(): routers hold a stand-in until then.
    this.deferredStore = options.store === undefined && config.redisUrl !== undefined ? new DeferredStreamStore() : undefined;
    const store =
      options.store ?? this.deferredStore ?? new MemoryStreamStore({ maxMessages: config.historyMaxMessages, maxAgeMs: config.historyMaxAgeMs });
    // Several nodes, one bus: only with Redis; a single node has no spine object at all.
    const spine = config.redisUrl === undefined ? undefined : new RedisSpine({
      url: config.redisUrl, prefix: config.redisKeyPrefix, nodeId: config.nodeId, nodeTtlMs: config.nodeTtlMs, clients, logger, store,
    });
    // With the spine, events reach members as spine traffic, not as a routed frame's result: counted as they go out.
    const topic = new TopicRouter({ channels, clients, store, metrics, spine, onSpineDelivered: (n) => void (this.bus.telemetry.counters.messages_out += n) });
    spine?.bind(topic);
    const semantic = new SemanticService(config.semanticModel, logger, options.semanticProvider, {
      requestTimeoutMs: config.semanticRequestTimeoutMs,
      ...(config.semantic ? { routing: config.semantic } : {}),
    });
    // Agents' capabilities are shared with the other nodes (spine only).
    if (spine !== undefined) linkSemantic(spine, semantic, logger);
    const telemetry = new TelemetryHub(config.telemetryBufferSize, () => ({
      connections: clients.size,
      channels: channels.size,
    }));
    const authenticator = createAuthenticator(config, options.clock);
    const serverLimits: TenantLimits = {
      maxConnections: config.tenantMaxConnections,
      rateLimitPerSecond: config.rateLimitPerSecond,
      rateLimitBurst: config.rateLimitBurst,
      maxChannelsPerConnection: config.maxChannelsPerConnection,
      maxPayloadBytes: config.maxPayloadBytes,
      maxChannels: config.tenantMaxChannels,
    };
    const tenantLimits = (tenant: string): TenantLimits => resolveTenantLimits(serverLimits, config.tenants, tenant);
    // Built-in detectors plus any injected ones; the policy was validated when the config was parsed.
    const casil = new CasilGate(casilSettings(config), config.casil, { metrics, telemetry, logger }, {
      ...(options.casilDetectors ? { extraDetectors: options.casilDetectors } : {}),
      ...(options.casilClock ? { now: options.casilClock } : {}),
    });
    spine?.bindCasil(casil); // a casil_reload on any node applies here too
    this.bus = {
      config, channels, clients, topic, semantic, store, casil, spine, metrics, telemetry, logger, authenticator, tenantLimits,
      clock: options.clock ?? Date.now, startedAt: new Date(), version: VERSION,
    };
    // The routing order (docs/protocol.md): 1. topic, 2. semantic.
    this.session = new SessionHandler(this.bus, [topic, new SemanticRouterAdapter(semantic, metrics, telemetry)]);
    this.hooks = {
      onSlowConsumer: (conn) => {
        metrics.slowConsumerDisconnects.inc();
        logger.warn('slow consumer disconnected', { client_id: conn.clientId, buffered: conn.socket.bufferedAmount });
        if (telemetry.active) telemetry.emit({ event: 'slow_consumer', tenant: conn.tenant, client_id: conn.clientId });
      },
      onDeliveryError: () => metrics.deliveryErrors.inc(),
    };

    const wsOptions = {
      noServer: true,
      // Frames up to twice the limit are read so the client gets a typed FRAME_TOO_LARGE error;
      // anything larger is cut by the transport with 1009.
      maxPayload: config.maxPayloadBytes * 2,
      perMessageDeflate: false,
      clientTracking: false,
      // The JSON codec validates UTF-8 itself and answers INVALID_FRAME, keeping the connection open.
      skipUTF8Validation: true,
    };
    this.upgrades = new UpgradeHandler(this.bus, authenticator, {
      bus: new WebSocketServer({ ...wsOptions, handleProtocols: busSubprotocol }),
      telemetry: new WebSocketServer({ ...wsOptions, maxPayload: 4096, handleProtocols: telemetrySubprotocol }),
      onBus: (ws, identity, profile) => this.onConnection(ws, identity, profile),
      onTelemetry: (ws, identity) => this.onTelemetry(ws, identity),
    }, () => this.shuttingDown);
    this.heartbeat = new Heartbeat(config.heartbeatIntervalMs, () => clients.all(), (conn) => {
      metrics.heartbeatTimeouts.inc();
      if (telemetry.active) telemetry.emit({ event: 'heartbeat_timeout', tenant: conn.tenant, client_id: conn.clientId });
      // The documented close code; `hard` terminates a peer that cannot answer the close frame after 1 s.
      conn.close(CLOSE_CODES.HEARTBEAT_TIMEOUT.code, CLOSE_CODES.HEARTBEAT_TIMEOUT.message, true);
    }, (now, intervalMs) => telemetry.heartbeat(now, intervalMs));

    const handler = createHttpHandler(this.bus, () => this.health());
    // Room for an Authorization header of maxTokenBytes beside the usual headers (Node's default is 16 KiB).
    const maxHeaderSize = Math.max(16 * 1024, config.maxTokenBytes + 8 * 1024);
    this.maxHeaderSize = maxHeaderSize;
    this.http =
      config.tlsCert !== undefined && config.tlsKey !== undefined
        ? createHttpsServer({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey), maxHeaderSize }, handler)
        : createHttpServer({ maxHeaderSize }, handler);
    const where = config.telemetryPort === undefined ? 'main+telemetry' : 'main';
    this.http.on('upgrade', (req, socket, head) => this.upgrades.handle(req, socket, head, where));
  }

  /** Starts listening; resolves with the URL (real port when configured with 0). */
  async listen(): Promise<{ url: string; port: number; telemetryUrl: string }> {
    await openRedis(this.bus, this.deferredStore, (check) => this.addHealthCheck(check));
    await listenOn(this.http, this.config.port, this.config.host);
    let telemetryUrl = `${this.url}/telemetry`;
    if (this.config.telemetryPort !== undefined) {
      const t = createHttpServer({ maxHeaderSize: this.maxHeaderSize }, (_req, res) => res.writeHead(426).end('telemetry stream: connect with a WebSocket'));
      t.on('upgrade', (req, socket, head) => this.upgrades.handle(req, socket, head, 'telemetry-port'));
      try {
        await listenOn(t, this.config.telemetryPort, this.config.host);
      } catch (err) {
        await closeServer(this.http);
        throw err;
      }
      this.telemetryHttp = t;
      telemetryUrl = `ws://${hostForUrl(this.config.host)}:${(t.address() as AddressInfo).port}/`;
    }
    this.heartbeat.start();
    return { url: this.url, port: this.port, telemetryUrl };
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const scheme = this.config.tlsCert === undefined ? 'ws' : 'wss';
    return `${scheme}://${hostForUrl(this.config.host)}:${this.port}`;
  }

  /**
   * Registers a health contribution: a check returns null while its component
   * is fine, or the reason it is not, which turns /health 503 ('degraded').
   * Checks run on every /health request, so they must be cheap and synchronous.
   * Returns a function that unregisters it.
   */
  addHealthCheck(check: HealthCheck): () => void {
    this.healthChecks.push(check);
    return () => {
      const i = this.healthChecks.indexOf(check);
      if (i >= 0) this.healthChecks.splice(i, 1);
    };
  }

  health(): HealthState {
    if (this.shuttingDown) return { state: 'shutting_down', reasons: ['server is shutting down'] };
    const reasons = this.healthChecks.map((check) => check()).filter((r): r is string => r !== null);
    if (reasons.length > 0) return { state: 'degraded', reasons };
    return { state: 'serving', reasons: [] };
  }

  private onTelemetry(ws: WebSocket, identity: Identity): void {
    this.bus.telemetry.attach(ws, identity.anonymous || identity.admin ? null : identity.tenant);
    ws.send(encodeEnvelope(systemEnvelope({ event: 'welcome', stream: 'telemetry', server_version: VERSION })), { binary: false });
    // Observers cannot refresh: their stream ends when the token does (plus the verifier's tolerance).
    if (identity.expiresAt !== null) {
      const holder: { expiryTimer: NodeJS.Timeout | undefined } = { expiryTimer: undefined };
      armAt(holder, identity.expiresAt + this.config.jwtClockToleranceS * 1000, this.bus.clock, () =>
        ws.close(CLOSE_CODES.TOKEN_EXPIRED.code, CLOSE_CODES.TOKEN_EXPIRED.message),
      );
      ws.once('close', () => clearTimeout(holder.expiryTimer));
    }
  }

  private onConnection(ws: WebSocket, identity: Identity, profile: ClientProfile): void {
    const { clients, telemetry, metrics, topic, config, logger } = this.bus;
    const conn = new Connection(ws, {
      connectionId: `cx_${randomBytes(9).toString('base64url')}`,
      identity,
      profile,
      limits: this.bus.tenantLimits(identity.tenant),
      maxBufferedBytes: config.maxBufferedBytes,
      hooks: this.hooks,
      codec: codecFor(ws.protocol),
    });
    const clientId = conn.clientId;
    clients.add(conn);
    this.bus.spine?.connectionOpened(conn);
    metrics.connections.set(clients.size);
    telemetry.counters.connects++;
    scheduleTokenExpiry(this.bus, conn);

    ws.on('message', (data: Buffer, isBinary) => this.session.onFrame(conn, data, isBinary));
    ws.on('pong', () => {
      conn.lastSeen = Date.now();
    });
    ws.on('error', (err) => {
      // ws emits an error (and then closes) for protocol violations such as a frame over maxPayload.
      logger.debug('socket error', { client_id: clientId, error: err.message });
    });
    ws.on('close', (code) => {
      clearExpiry(conn);
      topic.dropConnection(conn);
      this.bus.semantic.dropConnection(conn);
      clients.remove(conn);
      this.bus.spine?.connectionClosed(conn);
      metrics.connections.set(clients.size);
      telemetry.counters.disconnects++;
      if (telemetry.active) telemetry.emit({ event: 'disconnect', tenant: conn.tenant, client_id: clientId, code });
    });

    const welcome = systemEnvelope({
      event: 'welcome',
      client_id: clientId,
      connection_id: conn.connectionId,
      tenant: conn.tenant,
      version: VERSION,
      server_version: VERSION,
      protocol_version: PROTOCOL_VERSION,
      client: conn.describe(),
      identity: {
        admin: identity.admin,
        anonymous: identity.anonymous,
        expires_at: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString(),
      },
      limits: {
        max_payload_bytes: conn.limits.maxPayloadBytes,
        heartbeat_interval_ms: config.heartbeatIntervalMs,
        max_buffered_bytes: config.maxBufferedBytes,
        history_max_messages: config.historyMaxMessages,
        history_max_age_ms: config.historyMaxAgeMs,
        rate_limit_per_second: conn.limits.rateLimitPerSecond,
        rate_limit_burst: conn.limits.rateLimitBurst,
        max_channels_per_connection: conn.limits.maxChannelsPerConnection,
      },
    });
    const welcomeBytes = encodeEnvelope(welcome);
    const sendWelcome = (): void => void (conn.send(welcomeBytes) && metrics.messagesOut('system', 1, welcomeBytes.length));
    // With the spine the welcome waits until private messages to this client reach this node: a
    // sender on another node must not be told UNKNOWN_TARGET about a client that was welcomed.
    if (this.bus.spine?.active === true) void this.bus.spine.whenAddressable(conn).then(sendWelcome);
    else sendWelcome();
    if (telemetry.active) {
      telemetry.emit({ event: 'connect', tenant: conn.tenant, client_id: clientId, client_type: profile.clientType, screen_name: profile.screenName });
    }
  }

  /**
   * Graceful shutdown: refuse new upgrades (health turns 503), close every
   * client with 1001 after its pending frames, wait up to shutdownTimeoutMs,
   * terminate stragglers, close the store. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.heartbeat.stop();
    const httpClosed = closeServer(this.http);
    const telemetryClosed = this.telemetryHttp ? closeServer(this.telemetryHttp) : Promise.resolve();
    const observers = this.bus.telemetry.close();
    const open = [...this.bus.clients.all()];
    const allClosed = Promise.all([
      ...open.map((c) => new Promise<void>((resolve) => {
        if (c.socket.readyState === 3) return resolve();
        c.socket.once('close', () => resolve());
        c.close(CLOSE_CODES.GOING_AWAY.code, CLOSE_CODES.GOING_AWAY.message);
      })),
      ...observers.map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === 3) return resolve();
        ws.once('close', () => resolve());
      })),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs);
    });
    if ((await Promise.race([allClosed, timedOut])) === 'timeout') {
      for (const c of this.bus.clients.all()) c.terminate();
      for (const ws of observers) ws.terminate();
      await allClosed;
    }
    clearTimeout(timer);
    this.http.closeAllConnections();
    this.telemetryHttp?.closeAllConnections();
    await Promise.all([httpClosed, telemetryClosed]);
    await Promise.all([this.bus.store.close(), this.bus.semantic.close(), this.bus.spine?.close()]);
  }
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
