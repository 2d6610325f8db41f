/** Serves the dashboard page (GET and HEAD /dashboard) with its security headers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dashboardPage } from './dashboard-page.js';

/** host or host:port, a bracketed IPv6 address included; anything else never reaches a header. */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The page's content security policy: nothing but its own inline script and
 * style (by hash) and connections to its own origin. `connect-src 'self'`
 * covers ws:/wss: of the same host only in newer browsers, so the host is
 * named too, taken from the request's Host header when it is a plain host
 * (a crafted one must not add directives).
 */
export function dashboardCsp(host: string | undefined): string {
  const { scriptHash, styleHash } = dashboardPage();
  const sockets = host !== undefined && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    `script-src ${scriptHash}`,
    `style-src ${styleHash}`,
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function sendDashboard(req: IncomingMessage, res: ServerResponse): void {
  const { bytes } = dashboardPage();
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': bytes.length,
    'content-security-policy': dashboardCsp(req.headers.host),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
    'referrer-policy': 'no-referrer',
  });
  // HEAD: Node sends the headers and drops the body.
  res.end(bytes);
}
