/**
 * Two-node benchmark: the cost of the Redis spine. Two ArqonBus nodes (child
 * processes) share one Redis; one publisher on node A sends at a fixed rate
 * (open loop) to a channel with the same number of subscribers on node A
 * (same-node delivery) and on node B (cross-node delivery). Every event goes
 * A → Redis (append script, which PUBLISHes it) → each node with members →
 * fan-out, A included: that single path is what gives every member the same
 * offset order. Both groups receive the same messages in the same run, so the
 * ratio isolates what being on another node costs. Latency is
 * publish-to-receive, measured in this process (one clock); each subscriber
 * also checks that offsets arrive strictly increasing.
 *
 *   npm run bench:two-node -- --rate 1000 --subs 10 --duration 10
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { ServerProcess } from './children.js';
import { LatencyRecorder, nowMs, type LatencySummary } from './latency.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOM = 'bench';
const CHANNEL = 'two-node';

const HELP = `Usage: npm run bench:two-node -- [flags]
  --rate N          events per second from the publisher (default 1000)
  --subs N          subscribers on each node (default 10)
  --warmup S        seconds of load before measuring (default 2)
  --duration S      measured seconds (default 10)
  --payload N       payload bytes (default 100)
  --redis-url URL   Redis to use (default ARQON_REDIS_URL or redis://127.0.0.1:6379); a random key prefix, deleted after
`;

interface Options {
  rate: number;
  subs: number;
  warmup: number;
  duration: number;
  payload: number;
  redisUrl: string;
}

function options(): Options | null {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '1000' },
      subs: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      duration: { type: 'string', default: '10' },
      payload: { type: 'string', default: '100' },
      'redis-url': { type: 'string', default: process.env['ARQON_REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const num = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
    return n;
  };
  return {
    rate: num('rate', values.rate, 1),
    subs: num('subs', values.subs, 1),
    warmup: num('warmup', values.warmup, 0),
    duration: num('duration', values.duration, 1),
    payload: num('payload', values.payload, 0),
    redisUrl: values['redis-url'],
  };
}

function startNode(name: string, redisUrl: string, prefix: string): Promise<ServerProcess> {
  return ServerProcess.start({
    name,
    args: ['--import', 'tsx', resolve(ROOT, 'src/cli/main.ts'), '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn'],
    cwd: ROOT,
    env: {
      ARQON_AUTH: 'none', ARQON_RATE_LIMIT_PER_SECOND: '1000000', ARQON_RATE_LIMIT_BURST: '1000000',
      ARQON_REDIS_URL: redisUrl, ARQON_REDIS_KEY_PREFIX: prefix, ARQON_NODE_ID: `${prefix}-${name}`,
    },
    ready: /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
}

/** A client that joined the channel; subscribers record latency while `measuring`. */
class BenchClient {
  received = 0;
  /** Events whose offset was not above the previous one's (order or duplicate violations). */
  disorder = 0;
  private lastOffset = 0;
  private constructor(readonly ws: WebSocket) {}

  static async join(url: string, onEvent?: (sentAt: number) => void): Promise<BenchClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new BenchClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { type: string; payload: Record<string, unknown>; metadata?: { offset?: number } };
        if (frame.type === 'event') {
          client.received++;
          const offset = frame.metadata?.offset ?? 0;
          if (offset <= client.lastOffset) client.disorder++;
          client.lastOffset = offset;
          onEvent?.(frame.payload['t'] as number);
        } else if (frame.type === 'command_response') {
          if (frame.payload['status'] !== 'success') reject(new Error(`join failed: ${JSON.stringify(frame.payload)}`));
          else resolve();
        }
      });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'command', id: 'join', payload: { command: 'join_channel', parameters: { room: ROOM, channel: CHANNEL } } })));
    });
    return client;
  }
}

interface Side {
  readonly label: string;
  readonly latency: LatencyRecorder;
  delivered: number;
}

