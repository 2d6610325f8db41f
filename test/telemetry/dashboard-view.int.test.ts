/**
 * The whole served dashboard script, view included, run in a VM on a
 * minimal document (dashboard-dom.ts) against a real server: the token form,
 * sessionStorage, the rendered state, stats, counts, the event log and its
 * filters, and a refused token.
 */
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { fakePage, type FakePage } from './dashboard-dom.js';

const SECRET = 'dashboard-view-secret-0123456789abcdef';
const TOKEN_KEY = 'arqon.dashboard.token';

let srv: TestServer;
const pages: FakePage[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const p of pages.splice(0)) p.dispose();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await srv.close();
});

const token = (tenant: string, sub: string, extra: Partial<TokenClaims> = {}): Promise<string> =>
  mintToken(secretSigningKey(SECRET), { sub, tenant, permissions: { publish: ['*'], subscribe: ['*'], history: ['*'] }, ...extra }, { ttlS: 600 });

/** Loads /dashboard into a fake page and runs its script, as a browser would. */
async function openPage(storedToken?: string): Promise<FakePage> {
  const html = await (await fetch(`${srv.httpUrl}/dashboard`)).text();
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  const page = fakePage(html, srv.httpUrl);
  pages.push(page);
  if (storedToken !== undefined) page.storage.set(TOKEN_KEY, storedToken);
  runInNewContext(script, { window: page.window, document: page.window['document'], TextDecoder });
  return page;
}

const connectWith = (page: FakePage, tokenText: string): void => {
  page.el('token').value = tokenText;
  page.el('connect').dispatch('click');
};

describe('the dashboard page, rendered', () => {
  it('connects with the typed token, keeps it in sessionStorage and renders stats, counts and the log with filters', async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
    const page = await openPage();
    expect(page.el('link-state').textContent).toBe('idle');
    expect(page.el('token').value).toBe('');

    const admin = await token('ops', 'root', { admin: true, client_type: 'dashboard' });
    connectWith(page, admin);
    expect(page.storage.get(TOKEN_KEY)).toBe(admin);
    await page.until('open with live stats', () =>
      page.el('link-state').textContent === 'open' && page.el('stats-note').textContent.startsWith('Server-wide'));
    expect(page.el('link-state').className).toBe('badge state-open');
    expect(page.el('server-version').textContent).toBe(`server ${srv.server.bus.version}`);

    const { client: alice } = await RawClient.connect(srv.url, { token: await token('acme', 'alice') });
    clients.push(alice);
    await alice.ok('join_channel', { room: 'lobby', channel: 'general' });
    await page.until('alice in the log', () => page.el('log').rows().some((r) => r.endsWith('join\tacme\talice joined lobby:general')));
    await page.until('stats with alice', () => page.el('stats').rows().includes('connections\t1'));
    expect(page.el('log').rows().some((r) => r.endsWith('connect\tacme\talice (human)'))).toBe(true);
    expect(page.el('counts').rows()).toEqual(expect.arrayContaining(['join\t1']));
    // An error event is marked as trouble; a join is not.
    alice.send({ type: 'shout', id: 'bad-1' });
    await alice.next((e) => e.type === 'error');
    await page.until('the error in the log', () => page.el('log').rows().some((r) => r.includes('\terror\tacme\talice UNKNOWN_TYPE (request bad-1)')));
    const classOf = (text: string): string | undefined => page.el('log').children.find((tr) => tr.textContent.includes(text))?.className;
    expect([classOf('UNKNOWN_TYPE'), classOf('alice joined')]).toEqual(['ev-bad', 'ev-ok']);
    expect(page.el('filter-tenant').children.map((o) => o.textContent)).toEqual(['all tenants', 'acme']);
    await page.until('health and version', () =>
      page.el('health').rows().includes('status\tok') && page.el('version').rows().includes('name\tarqonbus'));

    // Filter by event type: only the join stays.
    page.el('filter-event').value = 'join';
    page.el('filter-event').dispatch('input');
    await page.until('filtered log', () => page.el('log').rows().length === 1);
    page.el('filter-event').value = '';
    page.el('filter-text').value = 'unknown_type';
    page.el('filter-text').dispatch('input');
    await page.until('text-filtered log', () => page.el('log').rows().length === 1 && page.el('log').rows()[0]!.includes('UNKNOWN_TYPE'));
    page.el('filter-text').value = '';
    page.el('filter-event').value = 'join';
    page.el('filter-event').dispatch('input');
    await page.until('join-filtered log', () => page.el('log').rows().length === 1 && page.el('log').rows()[0]!.includes('joined'));
    expect(page.el('log').rows()[0]).toMatch(/\tjoin\tacme\talice joined lobby:general$/);

    // "Forget token" disconnects and clears the field and the storage.
    page.el('forget').dispatch('click');
    expect(page.storage.has(TOKEN_KEY)).toBe(false);
    expect(page.el('token').value).toBe('');
    await page.until('stopped', () => page.el('link-state').textContent === 'stopped');
  });

  it('reconnects on load with the token kept for the tab, and shows a refused token as such', async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
    const wallboard = await token('acme', 'wallboard', { client_type: 'dashboard' });
    const page = await openPage(wallboard);
    expect(page.el('token').value).toBe(wallboard);
    await page.until('open', () => page.el('link-state').textContent === 'open');
    // A dashboard token: no stats, said plainly once the first seconds passed.
    await page.until('tenant-only note', () => page.el('stats-note').textContent.startsWith('No stats: this token sees its own tenant'));
    expect(page.el('stats-note').className).toBe('note warn');
    expect(page.el('stats').rows()).toContain('connections\t–');

    connectWith(page, await token('acme', 'alice'));
    await page.until('refused', () => page.el('link-state').textContent === 'refused');
    expect(page.el('link-detail').textContent).toMatch(/^token refused/);
    expect(page.el('link-state').className).toBe('badge state-refused');
  });
});
