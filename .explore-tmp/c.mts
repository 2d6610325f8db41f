import { startServer } from '../test/helpers/server.js';
import { RawClient } from '../test/helpers/raw-client.js';

const srv = await startServer({ telemetryBufferSize: 16 });
const { client: stalled } = await RawClient.connect(srv.telemetryUrl);
const { client: watcher } = await RawClient.connect(srv.telemetryUrl);
const sock = (stalled.ws as any)._socket;
sock.pause();
let n = 0;
stalled.ws.on('message', () => n++);
stalled.ws.on('close', (c) => console.log('stalled closed', c));
const { client: bob } = await RawClient.connect(srv.url);
let dropped = 0;
const t = Date.now();
while (dropped === 0 && Date.now() - t < 10000) {
  const batch = Array.from({ length: 1000 }, () => bob.ok('ping'));
  await Promise.all(batch);
  bob.received.length = 0;
  const stats = watcher.received.filter((e) => e.payload.event === 'stats').at(-1);
  dropped = (stats?.payload as any)?.observers_dropped ?? 0;
  watcher.received.length = 0;
}
console.log('dropped', dropped, Date.now() - t, 'n', n, 'readable', sock.readableFlowing, sock.isPaused());
sock.resume();
console.log('after resume', sock.readableFlowing, sock.isPaused());
await new Promise((r) => setTimeout(r, 500));
console.log('n', n, stalled.received.length);
await srv.close();
process.exit(0);
