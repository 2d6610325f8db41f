/**
 * GET /dashboard against a real server: the page, its headers and CSP, and
 * the page's own script. Chromium is not part of the toolchain, so the
 * browser is not driven; instead the inline script served by the server is
 * run in a VM (it only defines its functions when there is no document), and
 * its connection code is driven with the `ws` package's WebSocket and Node's
 * fetch against the real server and its real /telemetry stream.
 */
import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import type { Link, LinkDeps } from '../../src/telemetry/dashboard-link.js';
import * as moduleModel from '../../src/telemetry/dashboard-model.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Model = typeof moduleModel;
type DashboardModel = moduleModel.DashboardModel;

const SECRET = 'dashboard-tests-secret-0123456789abcdef';
const ALL = { publish: ['*'], subscribe: ['*'], history: ['*'] };

const servers: TestServer[] = [];
const links: Link[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const link of links.splice(0)) link.stop();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(overrides: Parameters<typeof startServer>[0] = {}, options: Parameters<typeof startServer>[1] = {}): Promise<TestServer> {
  const srv = await startServer(overrides, options);
  servers.push(srv);
  return srv;
}

const token = (tenant: string, sub: string, extra: Partial<TokenClaims> = {}): Promise<string> =>
  mintToken(secretSigningKey(SECRET), { sub, tenant, permissions: ALL, ...extra }, { ttlS: 600 });

async function busClient(srv: TestServer, tenant: string, sub: string): Promise<RawClient> {
  const { client } = await RawClient.connect(srv.url, { token: await token(tenant, sub) });
  clients.push(client);
  return client;
}

/** The inline script and style of a page, and the CSP's directives. */
function inlineParts(html: string): { scripts: string[]; styles: string[] } {
  return {
    scripts: [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1]!),
    styles: [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]!),
  };
}
function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
}
const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's own script, run without a document: its model functions and startLink. */
async function pageCode(srv: TestServer): Promise<{ m: Model; startLink: (m: Model, deps: LinkDeps) => Link; script: string }> {
  const html = await (await fetch(`${srv.httpUrl}/dashboard`)).text();
  const [script] = inlineParts(html).scripts;
  // A browser global the script uses (to decode binary frames); a bare VM context has only the language's built-ins.
  const context: Record<string, unknown> = { TextDecoder };
  runInNewContext(`${script}\n;globalThis.exported = { m: dashboardModel, startLink };`, context);
  return { ...(context['exported'] as { m: Model; startLink: (m: Model, deps: LinkDeps) => Link }), script: script! };
}

