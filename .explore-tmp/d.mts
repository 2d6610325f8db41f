import { startServer } from '../test/helpers/server.js';
import { RawClient } from '../test/helpers/raw-client.js';

for (let run = 0; run < 4; run++) {
const srv = await startServer({ telemetryBufferSize: 16 });
const { client: stalled } = await RawClient.connect(srv.telemetryUrl);
const { client: watcher } = await RawClient.connect(srv.telemetryUrl);
const sock = (stalled.ws as any)._socket;
sock.pause();
const { client: load } = await RawClient.connect(srv.url);
const ping = JSON.stringify({ type: 'command', payload: { command: 'ping' } });
let dropped = 0;
const t = Date.now();
let cmds = 0;
const hub: any = srv.server.bus.telemetry;
while (dropped === 0 && Date.now() - t < 10000) {
  for (let i = 0; i < 2000; i++) load.send(ping);
  await load.barrier();
  cmds += 2001;
  load.received.length = 0;
  const obs = [...hub.observers][0];
  const stats = watcher.received.filter((e) => e.payload.event === 'stats').at(-1);
  dropped = (stats?.payload as any)?.observers_dropped ?? 0;
  watcher.received.length = 0;
  console.log(Date.now() - t, cmds, 'buffered', obs.socket.bufferedAmount, 'q', obs.queue.length, 'qd', obs.queue.dropped);
}
console.log('RUN', run, 'dropped', dropped, Date.now() - t, cmds);
await srv.close();
}
process.exit(0);
