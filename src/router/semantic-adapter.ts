/**
 * Router 2 of the routing order: events carrying `payload.intent` are matched
 * by meaning to agents' capabilities (src/router/semantic/) and delivered to
 * the matched agents' connections with `metadata.route`. The sender gets a
 * `routed` system acknowledgement, or ROUTE_NO_MATCH with the best candidates.
 * Topic routing (router 1) runs first when the event also names a channel.
 *
 * Observability: every intent counts once in `arqon_intents_routed_total`
 * (outcome × mode), the route call (embedding + search) in
 * `arqon_route_duration_seconds`, deliveries in `arqon_intent_recipients`;
 * observers get `intent_routed` / `intent_no_match` with who, how and which
 * agents at what score — never the payload or the intent's text or vector,
 * which may carry anything the sender typed. The embedding cache and batcher
 * counters (`arqon_embedding_*`) are the service's, exported into the same
 * registry when the adapter is built.
 */
import { encodeEnvelope } from '../edge/codec-json.js';
import type { Connection } from '../edge/connection.js';
import { PermissionError } from '../identity/errors.js';
import { isJsonObject, PROTOCOL_VERSION, type EventFrame, type JsonObject } from '../protocol/envelope.js';
import { ArqonError, ParameterError, ProtocolError } from '../protocol/errors.js';
import { systemEnvelope } from '../protocol/outbound.js';
import type { TelemetryHub } from '../telemetry/hub.js';
import type { BusMetrics } from '../telemetry/metrics.js';
import type { RouteResult, Router } from './router.js';
import { ROUTE_MODES } from './semantic/intent.js';
import type { RouteOutcome } from './semantic/outcome.js';
import type { SemanticService } from './semantic-service.js';
import { parseWireIntent, relabel, wireMatch } from './semantic-wire.js';

/** Field prefix of intent errors in an event (`payload.field` of the INVALID_FIELD error). */
const FIELD = 'payload.intent.';

/** The metrics' mode label of an intent as sent: a bounded set, whatever the client wrote. */
function modeLabel(intent: unknown): string {
  const mode = isJsonObject(intent) ? intent['mode'] : undefined;
  if (mode === undefined) return 'best';
  return (ROUTE_MODES as readonly unknown[]).includes(mode) ? (mode as string) : 'unknown';
}

const ms = (seconds: number): number => Math.round(seconds * 1e6) / 1e3;

export class SemanticRouterAdapter implements Router {
  readonly name = 'semantic';

  constructor(
    private readonly service: SemanticService,
    private readonly metrics: BusMetrics,
    /** Absent: no telemetry events (tools and tests that build an adapter alone). */
    private readonly telemetry?: TelemetryHub,
  ) {
    // The embedding cache and batcher are the service's; their metrics go to the same registry as routing's.
    service.instrument(metrics);
  }

  accepts(frame: EventFrame): boolean {
    return frame.payload['intent'] !== undefined;
  }

  async route(sender: Connection, frame: EventFrame): Promise<RouteResult> {
    try {
      return await this.routeIntent(sender, frame);
    } catch (err) {
      // A no-match was counted where it was decided; anything else is an error outcome.
      if (!(err instanceof ArqonError && err.code === 'ROUTE_NO_MATCH')) {
        this.metrics.intentsRouted.labels('error', modeLabel(frame.payload['intent'])).inc();
      }
      throw err;
    }
  }

