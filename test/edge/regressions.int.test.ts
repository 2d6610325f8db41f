/** Regressions found in review: each was a crash, leak or race before it was fixed. */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { identityFromClaims } from '../../src/identity/claims.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe('review regressions', () => {
  it('refuses a payload nested deeper than 64 levels instead of storing what it cannot re-encode', async () => {
    srv = await startServer();
    const { client } = await RawClient.connect(srv.url);
    await client.ok('join_channel', { room: 'r', channel: 'c' });
    const deep = '{"a":'.repeat(6000) + '1' + '}'.repeat(6000);
    client.send(`{"type":"event","id":"deep","room":"r","channel":"c","payload":${deep}}`);
    const err = await client.next((e) => e.type === 'error');
    expect(err).toMatchObject({ error_code: 'INVALID_FIELD', request_id: 'deep', payload: { field: 'payload' } });
    const history = await client.ok<{ messages: unknown[] }>('history', { room: 'r', channel: 'c' });
    expect(history.messages).toEqual([]);
    await client.close();
  });

  it('ignores frames a connection sends after the server closed it', async () => {
    srv = await startServer({ maxPayloadBytes: 1024 });
    const { client: peer } = await RawClient.connect(srv.url);
    const { client: vandal } = await RawClient.connect(srv.url);
    await peer.ok('join_channel', { room: 'r', channel: 'c' });
    await vandal.ok('join_channel', { room: 'r', channel: 'c' });
    // Oversize → close 4500; the frames right behind it in the same write must not be routed.
    vandal.ws.send('x'.repeat(2000));
    vandal.send({ type: 'event', room: 'r', channel: 'c', payload: { after: 'close' } });
    expect((await vandal.closed).code).toBe(4500);
    await peer.barrier();
    expect(peer.received.filter((e) => e.type === 'event')).toEqual([]);
    await peer.close();
  });

  it('answers an unparseable request target with 400, not a 500 and an error log', async () => {
    srv = await startServer();
    const port = srv.port;
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET http://[/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(response.split('\r\n')[0]).toMatch(/^HTTP\/1.1 400/);
  });

  it('refuses an exp no date can represent as invalid claims', () => {
    expect(() => identityFromClaims({ sub: 'a', exp: 1e15 })).toThrow(expect.objectContaining({ code: 'AUTH_INVALID_CLAIMS' }));
    expect(identityFromClaims({ sub: 'a', exp: 2_000_000_000 }).expiresAt).toBe(2_000_000_000_000);
  });

  it('an event pipelined behind delete_channel never reaches a re-created channel', async () => {
    srv = await startServer();
    const { client } = await RawClient.connect(srv.url);
    await client.ok('join_channel', { room: 'r', channel: 'c' });
    client.ws.send(
      JSON.stringify({ type: 'command', id: 'del', payload: { command: 'delete_channel', parameters: { room: 'r', channel: 'c' } } }) ,
    );
    client.send({ type: 'event', id: 'late', room: 'r', channel: 'c', payload: {} });
    await client.next((e) => e.type === 'command_response' && e.payload['request_id'] === 'del');
    await client.next((e) => e.type === 'error' && e.request_id === 'late');
    await client.ok('join_channel', { room: 'r', channel: 'c' });
    const history = await client.ok<{ messages: unknown[] }>('history', { room: 'r', channel: 'c' });
    expect(history.messages).toEqual([]);
    await client.close();
  });
});
