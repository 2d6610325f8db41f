/**
 * Connected clients by tenant and client id. One client id may have several
 * connections (later: the same token `sub` twice); a private message reaches all of them.
 */
import type { Connection } from '../edge/connection.js';

export class ClientRegistry {
  private readonly tenants = new Map<string, Map<string, Set<Connection>>>();
  private connectionCount = 0;

  get size(): number {
    return this.connectionCount;
  }

  add(conn: Connection): void {
    let clients = this.tenants.get(conn.tenant);
    if (clients === undefined) {
      clients = new Map();
      this.tenants.set(conn.tenant, clients);
    }
    let conns = clients.get(conn.clientId);
    if (conns === undefined) {
      conns = new Set();
      clients.set(conn.clientId, conns);
    }
    conns.add(conn);
    this.connectionCount++;
  }

  remove(conn: Connection): void {
    const clients = this.tenants.get(conn.tenant);
    const conns = clients?.get(conn.clientId);
    if (clients === undefined || conns === undefined || !conns.delete(conn)) return;
    this.connectionCount--;
    if (conns.size === 0) clients.delete(conn.clientId);
    if (clients.size === 0) this.tenants.delete(conn.tenant);
  }

  connectionsOf(tenant: string, clientId: string): ReadonlySet<Connection> | undefined {
    return this.tenants.get(tenant)?.get(clientId);
  }

  tenantConnections(tenant: string): number {
    let n = 0;
    for (const conns of this.tenants.get(tenant)?.values() ?? []) n += conns.size;
    return n;
  }

  *all(): IterableIterator<Connection> {
    for (const clients of this.tenants.values()) for (const conns of clients.values()) yield* conns;
  }
}
