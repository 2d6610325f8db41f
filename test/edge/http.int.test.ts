import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Reads one sample from Prometheus text, e.g. metric(text, 'arqon_messages_in_total{type="event"}').
 * A labelled series prom-client has not incremented yet is absent: 0, as long as its family is declared.
 */
function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line !== undefined) return Number(line.slice(series.length + 1));
  const family = series.replace(/\{.*$/, '').replace(/_(bucket|count|sum)$/, '');
  if (!text.includes(`# TYPE ${family} `)) throw new Error(`no metric ${family} in /metrics`);
  return 0;
}

/** The refused upgrade's HTTP status, or an error if the upgrade succeeded. */
function upgradeStatus(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`upgrade to ${url} unexpectedly succeeded`));
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => {}); // 'unexpected-response' carries the outcome
  });
}

describe('HTTP endpoints', () => {
  let srv: TestServer;
  beforeEach(async () => {
    srv = await startServer();
  });
  afterEach(async () => {
    await srv.close();
  });

  it('GET /health answers 200 JSON with status ok and live counts', async () => {
    const { client } = await RawClient.connect(srv.url);
    await client.ok('join_channel', { room: 'r', channel: 'c' });
    const res = await fetch(`${srv.httpUrl}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', reasons: [], version: srv.server.bus.version, connections: 1, channels: 1 });
    expect(typeof body['uptime_s']).toBe('number');
    // HEAD is allowed too and carries no body.
    const head = await fetch(`${srv.httpUrl}/health?probe=1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    await client.close();
  });

  it('GET /version answers JSON with the server and protocol versions', async () => {
    const res = await fetch(`${srv.httpUrl}/version`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'arqonbus',
      version: srv.server.bus.version,
      protocol_versions: ['1.0'],
      node: process.version,
    });
  });

  it('GET /metrics serves Prometheus text whose values move with traffic', async () => {
    const before = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    for (const name of [
      'arqon_connections',
      'arqon_messages_in_total',
      'arqon_messages_out_total',
      'arqon_bytes_in_total',
      'arqon_command_duration_seconds',
      'arqon_delivery_errors_total',
      'arqon_slow_consumer_disconnects_total',
    ]) {
      expect(before).toContain(`# TYPE ${name} `);
    }
    expect(metric(before, 'arqon_connections')).toBe(0);
    expect(metric(before, 'arqon_messages_in_total{type="event"}')).toBe(0);
    expect(metric(before, 'arqon_bytes_in_total')).toBe(0);
    expect(metric(before, 'arqon_delivery_errors_total')).toBe(0);
    expect(metric(before, 'arqon_slow_consumer_disconnects_total')).toBe(0);

    const { client: a } = await RawClient.connect(srv.url);
    const { client: b } = await RawClient.connect(srv.url);
    await a.ok('join_channel', { room: 'r', channel: 'c' });
    await b.ok('join_channel', { room: 'r', channel: 'c' });
    for (let i = 0; i < 3; i++) a.send({ type: 'event', room: 'r', channel: 'c', payload: { i } });
    for (let i = 0; i < 3; i++) await b.next((e) => e.type === 'event' && e.payload['i'] === i);
    await a.barrier();

    const res = await fetch(`${srv.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const after = await res.text();
    expect(metric(after, 'arqon_connections')).toBe(2);
    expect(metric(after, 'arqon_messages_in_total{type="event"}')).toBe(3);
    expect(metric(after, 'arqon_messages_in_total{type="command"}')).toBe(3);
    expect(metric(after, 'arqon_messages_out_total{type="event"}')).toBe(3);
    expect(metric(after, 'arqon_messages_out_total{type="command_response"}')).toBe(3);
    expect(metric(after, 'arqon_messages_out_total{type="system"}')).toBe(3); // two welcomes, b's member_joined to a
    expect(metric(after, 'arqon_bytes_in_total')).toBeGreaterThan(0);
    expect(metric(after, 'arqon_command_duration_seconds_count{command="join_channel",status="success"}')).toBe(2);
    expect(metric(after, 'arqon_command_duration_seconds_bucket{le="+Inf",command="ping",status="success"}')).toBe(1);
    expect(after).toContain('arqon_process_cpu_user_seconds_total'); // default metrics, prefixed

    await a.close();
    await b.close();
  });

  it('answers 404 JSON for unknown paths and 405 for other methods', async () => {
    const missing = await fetch(`${srv.httpUrl}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await missing.json()).toMatchObject({ error_code: 'NOT_FOUND' });

    for (const path of ['/health', '/metrics', '/nope']) {
      const post = await fetch(`${srv.httpUrl}${path}`, { method: 'POST', body: '{}' });
      expect(post.status, path).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect(await post.json()).toMatchObject({ error_code: 'METHOD_NOT_ALLOWED' });
    }
  });

  it('refuses a WebSocket upgrade on an unknown path with 404, and on a bad profile with 400', async () => {
    const unknown = await upgradeStatus(`${srv.url}/not-a-bus`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error_code: 'NOT_FOUND' });
    const badProfile = await upgradeStatus(`${srv.url}/?client_type=robot`);
    expect(badProfile.status).toBe(400);
    expect(JSON.parse(badProfile.body)).toMatchObject({ error_code: 'INVALID_PARAMETERS' });
    // Every documented bus path accepts the upgrade.
    for (const path of ['/ws', '/v1', '/bus']) {
      const { client } = await RawClient.connect(`${srv.url}${path}`);
      await client.barrier();
      await client.close();
    }
  });
});