  private async routeIntent(sender: Connection, frame: EventFrame): Promise<RouteResult> {
    // Documented rule: routing by meaning needs at least one publish pattern.
    if (sender.identity.permissions.publish.patterns.length === 0) {
      throw new PermissionError('publish', 'intents need a publish permission');
    }
    const router = await this.service.router();
    const clientIdOf = this.service.clientIdOf;
    let outcome: RouteOutcome;
    const started = process.hrtime.bigint();
    try {
      outcome = await router.route(parseWireIntent(frame.payload['intent'], sender.tenant, FIELD));
    } catch (err) {
      const e = relabel(err, FIELD);
      if (e instanceof ParameterError) throw new ProtocolError('INVALID_FIELD', e.message, e.parameter);
      throw e;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.routeDuration.labels(outcome.modelId).observe(seconds);
    if (!outcome.matched) {
      this.metrics.intentsRouted.labels('no_match', outcome.mode).inc();
      if (this.telemetry?.active === true) {
        this.telemetry.emit({
          event: 'intent_no_match', tenant: sender.tenant, client_id: sender.clientId, request_id: frame.id,
          mode: outcome.mode, model: outcome.modelId, reason: outcome.reason, threshold: outcome.threshold,
          candidates: outcome.candidates.map((m) => wireMatch(m, clientIdOf)), duration_ms: ms(seconds),
        });
      }
      throw new ArqonError('ROUTE_NO_MATCH', 'no agent capability matches the intent', {
        no_match_reason: outcome.reason,
        threshold: outcome.threshold,
        model: outcome.modelId,
        candidates: outcome.candidates.map((m) => wireMatch(m, clientIdOf)),
      });
    }
    const { echo: _echo, ...clientMetadata } = frame.metadata ?? {};
    const recipients: JsonObject[] = [];
    let delivered = 0;
    for (const match of outcome.matches) {
      const conn = this.service.agent(match.agentId);
      // Per recipient only `metadata.route` differs: one encoding per match.
      const bytes = encodeEnvelope({
        version: PROTOCOL_VERSION,
        id: frame.id,
        type: 'event',
        room: frame.room,
        channel: frame.channel,
        from: sender.clientId,
        timestamp: frame.timestamp,
        payload: frame.payload,
        metadata: {
          ...clientMetadata,
          route: { agent: match.agentId, capability: match.capability, score: wireMatch(match, clientIdOf)['score'], mode: outcome.mode },
        },
      });
      // Another node's agent (Redis spine) is forwarded to its node, and in flight here until its reply comes back.
      const sent = conn === undefined ? this.service.remote?.forward(match.agentId, bytes) === true : conn.send(bytes);
      if (!sent) continue;
      this.service.requestDelivered(sender, frame.id, conn ?? match.agentId);
      delivered++;
      this.metrics.messagesOut('event', 1, bytes.length);
      recipients.push(wireMatch(match, clientIdOf));
    }
    if (delivered === 0) {
      // Every matched agent went away (or its socket is closing) between the match and the write: an
      // acknowledgement naming nobody would leave a request() waiting for its timeout.
      this.metrics.intentsRouted.labels('no_match', outcome.mode).inc();
      throw new ArqonError('ROUTE_NO_MATCH', 'the matched agents disconnected before the intent could be delivered', {
        no_match_reason: 'agents_unavailable',
        threshold: outcome.threshold,
        model: outcome.modelId,
        candidates: outcome.matches.map((m) => wireMatch(m, clientIdOf)),
      });
    }
    this.metrics.intentsRouted.labels('matched', outcome.mode).inc();
    this.metrics.intentRecipients.observe(delivered);
    if (this.telemetry?.active === true) {
      this.telemetry.emit({
        event: 'intent_routed', tenant: sender.tenant, client_id: sender.clientId, request_id: frame.id,
        mode: outcome.mode, model: outcome.modelId, threshold: outcome.threshold,
        matches: outcome.matches.map((m) => wireMatch(m, clientIdOf)), recipients: recipients.length, duration_ms: ms(seconds),
      });
    }
    const ack = encodeEnvelope(
      systemEnvelope({ event: 'routed', request_id: frame.id, mode: outcome.mode, model: outcome.modelId, recipients }, {
        room: frame.room,
        channel: frame.channel,
      }),
    );
    if (sender.send(ack)) this.metrics.messagesOut('system', 1, ack.length);
    return { router: this.name, delivered };
  }
}
