/**
 * The dashboard's state and the pure functions over it: parsing telemetry
 * frames, formatting events as text, filtering, counting, deciding what a
 * closed stream means and how long to wait before reconnecting.
 *
 * These functions run in the browser: dashboard-page.ts serializes every
 * export of this module into the page with Function.prototype.toString, and
 * the tests import the same functions. So each one may use only its
 * arguments, the language's built-ins and the other exports of this module
 * (called by name): no imports, no module-level constants.
 *
 * Every field of a frame is untrusted (telemetry carries client-chosen ids):
 * it is turned into bounded plain text here and only ever rendered with
 * textContent.
 */

export interface LogEntry {
  readonly seq: number;
  /** The envelope's timestamp, as sent (text). */
  readonly time: string;
  readonly event: string;
  readonly tenant: string;
  readonly summary: string;
}

export interface StatsSample {
  readonly at: number;
  readonly perSecond: Readonly<Record<string, number>>;
  readonly connections: number;
  readonly channels: number;
  readonly observersDropped: number;
}

export type LinkState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'refused' | 'expired' | 'stopped';

export interface DashboardModel {
  link: { state: LinkState; detail: string; attempt: number; openedAt: number; retryAt: number; serverVersion: string };
  /** Newest last; at most maxEntries() (the oldest are dropped and counted in `dropped`). */
  entries: LogEntry[];
  dropped: number;
  seq: number;
  /** Events seen per event type and per tenant since the page connected (Maps: keys are untrusted). */
  counts: Map<string, number>;
  tenants: Map<string, number>;
  stats: StatsSample | null;
  health: { at: number; reachable: boolean; httpStatus: number; fields: Array<[string, string]> } | null;
  version: Array<[string, string]> | null;
}

export interface LogFilter {
  readonly event: string;
  readonly tenant: string;
  readonly text: string;
}

/** What a closed stream means: the state to show, and whether to reconnect on our own. */
export interface CloseDecision {
  readonly state: LinkState;
  readonly retry: boolean;
  readonly detail: string;
}

export function maxEntries(): number {
  return 1000;
}

export function newModel(): DashboardModel {
  return {
    link: { state: 'idle', detail: 'enter a token and connect', attempt: 0, openedAt: 0, retryAt: 0, serverVersion: '' },
    entries: [],
    dropped: 0,
    seq: 0,
    counts: new Map(),
    tenants: new Map(),
    stats: null,
    health: null,
    version: null,
  };
}

