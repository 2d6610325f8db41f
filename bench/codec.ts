/**
 * Codec benchmark: the v1 JSON text codec against the binary Protobuf
 * subprotocol (arqonbus.v1.proto), in two parts.
 *
 * 1. In process: encode/decode cost and bytes for typical envelopes, JSON vs
 *    proto with JSON-text payload fields (what ships) vs proto with
 *    google.protobuf.Struct-style payloads (the alternative), plus the
 *    server's per-fan-out transcoding cost (JSON bytes → proto).
 * 2. End to end: one ArqonBus child process, one publisher, N subscribers that
 *    are all JSON, all proto, or half and half; delivered messages, bytes per
 *    delivery, server CPU per delivery, latency. Figures are printed with
 *    ratios against the JSON run measured in the same invocation.
 *
 *   npx tsx bench/codec.ts [--subs 200] [--rate 200] [--duration 4] [--payload 256] [--only micro|e2e]
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import WebSocket from 'ws';
import { transcodeToProto } from '../src/edge/codec-proto.js';
import { decodeEnvelopeObject, encodeEnvelopeObject } from '../src/protocol/proto-codec.js';
import { PROTO_TEXT } from '../src/protocol/proto-schema.js';
import { ServerProcess } from './children.js';
import { LatencyRecorder, nowMs, readSendTime } from './latency.js';
import { defaultOptions } from './options.js';
import { arqonTarget } from './targets.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Opts { subs: number; rate: number; duration: number; payload: number; only: 'all' | 'micro' | 'e2e' }

function parseArgs(argv: string[]): Opts {
  const o: Opts = { subs: 200, rate: 200, duration: 4, payload: 256, only: 'all' };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!.replace(/^--/, '');
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`--${flag} needs a value`);
    if (flag === 'only') {
      if (value !== 'micro' && value !== 'e2e') throw new Error('--only must be micro or e2e');
      o.only = value;
    } else if (flag === 'subs' || flag === 'rate' || flag === 'duration' || flag === 'payload') {
      const n = Number(value);
      if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${flag} must be a positive number`);
      o[flag] = n;
    } else throw new Error(`unknown flag --${flag}`);
  }
  return o;
}

// ---- part 1: in-process codec costs --------------------------------------------

/** The Struct alternative: payload and metadata as google.protobuf.Struct (same field numbers otherwise). */
const STRUCT_TEXT = `syntax = "proto3";
package bench;
message Struct { map<string, Value> fields = 1; }
message Value {
  oneof kind { int32 null_value = 1; double number_value = 2; string string_value = 3; bool bool_value = 4; Struct struct_value = 5; ListValue list_value = 6; }
}
message ListValue { repeated Value values = 1; }
message Envelope {
  optional string version = 1; optional string id = 2; optional string type = 3; optional string room = 4;
  optional string channel = 5; optional string from = 6; optional string timestamp = 7;
  Struct payload = 8; Struct metadata = 9;
}`;
const StructEnvelope = protobuf.parse(STRUCT_TEXT, { keepCase: true }).root.lookupType('bench.Envelope');
type Obj = Record<string, unknown>;
const toValue = (v: unknown): Obj => {
  if (v === null) return { null_value: 0 };
  if (typeof v === 'number') return { number_value: v };
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (Array.isArray(v)) return { list_value: { values: v.map(toValue) } };
  return { struct_value: toStruct(v as Obj) };
};
const toStruct = (o: Obj): Obj => {
  const fields: Obj = {};
  for (const k of Object.keys(o)) fields[k] = toValue(o[k]);
  return { fields };
};
const fromValue = (v: Obj): unknown => {
  switch (v['kind']) {
    case 'number_value': return v['number_value'];
    case 'string_value': return v['string_value'];
    case 'bool_value': return v['bool_value'];
    case 'struct_value': return fromStruct(v['struct_value'] as Obj);
    case 'list_value': return ((v['list_value'] as Obj)['values'] as Obj[]).map(fromValue);
    default: return null;
  }
};
const fromStruct = (s: Obj): Obj => {
  const out: Obj = {};
  const fields = s['fields'] as Record<string, Obj>;
  for (const k of Object.keys(fields)) out[k] = fromValue(fields[k]!);
  return out;
};
function structEncode(env: Obj): Uint8Array {
  const { payload, metadata, ...rest } = env;
  const msg: Obj = {};
  for (const [k, v] of Object.entries(rest)) if (typeof v === 'string') msg[k] = v;
  msg['payload'] = toStruct(payload as Obj);
  if (metadata !== undefined) msg['metadata'] = toStruct(metadata as Obj);
  return StructEnvelope.encode(msg).finish();
}
function structDecode(bytes: Uint8Array): Obj {
  const m = StructEnvelope.toObject(StructEnvelope.decode(bytes), { oneofs: true }) as Obj;
  const out: Obj = { ...m };
  out['payload'] = m['payload'] ? fromStruct(m['payload'] as Obj) : {};
  if (m['metadata']) out['metadata'] = fromStruct(m['metadata'] as Obj);
  return out;
}

