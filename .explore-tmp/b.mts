import { startServer } from '../test/helpers/server.js';
import { RawClient } from '../test/helpers/raw-client.js';

const srv = await startServer({ maxBufferedBytes: 16384 });
const { client: pub } = await RawClient.connect(srv.url);
const { client: slow } = await RawClient.connect(srv.url);
const { client: healthy } = await RawClient.connect(srv.url);
for (const c of [pub, slow, healthy]) await c.ok('join_channel', { room: 'r', channel: 'c' });
(slow.ws as any)._socket.pause();
const big = 'x'.repeat(Number(process.argv[2] ?? 4000));
const batch = Number(process.argv[3] ?? 4);
let t = Date.now();
let count = 0;
let leftAt = 0;
let closedHealthy = false;
healthy.ws.on('close', (c) => { closedHealthy = true; console.log('healthy closed', c); });
healthy.ws.on('message', (d) => { const e = JSON.parse(d.toString()); if (e.type === 'event') count++; if (e.payload.event === 'member_left') leftAt = count; });
let sent = 0;
while (!leftAt && !closedHealthy && sent < 5000) {
  for (let i = 0; i < batch; i++) pub.send({ type: 'event', room: 'r', channel: 'c', payload: { i: sent++, big } });
  while (count < sent && !closedHealthy) await new Promise((r) => setImmediate(r));
}
console.log('sent', sent, 'count', count, 'leftAt', leftAt, Date.now() - t);
const m = await (await fetch(srv.httpUrl + '/metrics')).text();
console.log(m.split('\n').filter((l) => l.startsWith('arqon_slow') || l.startsWith('arqon_deliv')).join('\n'));
(slow.ws as any)._socket.resume();
console.log('slow closed', await slow.closed, Date.now() - t);
t = Date.now();
await srv.close();
console.log('close took', Date.now() - t);
process.exit(0);