/** Starts the page's link against `srv`; `until` resolves once the model satisfies a predicate. */
async function watch(srv: TestServer, tokenText: string): Promise<{ link: Link; m: Model; until(what: string, ok: (model: DashboardModel) => boolean): Promise<DashboardModel> }> {
  const { m, startLink } = await pageCode(srv);
  const waiters: Array<{ ok: (model: DashboardModel) => boolean; resolve: (model: DashboardModel) => void }> = [];
  const deps: LinkDeps = {
    WebSocket: WebSocket as unknown as LinkDeps['WebSocket'],
    fetch: (url, init) => fetch(url, init),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    now: () => Date.now(),
    random: () => 0,
    origin: srv.httpUrl,
    token: tokenText,
    pollMs: 60_000,
    onChange: (model) => {
      for (const w of waiters.filter((x) => x.ok(model))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(model);
      }
    },
  };
  const link = startLink(m, deps);
  links.push(link);
  const until = (what: string, ok: (model: DashboardModel) => boolean): Promise<DashboardModel> => {
    if (ok(link.model)) return Promise.resolve(link.model);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dashboard never reached: ${what}; link ${JSON.stringify(link.model.link)}`)), 10_000);
      waiters.push({ ok, resolve: (model) => (clearTimeout(timer), resolve(model)) });
    });
  };
  return { link, m, until };
}

const logged = (model: DashboardModel, event: string, tenant: string, summary: string): boolean =>
  model.entries.some((e) => e.event === event && e.tenant === tenant && e.summary === summary);

describe('GET /dashboard', () => {
  it('serves one HTML page whose inline script and style match the CSP hashes, with nosniff and no-cache', async () => {
    const srv = await serve();
    const res = await fetch(`${srv.httpUrl}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(html));

    const csp = directives(res.headers.get('content-security-policy')!);
    const { scripts, styles } = inlineParts(html);
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual([sha256(scripts[0]!)]);
    expect(csp.get('style-src')).toEqual([sha256(styles[0]!)]);
    const host = new URL(srv.httpUrl).host;
    expect(csp.get('connect-src')).toEqual(["'self'", `ws://${host}`, `wss://${host}`]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);

    // Same origin only: no absolute URL, no external resource, nothing CSP would block (inline handlers, style attributes).
    expect(html).not.toMatch(/https?:\/\/|wss?:\/\//i);
    const markup = html.replace(scripts[0]!, '').replace(styles[0]!, '');
    expect(markup).not.toMatch(/<(link|img|iframe|object|embed|base|form)\b|\s(src|href|action)\s*=/i);
    expect(markup).not.toMatch(/\son[a-z]+\s*=|\sstyle\s*=/i);
    expect(styles[0]).not.toMatch(/@import|url\(/i);
    expect(html).toContain('<script>"use strict";'); // the script element carries no src
  });

  it('answers HEAD with the same headers and no body', async () => {
    const srv = await serve();
    const get = await fetch(`${srv.httpUrl}/dashboard`);
    const head = await fetch(`${srv.httpUrl}/dashboard?x=1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    for (const h of ['content-type', 'content-length', 'content-security-policy', 'x-content-type-options', 'cache-control']) {
      expect(head.headers.get(h), h).toBe(get.headers.get(h));
    }
    const post = await fetch(`${srv.httpUrl}/dashboard`, { method: 'POST', body: '' });
    expect(post.status).toBe(405);
  });

  it('names the request host in connect-src only when it is a plain host[:port]', async () => {
    const srv = await serve();
    const cspFor = (host: string): Promise<string> =>
      new Promise((resolve, reject) => {
        httpGet({ host: '127.0.0.1', port: srv.port, path: '/dashboard', headers: { host } }, (res) => {
          res.resume();
          resolve(String(res.headers['content-security-policy']));
        }).on('error', reject);
      });
    expect(directives(await cspFor('bus.example:8443')).get('connect-src')).toEqual(["'self'", 'ws://bus.example:8443', 'wss://bus.example:8443']);
    expect(directives(await cspFor('[::1]:9100')).get('connect-src')).toEqual(["'self'", 'ws://[::1]:9100', 'wss://[::1]:9100']);
    // A crafted Host cannot add sources or directives.
    const crafted = directives(await cspFor("evil.test script-src 'unsafe-inline'; img-src *"));
    expect(crafted.get('connect-src')).toEqual(["'self'"]);
    expect(crafted.has('img-src')).toBe(false);
  });

  it("serves a script that runs the module's functions, writes no HTML from data and keeps the token in sessionStorage", async () => {
    const srv = await serve();
    const { m, script } = await pageCode(srv);
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|localStorage/);
    expect(script).toMatch(/\.textContent = /);
    expect(script).toContain('sessionStorage');
    // The served copies behave like the module's.
    const hostile = { event: 'connect', tenant: '<b>t</b>', client_id: '<img src=x onerror=alert(1)>', client_type: 'human', screen_name: '</script>' };
    expect(m.eventSummary(hostile)).toBe(moduleModel.eventSummary(hostile));
    const model = m.newModel();
    expect(m.applyFrame(model, JSON.stringify({ type: 'telemetry', timestamp: 't', payload: hostile }), 1)).toBe('event');
    expect(model.entries.map((e) => [e.event, e.tenant, e.summary])).toEqual([['connect', '<b>t</b>', '<img src=x onerror=alert(1)> (human, </script>)']]);
    expect(m.telemetryUrl(srv.httpUrl, 'a+b')).toBe(`${srv.url}/telemetry?token=a%2Bb`);
  });
});

describe('the dashboard page against the telemetry stream', () => {
  it('an admin token: live stats, events with counts, /health and /version', async () => {
    const srv = await serve({ auth: 'jwt', jwtSecret: SECRET });
    const { until, m } = await watch(srv, await token('ops', 'root', { admin: true, client_type: 'dashboard' }));
    const stats = await until('stats', (model) => model.link.state === 'open' && model.stats !== null);
    expect(stats.link.serverVersion).toBe(srv.server.bus.version);
    expect(m.statsView(stats, stats.stats!.at)).toBe('live');

    const alice = await busClient(srv, 'acme', 'alice');
    await alice.ok('join_channel', { room: 'lobby', channel: 'general' });
    const model = await until('alice joined', (x) => logged(x, 'join', 'acme', 'alice joined lobby:general'));
    expect(logged(model, 'connect', 'acme', 'alice (human)')).toBe(true);
    expect(model.counts.get('join')).toBe(1);
    expect(model.tenants.get('acme')).toBeGreaterThanOrEqual(2);
    // A later tick reports the bus connection and channel.
    const counted = await until('stats with alice', (x) => x.stats !== null && x.stats.connections === 1 && x.stats.channels === 1);
    expect(counted.stats!.perSecond).toHaveProperty('messages_in');

    const polled = await until('health and version', (x) => x.health !== null && x.version !== null);
    expect(polled.health).toMatchObject({ reachable: true, httpStatus: 200 });
    expect(polled.health!.fields).toContainEqual(['status', 'ok']);
    expect(polled.version).toContainEqual(['name', 'arqonbus']);
  });

  it("a dashboard token: its own tenant's events only and no stats, shown as tenant-only", async () => {
    const srv = await serve({ auth: 'jwt', jwtSecret: SECRET });
    const { until, m } = await watch(srv, await token('acme', 'wallboard', { client_type: 'dashboard' }));
    await until('open', (x) => x.link.state === 'open');
    const { client: admin } = await RawClient.connect(srv.telemetryUrl, { token: await token('ops', 'root', { admin: true }) });
    clients.push(admin);

    const globex = await busClient(srv, 'globex', 'alice');
    await globex.ok('join_channel', { room: 'lobby', channel: 'general' });
    const acme = await busClient(srv, 'acme', 'alice');
    await acme.ok('join_channel', { room: 'lobby', channel: 'general' });
    await until('acme join', (x) => logged(x, 'join', 'acme', 'alice joined lobby:general'));
    // Stats tick on the admin stream; then a later acme event reaches the dashboard, which would
    // have had that tick before it (the hub writes to each observer in emit order).
    const isStats = (e: Envelope): boolean => e.type === 'telemetry' && e.payload['event'] === 'stats';
    await admin.next(isStats, 2500);
    await acme.ok('ping');
    const model = await until('acme ping', (x) => x.entries.some((e) => e.event === 'command' && e.summary.startsWith('alice ping success')));
    expect(model.stats).toBeNull();
    expect([...model.tenants.keys()]).toEqual(['acme']);
    expect(m.statsView(model, model.link.openedAt + 5000)).toBe('tenant-only');
  });

  it('shows "token refused" for tokens the upgrade turns down, and does not retry them', async () => {
    const srv = await serve({ auth: 'jwt', jwtSecret: SECRET });
    for (const tokenText of [await token('acme', 'alice'), 'not.a.jwt', '']) {
      const { until } = await watch(srv, tokenText);
      const model = await until(`refused (${tokenText.slice(0, 10)})`, (x) => x.link.state === 'refused');
      expect(model.link.detail).toMatch(/^token refused/);
      expect(model.link).toMatchObject({ attempt: 0, retryAt: 0 });
      expect(model.health).toMatchObject({ reachable: true, httpStatus: 200 });
    }
    expect(srv.server.bus.telemetry.observerCount).toBe(0);
  });

  it('reconnects with backoff after the server restarts', async () => {
    const first = await startServer();
    const { until } = await watch(first, '');
    const opened = await until('open', (x) => x.link.state === 'open');
    const firstOpenedAt = opened.link.openedAt;
    await first.close();
    const lost = await until('reconnecting', (x) => x.link.state === 'reconnecting' && x.link.retryAt > 0);
    expect(lost.link.attempt).toBeGreaterThanOrEqual(1);
    expect(lost.link.detail).toMatch(/1001|unreachable/);

    await serve({ port: first.port });
    const back = await until('open again', (x) => x.link.state === 'open' && x.link.openedAt > firstOpenedAt);
    expect(back.link).toMatchObject({ attempt: 0, retryAt: 0, serverVersion: first.server.bus.version });
  });

  it('stops with "token expired" when the server closes the stream with 4003', async () => {
    const exp = 1_900_000_000; // seconds; the injected clock puts it 1 s away
    const now = exp * 1000 - 1000;
    const skew = now - Date.now();
    const srv = await serve({ auth: 'jwt', jwtSecret: SECRET, jwtClockToleranceS: 0 }, { clock: () => Date.now() + skew });
    const short = await mintToken(secretSigningKey(SECRET), { sub: 'root', tenant: 'ops', admin: true }, { ttlS: 60, now: now - 59_000 });
    const { until } = await watch(srv, short);
    await until('open', (x) => x.link.state === 'open');
    const model = await until('expired', (x) => x.link.state === 'expired');
    expect(model.link).toMatchObject({ detail: 'token expired (4003): enter a new token', retryAt: 0 });
  });
});
