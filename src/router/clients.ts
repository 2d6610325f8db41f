/**
 * Connected clients by tenant and client id. One client id may have several
 * connections (later: the same token `sub` twice); a private message reaches all of them.
 */
import type { Connection } from '../edge/connection.js';

export class ClientRegistry {
  private readonly tenants = new Map<string, Map<string, Set<Connection>>>();
  private readonly perTenant = new Map<string, number>();
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
    this.perTenant.set(conn.tenant, (this.perTenant.get(conn.tenant) ?? 0) + 1);
  }

  remove(conn: Connection): void {
    const clients = this.tenants.get(conn.tenant);
    const conns = clients?.get(conn.clientId);
    if (clients === undefined || conns === undefined || !conns.delete(conn)) return;
    this.connectionCount--;
    const left = (this.perTenant.get(conn.tenant) ?? 1) - 1;
    if (left === 0) this.perTenant.delete(conn.tenant);
    else this.perTenant.set(conn.tenant, left);
    if (conns.size === 0) clients.delete(conn.clientId);
    if (clients.size === 0) this.tenants.delete(conn.tenant);
  }

  connectionsOf(tenant: string, clientId: string): ReadonlySet<Connection> | undefined {
    return this.tenants.get(tenant)?.get(clientId);
  }

  tenantConnections(tenant: string): number {
    return this.perTenant.get(tenant) ?? 0;
  }

  /** Tenants with at least one connection, and their connection counts. */
  tenantCounts(): ReadonlyMap<string, number> {
    return this.perTenant;
  }

  *all(): IterableIterator<Connection> {
    for (const clients of this.tenants.values()) for (const conns of clients.values()) yield* conns;
  }
}