function envelopes(payloadBytes: number): Record<string, Obj> {
  const base = { version: '1.0', id: 'arq_k2j3h4_1f', type: 'event', room: 'lobby', channel: 'general', from: 'agent-1', timestamp: '2026-11-26T08:13:22.123Z' };
  return {
    'chat (small)': { ...base, payload: { text: 'hello there' }, metadata: { offset: 1234, epoch: '6823f64909bbd411' } },
    [`padded (${payloadBytes} B)`]: { ...base, payload: { t: 1764144802123.456, pad: 'x'.repeat(payloadBytes) }, metadata: { offset: 1234, epoch: '6823f64909bbd411' } },
    'structured': {
      ...base,
      payload: { order: { id: 98765, lines: [{ sku: 'A-1', qty: 2, price: 19.99 }, { sku: 'B-7', qty: 1, price: 5.5 }], paid: true, note: null }, tags: ['x', 'y'] },
      metadata: { offset: 1234, epoch: '6823f64909bbd411', trace: 'abc123' },
    },
    'numeric (64 floats)': { ...base, payload: { v: Array.from({ length: 64 }, (_, i) => Math.sin(i) * 1000) }, metadata: { offset: 1234, epoch: 'e' } },
  };
}

let sink = 0;
/** ns per call: runs `fn` for ~`ms` (after a short warm-up), best of 3. */
function nsPerOp(fn: () => unknown, ms = 250): number {
  for (let i = 0; i < 2000; i++) fn();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(ms * 1e6);
    let now = start;
    while (now < end) {
      for (let i = 0; i < 200; i++) {
        const x = fn();
        if (x === undefined) sink++;
      }
      n += 200;
      now = process.hrtime.bigint();
    }
    best = Math.min(best, Number(now - start) / n);
  }
  return best;
}

function micro(opts: Opts): void {
  console.log('\n## Codec cost per envelope (ns/op, best of 3; bytes on the wire)\n');
  console.log('| envelope | JSON B | proto B | Struct B | JSON enc | proto enc | Struct enc | JSON dec | proto dec | Struct dec | transcode (JSON bytes→proto) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, env] of Object.entries(envelopes(opts.payload))) {
    const json = Buffer.from(JSON.stringify(env));
    const proto = encodeEnvelopeObject(env);
    const struct = structEncode(env);
    // Check all three decode to the same thing before timing them.
    const same = JSON.stringify(decodeEnvelopeObject(proto)['payload']) === JSON.stringify(env['payload'])
      && JSON.stringify(structDecode(struct)['payload']) === JSON.stringify(env['payload']);
    if (!same) throw new Error(`${name}: a codec did not round-trip`);
    // Distinct Buffer objects, so transcodeToProto's one-entry cache never hits (it would for one fan-out).
    const copies = Array.from({ length: 64 }, () => Buffer.from(json));
    let c = 0;
    const row = [
      nsPerOp(() => Buffer.from(JSON.stringify(env))),
      nsPerOp(() => encodeEnvelopeObject(env)),
      nsPerOp(() => structEncode(env)),
      nsPerOp(() => JSON.parse(json.toString('utf8'))),
      nsPerOp(() => decodeEnvelopeObject(proto)),
      nsPerOp(() => structDecode(struct)),
      nsPerOp(() => transcodeToProto(copies[c++ & 63]!)),
    ];
    console.log(`| ${name} | ${json.length} | ${proto.length} | ${struct.length} | ${row.map((ns) => ns.toFixed(0)).join(' | ')} |`);
  }
  console.log('\nproto = what ships (payload/metadata as JSON text fields); Struct = google.protobuf.Struct-style payload, for comparison.');
}

// ---- part 2: end-to-end fan-out ---------------------------------------------------

const PROTO_SUB = 'arqonbus.v1.proto';
const encodeFrame = (proto: boolean, frame: Obj): string | Uint8Array => (proto ? encodeEnvelopeObject(frame) : JSON.stringify(frame));
const decodeFrameOf = (proto: boolean, data: Buffer): Obj => (proto ? decodeEnvelopeObject(data) : (JSON.parse(data.toString()) as Obj));

interface Sub { ws: WebSocket; proto: boolean }

interface E2EStats { received: number; bytes: number; latency: LatencyRecorder; windowStart: number; windowEnd: number }

async function connect(url: string, proto: boolean, stats: E2EStats | null, id: string): Promise<Sub> {
  const ws = new WebSocket(url, proto ? [PROTO_SUB] : [], { perMessageDeflate: false });
  let joined: (() => void) | undefined;
  const welcomed = new Promise<void>((resolveWelcome, reject) => {
    ws.on('error', reject);
    ws.on('message', (data: Buffer) => {
      const t = readSendTime(data);
      if (t === t) {
        if (stats !== null && t >= stats.windowStart && t < stats.windowEnd) {
          stats.received++;
          stats.bytes += data.length;
          stats.latency.add(nowMs() - t);
        }
        return;
      }
      const f = decodeFrameOf(proto, data);
      const payload = (f['payload'] ?? {}) as Obj;
      if (f['type'] === 'system' && payload['event'] === 'welcome') resolveWelcome();
      else if (f['type'] === 'command_response' && payload['request_id'] === id) joined?.();
    });
  });
  await welcomed;
  await new Promise<void>((r) => {
    joined = r;
    ws.send(encodeFrame(proto, { type: 'command', id, payload: { command: 'join_channel', parameters: { room: 'bench', channel: 'codec' } } }));
  });
  return { ws, proto };
}

