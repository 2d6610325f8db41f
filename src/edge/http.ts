/** Plain HTTP endpoints served beside the WebSocket: /health, /version, /metrics, /dashboard. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../protocol/codes.js';
import { PROTOCOL_VERSIONS } from '../version.js';
import { sendDashboard } from '../telemetry/dashboard-route.js';
import type { BusContext } from './context.js';

export interface HealthState {
  /** 'serving' → 200; anything else → 503 with the reasons. */
  readonly state: 'serving' | 'degraded' | 'shutting_down';
  readonly reasons: readonly string[];
}

/** One component's contribution to /health: null when fine, else why not (see ArqonServer.addHealthCheck). */
export type HealthCheck = () => string | null;

/** An HTTP error body: the same `error` / `error_code` pair as the wire protocol, code from the registry. */
function sendError(res: ServerResponse, status: number, code: ErrorCode, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { error: ERROR_CODES[code].message, error_code: code, ...extra });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createHttpHandler(bus: BusContext, health: () => HealthState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD'); // required on a 405 (RFC 9110 §15.5.6)
      sendError(res, 405, 'METHOD_NOT_ALLOWED');
      return;
    }
    switch (path) {
      case '/health': {
        const h = health();
        sendJson(res, h.state === 'serving' ? 200 : 503, {
          status: h.state === 'serving' ? 'ok' : h.state,
          reasons: h.reasons,
          version: bus.version,
          uptime_s: Math.round((Date.now() - bus.startedAt.getTime()) / 1000),
          connections: bus.clients.size,
          channels: bus.channels.size,
        });
        return;
      }
      case '/dashboard':
        sendDashboard(req, res);
        return;
      case '/version':
        sendJson(res, 200, { name: 'arqonbus', version: bus.version, protocol_versions: PROTOCOL_VERSIONS, node: process.version });
        return;
      case '/metrics':
        bus.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': bus.metrics.registry.contentType });
            res.end(text);
          },
          (err: unknown) => {
            bus.logger.error('metrics collection failed', { error: String(err) });
            sendError(res, 500, 'INTERNAL_ERROR');
          },
        );
        return;
      default:
        sendError(res, 404, 'NOT_FOUND', { endpoints: ['/health', '/version', '/metrics', '/dashboard', '/ (WebSocket)', '/telemetry (WebSocket)'] });
    }
  };
}