/** Any untrusted value as bounded plain text: '-' for nothing, compact JSON for objects. */
export function asText(value: unknown, max = 200): string {
  let s: string;
  if (value === null || value === undefined) s = '-';
  else if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
  else {
    try {
      s = JSON.stringify(value) ?? '-';
    } catch {
      s = '?';
    }
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A finite number, else 0 (stats fields are numbers from the server, but the page trusts nothing). */
export function asNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** One line describing a telemetry event; field names follow docs/operations.md (Telemetry stream). */
export function eventSummary(p: Record<string, unknown>): string {
  const who = asText(p['client_id']);
  const where = (): string => `${asText(p['room'])}:${asText(p['channel'])}`;
  const ms = (): string => (typeof p['duration_ms'] === 'number' ? ` ${asText(p['duration_ms'])} ms` : '');
  const agents = (list: unknown): string =>
    Array.isArray(list) && list.length > 0
      ? list.slice(0, 5).map((m: unknown) => {
          const o = (m !== null && typeof m === 'object' ? m : {}) as Record<string, unknown>;
          return `${asText(o['agent'] ?? o['client_id'], 60)}/${asText(o['capability'], 60)} ${asText(o['score'], 8)}`;
        }).join(', ') + (list.length > 5 ? ` +${list.length - 5}` : '')
      : 'none';
  switch (p['event']) {
    case 'connect':
      return `${who} (${asText(p['client_type'], 20)}${typeof p['screen_name'] === 'string' ? `, ${asText(p['screen_name'], 60)}` : ''})`;
    case 'disconnect':
      return `${who} closed ${asText(p['code'], 8)}`;
    case 'join':
      return `${who} joined ${where()}`;
    case 'leave':
      return `${who} left ${where()}`;
    case 'command':
      return `${who} ${asText(p['command'], 60)} ${asText(p['status'], 20)}${ms()}`;
    case 'error':
      return `${who} ${asText(p['error_code'], 60)} (request ${asText(p['request_id'], 80)})`;
    case 'slow_consumer':
      return `${who} closed 4002 (slow consumer)`;
    case 'heartbeat_timeout':
      return `${who} closed 4001 (heartbeat timeout)`;
    case 'intent_routed':
      return `${who} → ${agents(p['matches'])} (${asText(p['mode'], 10)}, ${asText(p['model'], 40)})${ms()}`;
    case 'intent_no_match':
      return `${who} no match: ${asText(p['reason'], 40)}; best ${agents(p['candidates'])} (${asText(p['mode'], 10)})${ms()}`;
    case 'casil':
      return `${who} ${asText(p['decision'], 30)} ${asText(p['reason_code'], 60)} ${asText(p['message_type'], 20)} ${where()}`;
    default: {
      // An event this page does not know yet: its other fields, compactly.
      const rest: Record<string, unknown> = {};
      for (const k of Object.keys(p)) if (k !== 'event' && k !== 'tenant') rest[k] = p[k];
      return asText(rest, 300);
    }
  }
}

/** Adds 1 to a Map counter. */
export function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * A frame's JSON text. The stream's envelopes are JSON, but the server may
 * send them in binary frames (the socket then hands over an ArrayBuffer, or a
 * Buffer under Node), so both kinds are decoded as UTF-8. Null for anything
 * else or anything over 1 MB.
 */
export function frameText(data: unknown): string | null {
  let text: string;
  if (typeof data === 'string') text = data;
  // toString, not instanceof: a buffer made in another realm (a test's VM) is still a buffer.
  else if (ArrayBuffer.isView(data) || Object.prototype.toString.call(data) === '[object ArrayBuffer]') {
    const bytes = data as ArrayBuffer | ArrayBufferView;
    if (bytes.byteLength > 1_000_000) return null;
    text = new TextDecoder().decode(bytes);
  } else return null;
  return text.length > 1_000_000 ? null : text;
}

/**
 * Applies one frame from the telemetry stream. Returns what it was:
 * 'welcome', 'stats', 'event', or 'ignored' for anything malformed.
 */
export function applyFrame(model: DashboardModel, data: unknown, now: number): 'welcome' | 'stats' | 'event' | 'ignored' {
  const text = frameText(data);
  if (text === null) return 'ignored';
  let env: unknown;
  try {
    env = JSON.parse(text);
  } catch {
    return 'ignored';
  }
  if (env === null || typeof env !== 'object') return 'ignored';
  const e = env as Record<string, unknown>;
  const p = e['payload'];
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return 'ignored';
  const payload = p as Record<string, unknown>;
  if (e['type'] === 'system' && payload['event'] === 'welcome') {
    model.link.serverVersion = asText(payload['server_version'], 40);
    return 'welcome';
  }
  if (e['type'] !== 'telemetry' || typeof payload['event'] !== 'string') return 'ignored';
  if (payload['event'] === 'stats') {
    const rates = payload['per_second'];
    const perSecond: Record<string, number> = {};
    if (rates !== null && typeof rates === 'object') {
      for (const k of ['messages_in', 'messages_out', 'errors', 'commands', 'connects', 'disconnects']) {
        perSecond[k] = asNumber((rates as Record<string, unknown>)[k]);
      }
    }
    model.stats = {
      at: now,
      perSecond,
      connections: asNumber(payload['connections']),
      channels: asNumber(payload['channels']),
      observersDropped: asNumber(payload['observers_dropped']),
    };
    return 'stats';
  }
  const event = asText(payload['event'], 40);
  const tenant = asText(payload['tenant'], 80);
  model.seq += 1;
  model.entries.push({ seq: model.seq, time: asText(e['timestamp'], 40), event, tenant, summary: eventSummary(payload) });
  if (model.entries.length > maxEntries()) {
    model.entries.splice(0, model.entries.length - maxEntries());
    model.dropped += 1;
  }
  bump(model.counts, event);
  bump(model.tenants, tenant);
  return 'event';
}

export function matchesFilter(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.event !== '' && entry.event !== filter.event) return false;
  if (filter.tenant !== '' && entry.tenant !== filter.tenant) return false;
  const text = filter.text.trim().toLowerCase();
  return text === '' || entry.summary.toLowerCase().includes(text);
}

/** The entries to show, newest first, at most `limit`. */
export function visibleEntries(model: DashboardModel, filter: LogFilter, limit: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = model.entries.length - 1; i >= 0 && out.length < limit; i--) {
    const entry = model.entries[i]!;
    if (matchesFilter(entry, filter)) out.push(entry);
  }
  return out;
}