async function fanout(server: ServerProcess, opts: Opts, protoShare: number, label: string): Promise<Obj> {
  const stats: E2EStats = { received: 0, bytes: 0, latency: new LatencyRecorder(), windowStart: Infinity, windowEnd: Infinity };
  const subs: Sub[] = [];
  for (let i = 0; i < opts.subs; i++) subs.push(await connect(server.url, i < opts.subs * protoShare, stats, `j${i}`));
  const pub = await connect(server.url, false, null, 'pub');
  const pad = 'x'.repeat(opts.payload);
  const warmupMs = 1000;
  const start = nowMs();
  stats.windowStart = start + warmupMs;
  stats.windowEnd = stats.windowStart + opts.duration * 1000;
  let cpu0 = 0;
  let cpu1 = 0;
  let sent = 0;
  await new Promise<void>((done) => {
    const interval = 1000 / opts.rate;
    let next = start;
    const tick = (): void => {
      const now = nowMs();
      if (cpu0 === 0 && now >= stats.windowStart) cpu0 = server.cpuMs();
      if (now >= stats.windowEnd) {
        cpu1 = server.cpuMs();
        return done();
      }
      while (next <= now) {
        pub.ws.send(`{"type":"event","room":"bench","channel":"codec","payload":{"t":${nowMs()},"pad":"${pad}"}}`);
        if (next >= stats.windowStart && next < stats.windowEnd) sent++;
        next += interval;
      }
      setTimeout(tick, Math.max(0, next - nowMs()));
    };
    tick();
  });
  // Drain: deliveries of the window's messages still in flight.
  await new Promise((r) => setTimeout(r, 1000));
  for (const s of [...subs, pub]) s.ws.terminate();
  await new Promise((r) => setTimeout(r, 300));
  const lat = stats.latency.summary();
  return {
    label,
    sent,
    delivered: stats.received,
    expected: sent * opts.subs,
    bytesPerDelivery: stats.received === 0 ? NaN : stats.bytes / stats.received,
    serverCpuUsPerDelivery: stats.received === 0 ? NaN : ((cpu1 - cpu0) * 1000) / stats.received,
    serverCpuPct: ((cpu1 - cpu0) / (opts.duration * 1000)) * 100,
    p50: lat.p50,
    p99: lat.p99,
  };
}

async function e2e(opts: Opts): Promise<void> {
  const server = await ServerProcess.start({
    name: 'ArqonBus',
    args: arqonTarget.nodeArgs(ROOT, { ...defaultOptions(), arqonArgs: ['--history-max-messages', '1000'] }),
    cwd: ROOT,
    env: arqonTarget.env,
    ready: arqonTarget.ready,
    timeoutMs: 30_000,
  });
  try {
    // A discarded half/half round first, so neither codec's measured run pays for the server's JIT warm-up.
    process.stderr.write('bench: warm-up (discarded)\n');
    await fanout(server, { ...opts, duration: 2 }, 0.5, 'warm-up');
    const rows: Obj[] = [];
    for (const [share, label] of [[0, 'all JSON'], [1, 'all proto'], [0.5, 'half/half'], [0, 'all JSON (again)']] as const) {
      process.stderr.write(`bench: ${label} (${opts.subs} subs, ${opts.rate} msg/s, ${opts.duration}s)\n`);
      rows.push(await fanout(server, opts, share, label));
    }
    const base = rows[0]!;
    console.log(`\n## End-to-end fan-out: 1 JSON publisher, ${opts.subs} subscribers, ${opts.rate} msg/s, ${opts.payload} B pad, ${opts.duration}s window\n`);
    console.log('| subscribers | sent | delivered / expected | B per delivery | server CPU µs per delivery | × JSON | server CPU % | p50 ms | p99 ms |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const ratio = (r['serverCpuUsPerDelivery'] as number) / (base['serverCpuUsPerDelivery'] as number);
      console.log(`| ${String(r['label'])} | ${String(r['sent'])} | ${String(r['delivered'])} / ${String(r['expected'])} | ${(r['bytesPerDelivery'] as number).toFixed(1)} | ${(r['serverCpuUsPerDelivery'] as number).toFixed(2)} | ${ratio.toFixed(2)} | ${(r['serverCpuPct'] as number).toFixed(0)} | ${(r['p50'] as number).toFixed(2)} | ${(r['p99'] as number).toFixed(2)} |`);
    }
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.only !== 'e2e') micro(opts);
  if (opts.only !== 'micro') await e2e(opts);
  if (sink < 0) console.log(sink);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
