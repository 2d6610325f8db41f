/**
 * The baseline: the least a `ws` broadcast server of ArqonBus's shape can do.
 *
 *   connect             -> {"type":"welcome"}
 *   {"type":"join","room":R,"channel":C}  -> {"type":"joined",...}
 *   any other JSON frame with room/channel -> re-sent as-is (JSON.stringify
 *                          once per message, one shared Buffer) to every
 *                          other member of R:C
 *
 * No validation, no history, no metrics, no slow-consumer policy. Same `ws`
 * options as ArqonBus (no compression, no client tracking), 127.0.0.1 only.
 *
 * Usage: node --import tsx bench/bare-server.ts [--port 0]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

interface Frame {
  type?: unknown;
  room?: unknown;
  channel?: unknown;
}

const portArg = process.argv.indexOf('--port');
const port = portArg === -1 ? 0 : Number(process.argv[portArg + 1] ?? 0);

const channels = new Map<string, Set<WebSocket>>();
const http = createServer((_req, res) => res.writeHead(426).end('connect with a WebSocket'));
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false, maxPayload: 2 * 1024 * 1024 });
const sockets = new Set<WebSocket>();

wss.on('connection', (ws) => {
  sockets.add(ws);
  const joined = new Set<string>();
  ws.on('message', (data: Buffer) => {
    let frame: Frame;
    try {
      frame = JSON.parse(data.toString()) as Frame;
    } catch {
      return;
    }
    const key = `${String(frame.room)}:${String(frame.channel)}`;
    if (frame.type === 'join') {
      let members = channels.get(key);
      if (members === undefined) {
        members = new Set();
        channels.set(key, members);
      }
      members.add(ws);
      joined.add(key);
      ws.send(JSON.stringify({ type: 'joined', room: frame.room, channel: frame.channel }));
      return;
    }
    const members = channels.get(key);
    if (members === undefined) return;
    const bytes = Buffer.from(JSON.stringify(frame));
    for (const m of members) {
      if (m !== ws && m.readyState === 1) m.send(bytes, { binary: false });
    }
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    sockets.delete(ws);
    for (const key of joined) channels.get(key)?.delete(ws);
  });
  ws.send(JSON.stringify({ type: 'welcome' }));
});

http.listen(port, '127.0.0.1', () => {
  process.stdout.write(`bare ws broadcast listening on ws://127.0.0.1:${(http.address() as AddressInfo).port}\n`);
});

let stopping = false;
function stop(): void {
  if (stopping) process.exit(1);
  stopping = true;
  for (const ws of sockets) ws.close(1001, 'going away');
  http.close(() => process.exit(0));
  http.closeAllConnections();
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
