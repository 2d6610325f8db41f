/**
 * The built-in dashboard page (GET /dashboard): one HTML document with its
 * CSS and JS inline, no external resource, no build step.
 *
 * The script is the compiled code of dashboard-model.ts, dashboard-link.ts
 * and dashboard-view.ts, serialized with Function.prototype.toString: the
 * code the tests exercise is the code the browser runs, and it reaches
 * dist/ with plain `tsc`. The page holds no data; the telemetry upgrade
 * enforces who may watch.
 */
import { createHash } from 'node:crypto';
import * as model from './dashboard-model.js';
import { startLink } from './dashboard-link.js';
import { dashboardMain } from './dashboard-view.js';

export interface DashboardPage {
  readonly html: string;
  readonly bytes: Buffer;
  readonly script: string;
  readonly style: string;
  /** CSP source expressions ('sha256-…') of the inline script and style. */
  readonly scriptHash: string;
  readonly styleHash: string;
}

const STYLE = `
:root { color-scheme: dark; --bg: #101418; --panel: #1a2027; --fg: #e3e8ee; --dim: #8b97a3; --ok: #3fb86b; --bad: #e5534b; --warn: #d8a235; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; padding: .75rem 1rem; background: var(--panel); }
header h1 { font-size: 1.1rem; margin: 0 1rem 0 0; }
input, select, button { font: inherit; padding: .3rem .5rem; border-radius: 4px; border: 1px solid #39424c; background: var(--bg); color: var(--fg); }
button { cursor: pointer; }
#token { width: 22rem; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); gap: 1rem; padding: 1rem; }
section { background: var(--panel); border-radius: 6px; padding: .75rem 1rem; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: .95rem; margin: 0 0 .5rem; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; }
table { width: 100%; border-collapse: collapse; }
td { padding: .15rem .4rem; border-bottom: 1px solid #262e36; vertical-align: top; overflow-wrap: anywhere; }
td:first-child { color: var(--dim); white-space: nowrap; }
#log td { font-family: ui-monospace, monospace; font-size: 12.5px; }
#log td:nth-child(2), #log td:nth-child(3) { white-space: nowrap; }
#log tr.ev-bad td:nth-child(2) { color: var(--bad); }
.badge { padding: .1rem .5rem; border-radius: 999px; background: #39424c; font-weight: 600; }
.state-open { background: var(--ok); color: #08130c; }
.state-refused, .state-expired { background: var(--bad); color: #fff; }
.state-connecting, .state-reconnecting { background: var(--warn); color: #1a1200; }
.note { color: var(--dim); margin: .4rem 0 0; }
.note.warn { color: var(--warn); }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: .5rem; }
.dim { color: var(--dim); }
`;

const BODY = `
<header>
  <h1>ArqonBus</h1>
  <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="admin or dashboard token (empty under --auth none)" aria-label="token">
  <button id="connect" type="button">Connect</button>
  <button id="disconnect" type="button">Disconnect</button>
  <button id="forget" type="button">Forget token</button>
  <span id="link-state" class="badge">idle</span>
  <span id="link-detail" class="dim"></span>
  <span id="server-version" class="dim"></span>
</header>
<main>
  <section><h2>Stats</h2><table><tbody id="stats"></tbody></table><p id="stats-note" class="note"></p></section>
  <section><h2>Health</h2><table><tbody id="health"></tbody></table><p id="health-note" class="note"></p></section>
  <section><h2>Version</h2><table><tbody id="version"></tbody></table></section>
  <section><h2>Events by type</h2><table><tbody id="counts"></tbody></table></section>
  <section class="wide">
    <h2>Event log</h2>
    <div class="filters">
      <select id="filter-event" aria-label="event type"></select>
      <select id="filter-tenant" aria-label="tenant"></select>
      <input id="filter-text" type="search" placeholder="client id, room, code…" aria-label="text">
      <button id="clear" type="button">Clear</button>
    </div>
    <table><tbody id="log"></tbody></table>
    <p id="log-note" class="note"></p>
  </section>
</main>
`;

/** The page script: the model functions, bundled as an object, then the link and the view. */
function buildScript(): string {
  const names: string[] = [];
  const parts = ['"use strict";'];
  for (const [name, value] of Object.entries(model)) {
    if (typeof value !== 'function') continue;
    names.push(name);
    parts.push(value.toString());
  }
  parts.push(`const dashboardModel = { ${names.join(', ')} };`);
  parts.push(startLink.toString(), dashboardMain.toString());
  // Without a document (a test running this script in a VM) it only defines the functions.
  parts.push(`if (typeof document !== 'undefined') dashboardMain(dashboardModel, startLink, window);`);
  return parts.join('\n');
}

const cspHash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

let page: DashboardPage | undefined;

/** The page, built once on first use. */
export function dashboardPage(): DashboardPage {
  if (page !== undefined) return page;
  const script = buildScript();
  // A serialized function containing "</script" would end the element early; none does, and this keeps it so.
  if (/<\/(script|style)/i.test(script) || /<\/(script|style)/i.test(STYLE)) throw new Error('dashboard page: inline code must not contain a closing tag');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>ArqonBus dashboard</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${script}</script>
</body>
</html>
`;
  page = { html, bytes: Buffer.from(html, 'utf8'), script, style: STYLE, scriptHash: cspHash(script), styleHash: cspHash(STYLE) };
  return page;
}
