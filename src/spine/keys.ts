/**
 * Every Redis key and pub/sub channel the spine uses, in one place, so the
 * list in docs/operations.md ("Redis spine") can be checked against it.
 * Tenants and client ids are URI-encoded: they may contain `:`, room and
 * channel names may not (protocol naming rules), so keys never collide.
 */
const enc = encodeURIComponent;

export class SpineKeys {
  constructor(readonly prefix: string) {}

  /** SET of node ids that registered and were not reaped yet. */
  nodes(): string {
    return `${this.prefix}:nodes`;
  }

  /** STRING with TTL (PX nodeTtlMs): the node is alive while it exists. */
  alive(node: string): string {
    return `${this.prefix}:node:${node}:alive`;
  }

  /** SET of the presence hashes a node has entries in (what the reaper must visit). */
  nodePresence(node: string): string {
    return `${this.prefix}:node:${node}:presence`;
  }

  /** SET of the tenants a node has counted connections for. */
  nodeTenants(node: string): string {
    return `${this.prefix}:node:${node}:tenants`;
  }

  /** STRING (NX, PX nodeTtlMs): the one node reaping `node` holds it. */
  reapLock(node: string): string {
    return `${this.prefix}:reap:${node}`;
  }

  /** HASH `room:channel` → JSON {created_at, created_by}: the tenant's channels on every node. */
  channels(tenant: string): string {
    return `${this.prefix}:channels:${enc(tenant)}`;
  }

  /** HASH connection id → JSON {node, tenant, room, channel, client}: the channel's members on every node. */
  presence(tenant: string, room: string, channel: string): string {
    return `${this.prefix}:presence:${enc(tenant)}:${room}:${channel}`;
  }

  /** HASH node id → open connections of the tenant on that node. */
  tenantConnections(tenant: string): string {
    return `${this.prefix}:conns:${enc(tenant)}`;
  }

  /** HASH agent (connection) id → JSON {node, tenant, client_id, capabilities}: every node's agents. */
  capabilities(): string {
    return `${this.prefix}:caps`;
  }

  /** Pub/sub channel every node subscribes to: an agent's capabilities changed (rare: registrations). */
  capabilityChanges(): string {
    return `${this.prefix}:caps:changes`;
  }

  /** STRING, JSON {policy, node, at}: the CASIL policy the last `casil_reload` set for every node (none: each node's configured one). */
  casilPolicy(): string {
    return `${this.prefix}:casil:policy`;
  }

  /** Pub/sub channel every node subscribes to: the shared CASIL policy changed (rare: admin reloads). */
  casilChanges(): string {
    return `${this.prefix}:casil:changes`;
  }

  /** Pub/sub channel of one node: intents routed elsewhere to one of its agents. */
  nodeAgents(node: string): string {
    return `${this.prefix}:node:${node}:agents`;
  }

  /** Pub/sub channel of one bus channel; a node subscribes while it has local members. */
  channelTopic(tenant: string, room: string, channel: string): string {
    return `${this.prefix}:ch:${enc(tenant)}:${room}:${channel}`;
  }

  /** Pub/sub channel of one client id; a node subscribes while that client has a connection on it. */
  clientTopic(tenant: string, clientId: string): string {
    return `${this.prefix}:pm:${enc(tenant)}:${enc(clientId)}`;
  }
}
