/**
 * The HTTP upgrade, in a fixed order: shutting down? → path → server
 * connection limit → query parameters and subprotocol (400) → authentication (401/503) →
 * server connection limit again → telemetry role (403) and observer limit,
 * or tenant connection limit → CASIL on the profile fields (400/503) → accept.
 * Every refusal is an HTTP status with a JSON body; no socket object exists
 * for a refused client.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { AuthError } from '../identity/errors.js';
import type { Authenticator } from '../identity/authenticator.js';
import type { Identity } from '../identity/identity.js';
import type { ClientProfile } from './connection.js';
import type { BusContext } from './context.js';
import { BUS_PATHS, HandshakeError, profileFromQuery, protocolFromRequest, refuseUpgrade, requestUrl } from './handshake.js';

export interface UpgradeTargets {
  readonly bus: WebSocketServer;
  readonly telemetry: WebSocketServer;
  onBus(ws: WebSocket, identity: Identity, profile: ClientProfile): void;
  onTelemetry(ws: WebSocket, identity: Identity): void;
}

export class UpgradeHandler {
  constructor(
    private readonly bus: BusContext,
    private readonly auth: Authenticator,
    private readonly targets: UpgradeTargets,
    private readonly isShuttingDown: () => boolean,
  ) {}

  /** Handles an upgrade on the main port (`telemetryHere`: /telemetry is served there too) or the telemetry port. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, where: 'main' | 'main+telemetry' | 'telemetry-port'): void {
    socket.on('error', () => socket.destroy());
    this.accept(req, socket, head, where).catch((err: unknown) => {
      let refusal: HandshakeError;
      if (err instanceof HandshakeError) refusal = err;
      else if (err instanceof AuthError) refusal = new HandshakeError(err.status, err.code, err.message);
      else {
        this.bus.logger.error('upgrade failed', { error: String((err as Error)?.stack ?? err) });
        refusal = new HandshakeError(500, 'INTERNAL_ERROR', 'internal server error');
      }
      // Operators see refusals: a metric by code and a debug line (never the token itself).
      this.bus.metrics.upgradeRefusals.labels(refusal.code).inc();
      this.bus.logger.debug('upgrade refused', { status: refusal.status, error_code: refusal.code, remote: req.socket.remoteAddress });
      refuseUpgrade(socket, refusal);
    });
  }

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer, where: 'main' | 'main+telemetry' | 'telemetry-port'): Promise<void> {
    if (this.isShuttingDown()) throw new HandshakeError(503, 'SHUTTING_DOWN', 'server is shutting down');
    const url = requestUrl(req);
    const telemetry = where === 'telemetry-port' || (where === 'main+telemetry' && url.pathname === '/telemetry');
    if (!telemetry && !BUS_PATHS.has(url.pathname)) throw new HandshakeError(404, 'NOT_FOUND', `no WebSocket endpoint at ${url.pathname}`);
    const { clients, config } = this.bus;
    const atServerLimit = (): boolean => !telemetry && clients.size >= config.maxConnections;
    // Checked before authentication, so a full server spends no crypto on refusals…
    if (atServerLimit()) throw new HandshakeError(503, 'MAX_CONNECTIONS', 'server is at its connection limit');
    const requested = profileFromQuery(url);
    // Unknown subprotocols only: 400 with the query parameters' refusals, before any crypto.
    if (!telemetry) protocolFromRequest(req);
    const identity = await this.auth.authenticate(req, url, requested);
    // Other nodes' connections of the tenant (spine only), read before the last await-free stretch below.
    const spine = this.bus.spine;
    const elsewhere = !telemetry && spine?.active === true ? await spine.remoteTenantConnections(identity.tenant) : 0;
    if (socket.destroyed || this.isShuttingDown()) {
      socket.destroy();
      return;
    }
    // …and again after it: concurrent upgrades all passed the first check while their tokens were
    // verified. From here to clients.add (in onBus) nothing awaits, so the limit holds.
    if (atServerLimit()) throw new HandshakeError(503, 'MAX_CONNECTIONS', 'server is at its connection limit');
    if (telemetry) {
      // Admins watch every tenant; dashboards their own; under --auth none anyone local may watch.
      if (!identity.anonymous && !identity.admin && identity.clientType !== 'dashboard') {
        throw new HandshakeError(403, 'TELEMETRY_FORBIDDEN', 'the telemetry stream is for admin and dashboard identities');
      }
      if (this.bus.telemetry.observerCount >= config.maxTelemetryObservers) {
        throw new HandshakeError(503, 'MAX_CONNECTIONS', 'the telemetry stream is at its observer limit');
      }
      this.targets.telemetry.handleUpgrade(req, socket, head, (ws) => this.targets.onTelemetry(ws, identity));
      return;
    }
    if (clients.tenantConnections(identity.tenant) + elsewhere >= this.bus.tenantLimits(identity.tenant).maxConnections) {
      throw new HandshakeError(503, 'TENANT_CONNECTION_LIMIT', `tenant ${identity.tenant} is at its connection limit`);
    }
    // Claims are authoritative: client_type and (when present) screen_name come from the token.
    let profile: ClientProfile = identity.anonymous
      ? requested
      : { ...requested, clientType: identity.clientType, screenName: identity.screenName ?? requested.screenName };
    // CASIL on what the URL gave and the profile keeps (synchronous: the limits above still hold).
    if (this.bus.casil.active) profile = this.inspectProfile(identity, profile, requested);
    this.targets.bus.handleUpgrade(req, socket, head, (ws) => this.targets.onBus(ws, identity, profile));
  }

  /**
   * Inspects the free-text profile fields the upgrade URL gave and the profile
   * keeps (a token's `screen_name` is the issuer's, not inspected), like
   * `set_metadata` parameters (docs/casil.md). Throws the refusal on a block;
   * returns the profile with redacted values in their place.
   */
  private inspectProfile(identity: Identity, profile: ClientProfile, requested: ClientProfile): ClientProfile {
    const fields: Record<string, string> = {};
    // Under --auth none the anonymous identity's screen_name is the URL's own.
    const nameFromUrl = identity.anonymous || identity.screenName === null;
    if (nameFromUrl && requested.screenName !== null) fields['screen_name'] = requested.screenName;
    if (profile.avatar !== null) fields['avatar'] = profile.avatar;
    if (profile.personality !== null) fields['personality'] = profile.personality;
    if (Object.keys(fields).length === 0) return profile;
    const admission = this.bus.casil.admitProfile({ tenant: identity.tenant, clientId: identity.sub }, fields);
    if (admission.blocked !== null) {
      // A failed inspection (fail closed) is the server's, and retryable: 503; a secret is the client's: 400.
      if (admission.blocked === 'CASIL_INTERNAL_ERROR') throw new HandshakeError(503, admission.blocked, 'CASIL could not inspect the profile query parameters (fail closed)');
      throw new HandshakeError(400, admission.blocked, 'CASIL blocked the profile: a query parameter contains a probable secret');
    }
    const kept = admission.fields;
    return {
      ...profile,
      screenName: kept['screen_name'] ?? profile.screenName,
      avatar: kept['avatar'] ?? profile.avatar,
      personality: kept['personality'] ?? profile.personality,
    };
  }
}