async function main(): Promise<number> {
  let opts: Options | null;
  try {
    opts = options();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const guard = setTimeout(() => {
    process.stderr.write('bench: over budget, aborting\n');
    process.exit(3);
  }, (opts.warmup + opts.duration + 60) * 1000);
  guard.unref();

  const prefix = `bench2n-${randomBytes(4).toString('hex')}`;
  const admin = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  const nodes: ServerProcess[] = [];
  const clients: BenchClient[] = [];
  try {
    nodes.push(await startNode('a', opts.redisUrl, prefix), await startNode('b', opts.redisUrl, prefix));
    const [a, b] = nodes as [ServerProcess, ServerProcess];
    process.stderr.write(`bench: nodes ${a.url} (pid ${a.pid}) and ${b.url} (pid ${b.pid}), Redis ${opts.redisUrl} prefix ${prefix}\n`);

    // The measured window is by send time: a message counts when it was published inside it.
    let windowStart = Infinity;
    let windowEnd = Infinity;
    const measured = (sentAt: number): boolean => sentAt >= windowStart && sentAt < windowEnd;
    const same: Side = { label: 'same-node (A → Redis → A)', latency: new LatencyRecorder(), delivered: 0 };
    const cross: Side = { label: 'cross-node (A → Redis → B)', latency: new LatencyRecorder(), delivered: 0 };
    const recordFor = (side: Side) => (sentAt: number): void => {
      if (!measured(sentAt)) return;
      side.delivered++;
      side.latency.add(nowMs() - sentAt);
    };
    for (let i = 0; i < opts.subs; i++) {
      clients.push(await BenchClient.join(a.url, recordFor(same)));
      clients.push(await BenchClient.join(b.url, recordFor(cross)));
    }
    const publisher = await BenchClient.join(a.url);
    clients.push(publisher);

    // Open loop: a fixed schedule every 10 ms, whatever the servers do.
    const filler = 'x'.repeat(opts.payload);
    let sent = 0;
    let sentMeasured = 0;
    const perTick = opts.rate / 100;
    let due = 0;
    const ticker = setInterval(() => {
      due += perTick;
      for (; due >= 1; due--) {
        const n = ++sent;
        const t = nowMs();
        if (measured(t)) sentMeasured++;
        publisher.ws.send(JSON.stringify({ type: 'event', id: `e${n}`, room: ROOM, channel: CHANNEL, payload: { t, f: filler } }));
      }
    }, 10);
    await new Promise((r) => setTimeout(r, opts.warmup * 1000));
    const cpu0 = nodes.map((n) => n.cpuMs());
    windowStart = nowMs();
    await new Promise((r) => setTimeout(r, opts.duration * 1000));
    windowEnd = nowMs();
    const seconds = (windowEnd - windowStart) / 1000;
    // Let the window's in-flight messages land (they count; later ones do not).
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(ticker);
    const cpu = nodes.map((n, i) => n.cpuMs() - cpu0[i]!);

    const expected = sentMeasured * opts.subs;
    const row = (side: Side): string => {
      const s: LatencySummary = side.latency.summary();
      const rate = side.delivered / seconds;
      return `${side.label.padEnd(28)} ${String(side.delivered).padStart(9)} ${((100 * side.delivered) / expected).toFixed(1).padStart(6)}% ` +
        `${rate.toFixed(0).padStart(9)}/s  p50 ${s.p50.toFixed(2).padStart(7)} ms  p99 ${s.p99.toFixed(2).padStart(7)} ms  max ${s.max.toFixed(1)} ms`;
    };
    process.stdout.write(`\nTwo-node delivery: ${opts.rate} events/s from one publisher on A, ${opts.subs} subscribers on A and ${opts.subs} on B, ` +
      `${opts.duration}s measured, ${opts.payload} B payload\n`);
    process.stdout.write(`${'path'.padEnd(28)} ${'delivered'.padStart(9)} ${'of sent'.padStart(7)} ${'throughput'.padStart(11)}\n`);
    process.stdout.write(`${row(same)}\n${row(cross)}\n`);
    const s = same.latency.summary();
    const c = cross.latency.summary();
    process.stdout.write(`cross/same: throughput ${(cross.delivered / same.delivered).toFixed(3)}, p50 ${(c.p50 / s.p50).toFixed(2)}x ` +
      `(+${(c.p50 - s.p50).toFixed(2)} ms), p99 ${(c.p99 / s.p99).toFixed(2)}x (+${(c.p99 - s.p99).toFixed(2)} ms)\n`);
    const disorder = clients.reduce((n, c) => n + c.disorder, 0);
    process.stdout.write(`out-of-order or repeated offsets seen by subscribers: ${disorder}\n`);
    process.stdout.write(`server CPU over the window: A ${(cpu[0]! / 1000).toFixed(2)} s, B ${(cpu[1]! / 1000).toFixed(2)} s ` +
      `(A also reads the publisher and runs its appends; B only receives from Redis and fans out)\n`);
    return 0;
  } finally {
    for (const c of clients) c.ws.terminate();
    await Promise.all(nodes.map((n) => n.stop()));
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await admin.unlink(...keys);
    } while (cursor !== '0');
    await admin.quit();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`\nbench: failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
