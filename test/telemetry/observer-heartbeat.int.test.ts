/** Telemetry observers send nothing, so the heartbeat pings them too and drops silent ones. */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

function observer(url: string, autoPong: boolean): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { autoPong });
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.once('message', () => resolve({ ws, closed })); // the welcome
    ws.on('error', reject);
  });
}

describe('telemetry observer heartbeat', () => {
  it('terminates an observer that stops answering pings, and frees its slot', async () => {
    srv = await startServer({ heartbeatIntervalMs: 100, maxTelemetryObservers: 2 });
    const healthy = await observer(srv.telemetryUrl, true);
    const silent = await observer(srv.telemetryUrl, false);
    expect(await silent.closed).toBe(1006); // terminated: no close frame
    // Several intervals later the healthy one is still open, and the freed slot takes a new observer.
    const third = await observer(srv.telemetryUrl, true);
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    expect(srv.server.bus.telemetry.observerCount).toBe(2);
    healthy.ws.close();
    third.ws.close();
  });
});
