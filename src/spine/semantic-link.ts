/**
 * Wires the node's semantic routing to the spine in both directions: local
 * agents' capability changes go out to the other nodes, other nodes' agents
 * are registered in this node's router, and matches on them are forwarded.
 */
import { encodeEnvelope } from '../edge/codec-json.js';
import { ArqonError } from '../protocol/errors.js';
import { errorEnvelope } from '../protocol/outbound.js';
import type { SemanticService } from '../router/semantic-service.js';
import type { Logger } from '../telemetry/logger.js';
import type { RedisSpine } from './spine.js';

export function linkSemantic(spine: RedisSpine, semantic: SemanticService, logger: Logger): void {
  semantic.remote = {
    changed: (conn, capabilities) => spine.agentChanged(conn, capabilities),
    clientIdOf: (agentId) => spine.remoteClientIdOf(agentId),
    agentIdsOf: (tenant, clientId) => spine.remoteAgentIdsOf(tenant, clientId),
    forward: (agentId, bytes) => spine.forwardToAgent(agentId, bytes),
  };
  // A remote agent's reply to an intent forwarded from here ends the request's in-flight count here.
  spine.onRemotePrivate = (tenant, clientId, bytes) => semantic.remotePrivateDelivered(tenant, clientId, bytes);
  spine.bindAgents({
    remoteAgentChanged: (record) => {
      if (record.capabilities.length === 0) {
        semantic.removeRemoteAgent(record.tenant, record.agent);
        return;
      }
      semantic.setRemoteAgent(record.tenant, record.agent, record.capabilities).then(
        () => {
          // Gone (agent or node) while its texts were embedded here: it must not stay routable.
          if (spine.remoteClientIdOf(record.agent) === null) semantic.removeRemoteAgent(record.tenant, record.agent);
        },
        (err: unknown) => logger.debug('remote agent not registered', { agent: record.agent, node: record.node, error: String(err) }),
      );
    },
    deliverToAgent: (agentId, bytes) => semantic.agent(agentId)?.send(bytes) ?? false,
    agentUnavailable: (tenant, agentId, bytes) => {
      const error = unavailableError(bytes);
      if (error === null) return;
      spine.sendPrivate(tenant, [error.to], error.bytes).catch((err: unknown) => {
        logger.debug('intent not delivered; its sender could not be told', { agent: agentId, error: String(err) });
      });
    },
  });
}

/**
 * The error the sender of an intent forwarded here gets when the agent is
 * gone: the ROUTE_NO_MATCH a single node answers when its matched agents went
 * away, for the intent's id, sent over the sender's client channel. Null when
 * the bytes are not an intent envelope.
 */
function unavailableError(bytes: Buffer): { to: string; bytes: Buffer } | null {
  let intent: { id?: unknown; from?: unknown; room?: unknown; channel?: unknown; metadata?: { route?: unknown } };
  try {
    intent = JSON.parse(bytes.toString()) as typeof intent;
  } catch {
    return null;
  }
  if (typeof intent.id !== 'string' || typeof intent.from !== 'string') return null;
  const route = intent.metadata?.route;
  const err = new ArqonError('ROUTE_NO_MATCH', 'the matched agent disconnected before the intent could be delivered', {
    no_match_reason: 'agents_unavailable',
    candidates: typeof route === 'object' && route !== null ? [route] : [],
  });
  const address = { room: typeof intent.room === 'string' ? intent.room : null, channel: typeof intent.channel === 'string' ? intent.channel : null };
  return { to: intent.from, bytes: encodeEnvelope(errorEnvelope(err, intent.id, address)) };
}
