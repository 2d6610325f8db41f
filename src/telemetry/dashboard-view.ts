/**
 * The dashboard's DOM side: the token form, and rendering the model (link
 * state, stats, health, version, counts, the filtered event log).
 *
 * Runs in the browser only: dashboard-page.ts serializes it into the page
 * (see dashboard-model.ts for the rules that imposes) and calls it when a
 * `document` exists. Every untrusted string reaches the page through
 * textContent; the page never builds HTML from data.
 */
import type * as Model from './dashboard-model.js';
import type { Link, LinkDeps } from './dashboard-link.js';

export function dashboardMain(m: typeof Model, startLink: (m: typeof Model, deps: LinkDeps) => Link, win: Window & typeof globalThis): void {
  const doc = win.document;
  const TOKEN_KEY = 'arqon.dashboard.token';
  const LOG_ROWS = 300;
  const TROUBLE = ['error', 'casil', 'slow_consumer', 'heartbeat_timeout', 'intent_no_match'];
  const KNOWN_EVENTS = ['connect', 'disconnect', 'join', 'leave', 'command', 'error', 'slow_consumer', 'heartbeat_timeout', 'intent_routed', 'intent_no_match', 'casil'];
  const $ = <T extends HTMLElement>(id: string): T => doc.getElementById(id) as T;
  const tokenInput = $<HTMLInputElement>('token');
  const filterEvent = $<HTMLSelectElement>('filter-event');
  const filterTenant = $<HTMLSelectElement>('filter-tenant');
  const filterText = $<HTMLInputElement>('filter-text');
  let link: Link | null = null;
  let model: Model.DashboardModel = m.newModel();
  let dirty = true;
  let tick = 0;

  // sessionStorage: the token survives a reload of this tab only, and never enters the URL or its history.
  const storage = {
    get(): string {
      try {
        return win.sessionStorage.getItem(TOKEN_KEY) ?? '';
      } catch {
        return '';
      }
    },
    set(value: string | null): void {
      try {
        if (value === null) win.sessionStorage.removeItem(TOKEN_KEY);
        else win.sessionStorage.setItem(TOKEN_KEY, value);
      } catch {
        // Storage disabled: the token lives in the field only.
      }
    },
  };

  const cell = (tag: string, text: string, cls?: string): HTMLElement => {
    const node = doc.createElement(tag);
    node.textContent = text;
    if (cls !== undefined) node.className = cls;
    return node;
  };
  const fillRows = (id: string, rows: ReadonlyArray<ReadonlyArray<string>>, classOf?: (row: ReadonlyArray<string>) => string): void => {
    $(id).replaceChildren(...rows.map((row) => {
      const tr = doc.createElement('tr');
      if (classOf !== undefined) tr.className = classOf(row);
      tr.append(...row.map((text) => cell('td', text)));
      return tr;
    }));
  };
  /** Rebuilds a select's options only when the list changed, keeping the choice. */
  const syncOptions = (select: HTMLSelectElement, values: string[], allLabel: string): void => {
    const key = values.join('\n');
    if (select.dataset['key'] === key) return;
    const chosen = select.value;
    select.replaceChildren(cell('option', allLabel), ...values.map((v) => cell('option', v)));
    (select.firstChild as HTMLOptionElement).value = '';
    select.value = values.includes(chosen) ? chosen : '';
    select.dataset['key'] = key;
  };

  const render = (): void => {
    const now = Date.now();
    const l = model.link;
    const state = $('link-state');
    state.textContent = l.state;
    state.className = `badge state-${l.state}`;
    const wait = l.state === 'reconnecting' && l.retryAt > now ? `; next try in ${Math.ceil((l.retryAt - now) / 1000)} s` : '';
    $('link-detail').textContent = l.detail + wait;
    $('server-version').textContent = l.serverVersion === '' ? '' : `server ${l.serverVersion}`;

    const view = m.statsView(model, now);
    const s = model.stats;
    const showStats = s !== null && (view === 'live' || view === 'stale');
    const rate = (k: string): string => (showStats ? String(s.perSecond[k] ?? 0) : '–');
    fillRows('stats', [
      ['connections', showStats ? String(s.connections) : '–'],
      ['channels', showStats ? String(s.channels) : '–'],
      ['messages in /s', rate('messages_in')],
      ['messages out /s', rate('messages_out')],
      ['errors /s', rate('errors')],
      ['commands /s', rate('commands')],
      ['connects /s', rate('connects')],
      ['disconnects /s', rate('disconnects')],
      ['events dropped for observers', showStats ? String(s.observersDropped) : '–'],
    ]);
    const notes: Record<typeof view, string> = {
      live: 'Server-wide, every second (admin token).',
      stale: 'Stats are late: the last one is more than 3 s old.',
      waiting: 'Waiting for the first stats…',
      'tenant-only': 'No stats: this token sees its own tenant\'s events only (a dashboard token). Stats are server-wide and sent to admin tokens.',
      offline: 'Not connected.',
    };
    $('stats-note').textContent = notes[view];
    $('stats-note').className = view === 'tenant-only' ? 'note warn' : 'note';

    const h = model.health;
    $('health-note').textContent = h === null ? 'not fetched yet' : h.reachable ? `HTTP ${h.httpStatus}` : 'unreachable';
    fillRows('health', h?.fields ?? []);
    fillRows('version', model.version ?? []);
    fillRows('counts', m.sortedCounts(model.counts).map(([event, n]) => [event, String(n)]));

    syncOptions(filterEvent, [...new Set([...KNOWN_EVENTS, ...model.counts.keys()])], 'all events');
    syncOptions(filterTenant, m.sortedCounts(model.tenants).map(([t]) => t).sort(), 'all tenants');
    const filter = { event: filterEvent.value, tenant: filterTenant.value, text: filterText.value };
    const rows = m.visibleEntries(model, filter, LOG_ROWS);
    // Time of day from the ISO timestamp; events that report trouble are marked.
    fillRows('log', rows.map((e) => [e.time.slice(11, 23), e.event, e.tenant, e.summary]), (row) => (TROUBLE.includes(row[1] ?? '') ? 'ev-bad' : 'ev-ok'));
    $('log-note').textContent = `${rows.length} shown of ${model.entries.length} kept (newest first, at most ${LOG_ROWS} shown, ${m.maxEntries()} kept)`;
    dirty = false;
  };

  const connect = (): void => {
    link?.stop();
    const token = tokenInput.value.trim();
    storage.set(token);
    link = startLink(m, {
      WebSocket: win.WebSocket as unknown as LinkDeps['WebSocket'],
      fetch: (url, init) => win.fetch(url, init),
      setTimeout: (fn, ms) => win.setTimeout(fn, ms),
      clearTimeout: (handle) => win.clearTimeout(handle as number),
      now: () => Date.now(),
      random: () => Math.random(),
      origin: win.location.origin,
      token,
      pollMs: 5000,
      onChange: (changed) => {
        model = changed;
        dirty = true;
      },
    });
    model = link.model;
    render();
  };

  $('connect').addEventListener('click', connect);
  tokenInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') connect();
  });
  $('disconnect').addEventListener('click', () => link?.stop());
  $('forget').addEventListener('click', () => {
    link?.stop();
    storage.set(null);
    tokenInput.value = '';
  });
  $('clear').addEventListener('click', () => {
    model.entries.length = 0;
    model.counts.clear();
    model.tenants.clear();
    dirty = true;
  });
  for (const input of [filterEvent, filterTenant, filterText]) input.addEventListener('input', () => (dirty = true));
  // Renders at most 4 times a second however busy the stream, and once a second anyway (countdowns, stats age).
  win.setInterval(() => {
    tick += 1;
    if (dirty || tick % 4 === 0) render();
  }, 250);

  tokenInput.value = storage.get();
  if (tokenInput.value !== '') connect();
  else render();
}
