/**
 * Router 2 of the routing order: events carrying `payload.intent` are matched
 * by meaning to agents' capabilities (src/router/semantic/) and delivered to
 * the matched agents' connections with `metadata.route`. The sender gets a
 * `routed` system acknowledgement, or ROUTE_NO_MATCH with the best candidates.
 * Topic routing (router 1) runs first when the event also names a channel.
 */
import { encodeEnvelope } from '../edge/codec-json.js';
import type { Connection } from '../edge/connection.js';
import { PermissionError } from '../identity/errors.js';
import { PROTOCOL_VERSION, type EventFrame, type JsonObject } from '../protocol/envelope.js';
import { ArqonError, ParameterError, ProtocolError } from '../protocol/errors.js';
import { systemEnvelope } from '../protocol/outbound.js';
import type { BusMetrics } from '../telemetry/metrics.js';
import type { RouteResult, Router } from './router.js';
import type { SemanticService } from './semantic-service.js';
import { parseWireIntent, relabel, wireMatch } from './semantic-wire.js';

/** Field prefix of intent errors in an event (`payload.field` of the INVALID_FIELD error). */
const FIELD = 'payload.intent.';

export class SemanticRouterAdapter implements Router {
  readonly name = 'semantic';

  constructor(
    private readonly service: SemanticService,
    private readonly metrics: BusMetrics,
  ) {}

  accepts(frame: EventFrame): boolean {
    return frame.payload['intent'] !== undefined;
  }

  async route(sender: Connection, frame: EventFrame): Promise<RouteResult> {
    // Documented rule: routing by meaning needs at least one publish pattern.
    if (sender.identity.permissions.publish.patterns.length === 0) {
      throw new PermissionError('publish', 'intents need a publish permission');
    }
    const router = await this.service.router();
    const clientIdOf = this.service.clientIdOf;
    let outcome;
    try {
      outcome = await router.route(parseWireIntent(frame.payload['intent'], sender.tenant, FIELD));
    } catch (err) {
      const e = relabel(err, FIELD);
      if (e instanceof ParameterError) throw new ProtocolError('INVALID_FIELD', e.message, e.parameter);
      throw e;
    }
    if (!outcome.matched) {
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
      if (conn === undefined) continue;
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
      if (!conn.send(bytes)) continue;
      this.service.requestDelivered(sender, frame.id, conn);
      delivered++;
      this.metrics.messagesOut('event', 1, bytes.length);
      recipients.push(wireMatch(match, clientIdOf));
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
