/**
 * The dashboard's connection to the server: the /telemetry WebSocket with
 * reconnect and backoff, and the /health and /version polls.
 *
 * Runs in the browser: dashboard-page.ts serializes it into the page (see
 * dashboard-model.ts for the rules that imposes). Everything it touches
 * comes in through `deps` (WebSocket, fetch, timers, clock, randomness) and
 * `m` (the model functions), so tests run the page's own copy against a real
 * server with the `ws` package's WebSocket and Node's fetch.
 */
import type * as Model from './dashboard-model.js';

/** The browser-like WebSocket surface the link uses (the DOM's and the `ws` package's both have it). */
export interface LinkSocket {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  binaryType: string;
  close(code?: number): void;
}

export interface LinkDeps {
  readonly WebSocket: new (url: string) => LinkSocket;
  readonly fetch: (url: string, init?: { cache?: 'no-store' }) => Promise<{ status: number; json(): Promise<unknown> }>;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
  readonly now: () => number;
  readonly random: () => number;
  /** location.origin of the page: the stream and the endpoints are on the same origin. */
  readonly origin: string;
  readonly token: string;
  /** Called after every change of the model. */
  readonly onChange: (model: Model.DashboardModel) => void;
  /** How often /health and /version are fetched. */
  readonly pollMs: number;
}

export interface Link {
  readonly model: Model.DashboardModel;
  /** Closes the stream and stops reconnecting and polling. */
  stop(): void;
}

export function startLink(m: typeof Model, deps: LinkDeps): Link {
  const model = m.newModel();
  let socket: LinkSocket | null = null;
  let retryTimer: unknown = null;
  let pollTimer: unknown = null;
  let stopped = false;

  // A stopped link stays silent: its late poll answers must not overwrite the next link's model on screen.
  const changed = (): void => {
    if (!stopped) deps.onChange(model);
  };

  /** Fetches /health; answers how the server is doing for closeDecision. */
  const pollHealth = async (): Promise<'up' | 'shutting_down' | 'unreachable'> => {
    try {
      const res = await deps.fetch(`${deps.origin}/health`, { cache: 'no-store' });
      const body = await res.json().catch(() => null);
      model.health = { at: deps.now(), reachable: true, httpStatus: res.status, fields: m.fieldRows(body) };
      const status = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['status'] : undefined;
      return status === 'shutting_down' ? 'shutting_down' : 'up';
    } catch {
      model.health = { at: deps.now(), reachable: false, httpStatus: 0, fields: [] };
      return 'unreachable';
    } finally {
      changed();
    }
  };

  const pollVersion = async (): Promise<void> => {
    try {
      const res = await deps.fetch(`${deps.origin}/version`, { cache: 'no-store' });
      model.version = m.fieldRows(await res.json());
    } catch {
      // The health row already shows the server as unreachable.
    }
    changed();
  };

  const poll = (): void => {
    if (stopped) return;
    void pollHealth();
    void pollVersion();
    pollTimer = deps.setTimeout(poll, deps.pollMs);
  };

  const connect = (): void => {
    if (stopped) return;
    let opened = false;
    model.link.state = model.link.attempt === 0 ? 'connecting' : 'reconnecting';
    model.link.detail = model.link.attempt === 0 ? 'connecting' : `reconnecting (attempt ${model.link.attempt})`;
    changed();
    const ws = new deps.WebSocket(m.telemetryUrl(deps.origin, deps.token));
    // Binary frames as ArrayBuffer (a browser's default is a Blob, which only decodes asynchronously).
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      opened = true;
      model.link = { ...model.link, state: 'open', detail: 'streaming', attempt: 0, openedAt: deps.now(), retryAt: 0 };
      changed();
    };
    ws.onmessage = (ev) => {
      if (m.applyFrame(model, ev.data, deps.now()) !== 'ignored') changed();
    };
    ws.onerror = () => {
      // A close event always follows; the decision is made there.
    };
    ws.onclose = (ev) => {
      if (stopped || socket !== ws) return;
      socket = null;
      // A failed upgrade and a dead server look alike to a browser: /health tells them apart.
      const health = opened ? Promise.resolve<'up'>('up') : pollHealth();
      void health.then((h) => {
        if (stopped) return;
        const decision = m.closeDecision(opened, ev.code, h);
        model.link.state = decision.state;
        model.link.detail = decision.detail;
        if (decision.retry) {
          model.link.attempt += 1;
          const delay = m.reconnectDelay(model.link.attempt, deps.random());
          model.link.retryAt = deps.now() + delay;
          retryTimer = deps.setTimeout(connect, delay);
        }
        changed();
      });
    };
  };

  connect();
  poll();
  return {
    model,
    stop(): void {
      stopped = true;
      if (retryTimer !== null) deps.clearTimeout(retryTimer);
      if (pollTimer !== null) deps.clearTimeout(pollTimer);
      socket?.close(1000);
      socket = null;
      model.link.state = 'stopped';
      model.link.detail = 'disconnected';
      deps.onChange(model);
    },
  };
}
