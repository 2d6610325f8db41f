/**
 * An agent whose socket is closing (its close frame arrived, the TCP close
 * has not) is still registered but can no longer be written to: an intent
 * matched only to it gets ROUTE_NO_MATCH `agents_unavailable` at once, not a
 * `routed` acknowledgement naming nobody (which would leave request() to time out).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/protocol/envelope.js';
import { rawSocket, type RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { BILLING, SECRET, connectAs } from './semantic-fixtures.js';

let srv: TestServer;
const open: RawClient[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.ws.terminate();
  await srv.close();
});

describe('semantic routing to a closing agent', () => {
  it('answers ROUTE_NO_MATCH agents_unavailable when the only matched agent cannot be written to', async () => {
    srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
    const agent = await connectAs(srv.url, open, 'billing-bot', { client_type: 'ai-agent', caps: ['billing.*'] });
    await agent.ok('register_capabilities', { capabilities: [BILLING] });
    const user = await connectAs(srv.url, open, 'user');

    // A masked, empty close frame written under the client library, which then reads nothing more:
    // the server answers the close and waits for a TCP close that does not come.
    const socket = rawSocket(agent.ws);
    socket.pause();
    socket.write(Buffer.from([0x88, 0x80, 0, 0, 0, 0]));
    // Frames of two sockets are not ordered, so intents are sent until one is answered after the server read the
    // close; every earlier one is routed to the agent (a `routed` ack), never silently dropped.
    let err: Envelope | undefined;
    for (let attempt = 0; attempt < 50 && err === undefined; attempt++) {
      user.send({ type: 'event', id: `i${attempt}`, payload: { intent: { text: 'my card payment was declined' } } });
      const answer = await user.next((e) => (e.type === 'error' && e['request_id'] === `i${attempt}`) || (e.type === 'system' && e.payload['request_id'] === `i${attempt}`));
      if (answer.type === 'error') err = answer;
    }
    expect(err).toMatchObject({
      error_code: 'ROUTE_NO_MATCH',
      payload: { no_match_reason: 'agents_unavailable', candidates: [{ client_id: 'billing-bot', capability: 'billing.payments' }] },
    });
  });
});
