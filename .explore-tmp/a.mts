import WebSocket from 'ws';
import { startServer } from '/work/main/test/helpers/server.js';
import { RawClient } from '/work/main/test/helpers/raw-client.js';

const srv = await startServer({ telemetryBufferSize: 10 });
const obs = new WebSocket(srv.telemetryUrl);
await new Promise((r) => obs.once('message', r));
(obs as any)._socket.pause();
const { client: a } = await RawClient.connect(srv.url);
let t = Date.now();
for (let round = 0; round < 5; round++) {
  const ps = [];
  for (let i = 0; i < 5000; i++) ps.push(a.ok('ping'));
  await Promise.all(ps);
  a.received.length = 0;
}
console.log('pings took', Date.now() - t);
const obs2 = new WebSocket(srv.telemetryUrl);
const stats = await new Promise<any>((r) => obs2.on('message', (d) => { const e = JSON.parse(d.toString()); if (e.payload.event === 'stats') r(e); }));
console.log(JSON.stringify(stats.payload));
t = Date.now();
await srv.close();
console.log('close took', Date.now() - t);
process.exit(0);