/** Map contents as [key, count] pairs, largest count first, then by name. */
export function sortedCounts(map: Map<string, number>): Array<[string, number]> {
  return [...map.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * Whether the server-wide stats are live. Stats arrive every second, and only
 * to admin observers: a stream open for a few seconds without any means a
 * dashboard token, which sees its own tenant's events only.
 */
export function statsView(model: DashboardModel, now: number): 'live' | 'stale' | 'waiting' | 'tenant-only' | 'offline' {
  if (model.link.state !== 'open') return 'offline';
  if (model.stats !== null && model.stats.at >= model.link.openedAt) return now - model.stats.at <= 3000 ? 'live' : 'stale';
  return now - model.link.openedAt < 3000 ? 'waiting' : 'tenant-only';
}

/**
 * What a closed telemetry socket means. A browser never sees the status of a
 * refused upgrade (the socket just fails, code 1006, without opening), so a
 * stream that never opened while /health answers is a refusal: 401 (no,
 * invalid or expired token), 403 (neither admin nor dashboard) or 503
 * (observer limit). Those do not heal by retrying with the same token, so the
 * page stops and asks for one. Everything else reconnects with backoff.
 */
export function closeDecision(opened: boolean, code: number, health: 'up' | 'shutting_down' | 'unreachable'): CloseDecision {
  if (!opened) {
    if (health === 'up') {
      return { state: 'refused', retry: false, detail: 'token refused: the server turned the telemetry upgrade down (401/403; 503 at the observer limit; 404 with --telemetry-port)' };
    }
    return { state: 'reconnecting', retry: true, detail: health === 'shutting_down' ? 'server shutting down' : 'server unreachable' };
  }
  if (code === 4003) return { state: 'expired', retry: false, detail: 'token expired (4003): enter a new token' };
  if (code === 1001) return { state: 'reconnecting', retry: true, detail: 'server shutting down or restarting (1001)' };
  return { state: 'reconnecting', retry: true, detail: `connection lost (${code})` };
}

/** Delay before reconnect `attempt` (1-based): a ceiling doubling from 500 ms to 15 s, half of it fixed, half random. */
export function reconnectDelay(attempt: number, random: number): number {
  const ceiling = Math.min(15_000, 500 * Math.pow(2, Math.max(0, Math.floor(attempt) - 1)));
  return Math.round(ceiling / 2 + (Math.min(1, Math.max(0, random)) * ceiling) / 2);
}

/**
 * The telemetry socket's URL for a page at `origin` (location.origin):
 * ws: or wss: to match the page. The token rides in the query because
 * browsers cannot set headers on a WebSocket; empty (--auth none) adds none.
 */
export function telemetryUrl(origin: string, token: string): string {
  const base = `${origin.replace(/^http/, 'ws')}/telemetry`;
  return token === '' ? base : `${base}?token=${encodeURIComponent(token)}`;
}

/** A /health or /version JSON body as [field, text] rows (top-level fields only, bounded). */
export function fieldRows(body: unknown): Array<[string, string]> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  return Object.keys(body).slice(0, 20).map((k): [string, string] => [asText(k, 40), asText((body as Record<string, unknown>)[k], 120)]);
}
