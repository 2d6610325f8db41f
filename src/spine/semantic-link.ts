/**
 * Wires the node's semantic routing to the spine in both directions: local
 * agents' capability changes go out to the other nodes, other nodes' agents
 * are registered in this node's router, and matches on them are forwarded.
 */
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
  });
}
