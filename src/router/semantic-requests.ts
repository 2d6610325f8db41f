/**
 * Requests in flight at agents, for `best` mode's load balancing: an intent
 * delivered to an agent connection stays in flight until that connection
 * sends a `private` message to the intent's sender with
 * `metadata.in_reply_to` = the intent's id, until it times out, or until the
 * agent or the sender disconnects. Each end calls `onFinish` (which the
 * service turns into `SemanticRouter.requestFinished`), except an agent's own
 * disconnect: its load state goes with it.
 *
 * Bounded: every entry expires after `timeoutMs`, and a tenant holds at most
 * `maxPerTenant` entries (the oldest is finished early to admit a new one).
 * One timer serves the whole table: the timeout is the same for every entry,
 * so insertion order is expiry order and the sweep only looks at the head.
 * Every operation is O(1), except a disconnect (O(entries of that connection)).
 */

/** Default cap of requests in flight per tenant (documented in docs/protocol.md). */
export const MAX_IN_FLIGHT_PER_TENANT = 10_000;

/** The ends of one request: who sent the intent, which agent connection got it. */
export interface RequestParties {
  readonly tenant: string;
  /** The intent's id (the event's `id`). */
  readonly requestId: string;
  /** The sender's client id (what the reply's `target` names). */
  readonly senderClientId: string;
  readonly senderConnectionId: string;
  /** The agent id: the connection id of the agent the intent was delivered to. */
  readonly agentId: string;
}

interface Entry extends RequestParties {
  readonly key: string;
  readonly expiresAt: number;
}

export interface InFlightOptions {
  readonly timeoutMs: number;
  readonly maxPerTenant?: number;
  /** Called once per request that ends by reply, timeout, eviction or the sender's disconnect. */
  readonly onFinish: (tenant: string, agentId: string) => void;
  readonly clock?: () => number;
}

const keyOf = (tenant: string, senderClientId: string, requestId: string, agentId: string): string =>
  JSON.stringify([tenant, senderClientId, requestId, agentId]);

export class InFlightRequests {
  readonly #timeoutMs: number;
  readonly #maxPerTenant: number;
  readonly #onFinish: (tenant: string, agentId: string) => void;
  readonly #clock: () => number;
  /** Every entry, oldest (= soonest to expire) first. */
  readonly #entries = new Map<string, Entry>();
  /** Per tenant, oldest first (for the cap). */
  readonly #tenants = new Map<string, Map<string, Entry>>();
  /** Per connection id (agent or sender), the keys it takes part in (for disconnects). */
  readonly #byConnection = new Map<string, Set<string>>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: InFlightOptions) {
    if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    this.#timeoutMs = options.timeoutMs;
    this.#maxPerTenant = options.maxPerTenant ?? MAX_IN_FLIGHT_PER_TENANT;
    this.#onFinish = options.onFinish;
    this.#clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Records a delivery. Returns false when this exact request (sender, id,
   * agent) is already in flight: it is then only renewed, not counted twice.
   */
  start(parties: RequestParties): boolean {
    const key = keyOf(parties.tenant, parties.senderClientId, parties.requestId, parties.agentId);
    const existing = this.#entries.get(key);
    if (existing !== undefined) this.#remove(existing);
    else {
      const tenant = this.#tenants.get(parties.tenant);
      if (tenant !== undefined && tenant.size >= this.#maxPerTenant) this.#finish(tenant.values().next().value!);
    }
    const entry: Entry = { ...parties, key, expiresAt: this.#clock() + this.#timeoutMs };
    this.#entries.set(key, entry);
    let tenant = this.#tenants.get(entry.tenant);
    if (tenant === undefined) this.#tenants.set(entry.tenant, (tenant = new Map()));
    tenant.set(key, entry);
    this.#index(entry.agentId, key);
    this.#index(entry.senderConnectionId, key);
    this.#schedule();
    return existing === undefined;
  }

  /** A reply from `agentId` to `senderClientId` answering `requestId`: finishes the request. False if none was in flight. */
  replied(tenant: string, agentId: string, senderClientId: string, requestId: string): boolean {
    const entry = this.#entries.get(keyOf(tenant, senderClientId, requestId, agentId));
    if (entry === undefined) return false;
    this.#finish(entry);
    return true;
  }

  /** The connection closed: requests it sent are finished (abandoned); requests it held as agent are dropped. */
  dropConnection(connectionId: string): void {
    const keys = this.#byConnection.get(connectionId);
    if (keys === undefined) return;
    for (const key of [...keys]) {
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      if (entry.agentId === connectionId) this.#remove(entry);
      else this.#finish(entry);
    }
    this.#byConnection.delete(connectionId);
  }

  /** Finishes every entry that expired by `now`. */
  sweep(now = this.#clock()): number {
    let n = 0;
    for (const entry of this.#entries.values()) {
      if (entry.expiresAt > now) break;
      this.#finish(entry);
      n++;
    }
    return n;
  }

  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#entries.clear();
    this.#tenants.clear();
    this.#byConnection.clear();
  }

  #finish(entry: Entry): void {
    this.#remove(entry);
    this.#onFinish(entry.tenant, entry.agentId);
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    const tenant = this.#tenants.get(entry.tenant);
    tenant?.delete(entry.key);
    if (tenant?.size === 0) this.#tenants.delete(entry.tenant);
    this.#unindex(entry.agentId, entry.key);
    this.#unindex(entry.senderConnectionId, entry.key);
  }

  #index(connectionId: string, key: string): void {
    let keys = this.#byConnection.get(connectionId);
    if (keys === undefined) this.#byConnection.set(connectionId, (keys = new Set()));
    keys.add(key);
  }

  #unindex(connectionId: string, key: string): void {
    const keys = this.#byConnection.get(connectionId);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.#byConnection.delete(connectionId);
  }

  /** Arms the one timer for the oldest entry, if it is not armed. */
  #schedule(): void {
    if (this.#timer !== null) return;
    const head = this.#entries.values().next();
    if (head.done === true) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.sweep();
      this.#schedule();
    }, Math.max(0, head.value.expiresAt - this.#clock()));
    this.#timer.unref?.();
  }
}
