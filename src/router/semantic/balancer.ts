/**
 * Load balancing among equally good agents, like a NATS queue group: the
 * agent with the fewest in-flight requests wins; among those, the one picked
 * least recently (so a stable set is served round robin); then input order.
 * In-flight counts are driven from outside (`increment` when a request is
 * delivered to an agent, `decrement` when it is answered or abandoned).
 * Every operation is O(1) per agent offered; nothing scans all agents.
 */

interface AgentLoad {
  inFlight: number;
  /** Sequence number of the last pick; 0 = never picked. */
  lastPick: number;
}

export class LeastLoadedBalancer {
  private readonly tenants = new Map<string, Map<string, AgentLoad>>();
  private sequence = 0;

  /** Counts one more request in flight at the agent; returns the new count. */
  increment(tenant: string, agentId: string): number {
    const load = this.load(tenant, agentId, true)!;
    return ++load.inFlight;
  }

  /** Counts one request fewer in flight (never below zero); returns the new count. */
  decrement(tenant: string, agentId: string): number {
    const load = this.load(tenant, agentId, false);
    if (load === undefined || load.inFlight === 0) return 0;
    return --load.inFlight;
  }

  inFlight(tenant: string, agentId: string): number {
    return this.load(tenant, agentId, false)?.inFlight ?? 0;
  }

  /**
   * Picks one of `agentIds` (non-empty, best-scored first). With `commit`
   * the pick is recorded for round robin; without it this is a preview.
   */
  pick(tenant: string, agentIds: readonly string[], commit = true): string {
    const loads = this.tenants.get(tenant);
    let best: string | undefined;
    let bestInFlight = Infinity;
    let bestLastPick = Infinity;
    for (const id of agentIds) {
      const load = loads?.get(id);
      const inFlight = load?.inFlight ?? 0;
      const lastPick = load?.lastPick ?? 0;
      if (inFlight < bestInFlight || (inFlight === bestInFlight && lastPick < bestLastPick)) {
        best = id;
        bestInFlight = inFlight;
        bestLastPick = lastPick;
      }
    }
    if (best === undefined) throw new RangeError('pick needs at least one agent');
    if (commit) this.load(tenant, best, true)!.lastPick = ++this.sequence;
    return best;
  }

  /** Drops an agent's state (it disconnected). */
  forget(tenant: string, agentId: string): void {
    const loads = this.tenants.get(tenant);
    if (loads === undefined) return;
    loads.delete(agentId);
    if (loads.size === 0) this.tenants.delete(tenant);
  }

  private load(tenant: string, agentId: string, create: boolean): AgentLoad | undefined {
    let loads = this.tenants.get(tenant);
    if (loads === undefined) {
      if (!create) return undefined;
      loads = new Map();
      this.tenants.set(tenant, loads);
    }
    let load = loads.get(agentId);
    if (load === undefined && create) {
      load = { inFlight: 0, lastPick: 0 };
      loads.set(agentId, load);
    }
    return load;
  }
}
