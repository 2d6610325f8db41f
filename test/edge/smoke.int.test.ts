import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('smoke', () => {
  let srv: TestServer;
  beforeEach(async () => {
    srv = await startServer();
  });
  afterEach(async () => {
    await srv.close();
  });

  it('routes an event between two members of a channel', async () => {
    const { client: a, welcome } = await RawClient.connect(srv.url, { screen_name: 'alice' });
    expect(welcome.payload['client_id']).toMatch(/^cl_/);
    const { client: b } = await RawClient.connect(srv.url);
    await a.ok('join_channel', { room: 'lobby', channel: 'general' });
    await b.ok('join_channel', { channel: 'lobby:general' });
    a.send({ type: 'event', id: 'm1', room: 'lobby', channel: 'general', payload: { text: 'hi' } });
    const got = await b.next((e) => e.type === 'event');
    expect(got).toMatchObject({ id: 'm1', from: a.clientId, payload: { text: 'hi' }, metadata: { offset: 1 } });
    await a.barrier();
    expect(a.received.filter((e) => e.type === 'event')).toEqual([]);
    await a.close();
    await b.close();
  });
});
