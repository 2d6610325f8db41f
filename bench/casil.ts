/**
 * CASIL inspection overhead per message, all modes measured in one run on
 * the same traffic so every figure compares like with like:
 *
 * 1. engine level (the ingress step): for a realistic mix of JSON payloads
 *    of 1, 4, 16 and 64 KB, the time of decode + parse alone (no CASIL, the
 *    baseline), and of decode + parse + the CASIL gate with CASIL off,
 *    monitor, enforce (secure defaults: secrets blocked, size limit) and
 *    enforce with PII and key redaction on. Modes are interleaved message by
 *    message, so machine noise hits them alike. Reported: the gate's own time
 *    p50/p99 (the overhead), and the whole ingress step p50/p99 against the
 *    baseline's.
 * 2. worst cases: the hostile 64 KB payloads of test/casil/hostile.ts (long
 *    base64-ish runs, repeated `password=`, prefixes that start a match and
 *    never finish it, deep nesting, huge arrays, many short strings, many
 *    keys), the slowest of several inspections each, with the defaults and
 *    with every detector on, against the 100 ms default time budget.
 * 3. end to end (unless --no-e2e): a real server per mode, one publisher and
 *    one subscriber, 1 KB events one at a time; publish-to-delivery latency
 *    p50/p99 per mode against CASIL off.
 *
 *   npm run bench:casil -- [--messages 4000] [--e2e-messages 2000] [--no-e2e]
 *
 * A benchmark, not a test: nothing asserts, it prints figures (docs/casil.md).
 */
import { parseArgs } from 'node:util';
import { CasilEngine, CasilGate, type CasilSettings } from '../src/casil/index.js';
import { parseConfig } from '../src/config/parse.js';
import { decodeFrame } from '../src/edge/codec-json.js';
import { ArqonServer } from '../src/edge/server.js';
import { parseClientFrame, type EventFrame } from '../src/protocol/envelope.js';
import { TelemetryHub } from '../src/telemetry/hub.js';
import { createLogger } from '../src/telemetry/logger.js';
import { BusMetrics } from '../src/telemetry/metrics.js';
import { hostilePayloads } from '../test/casil/hostile.js';
import { RawClient } from '../test/helpers/raw-client.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '4000' },
    'e2e-messages': { type: 'string', default: '2000' },
    'no-e2e': { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);

// Deterministic pseudo-random content (mulberry32), so every run inspects the same traffic.
let seed = 0x5eed;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const WORDS = 'the order shipped today please review deploy build green latency cache node agent route channel payment invoice customer ticket update status ready queue retry'.split(' ');
const sentence = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');
const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
const uuid = (): string => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;

/** One record of a realistic business/chat payload; about 1 in 8 carries an email, 1 in 16 a phone. */
function record(i: number): Record<string, unknown> {
  return {
    id: uuid(), seq: i, sku: `SKU-${Math.floor(rand() * 1e6)}`, qty: Math.floor(rand() * 10), price: Math.round(rand() * 1e4) / 100,
    note: sentence(8 + Math.floor(rand() * 8)),
    customer: { name: pick(['Ana', 'Bo', 'Chen', 'Dee']), tier: pick(['gold', 'silver']), ...(rand() < 0.125 ? { email: `user${i}@example.com` } : {}) },
    tags: [pick(WORDS), pick(WORDS)],
    ...(rand() < 0.0625 ? { callback: '+44 20 7946 0958' } : {}),
    commit: hex(40),
  };
}

/** An event frame of about `bytes` bytes. */
function frame(bytes: number, n: number): Buffer {
  const payload: Record<string, unknown> = { text: sentence(20), author: { id: uuid(), display: 'agent-7' }, items: [] as unknown[] };
  const items = payload['items'] as unknown[];
  let text = '';
  while ((text = JSON.stringify({ type: 'event', id: `m${n}`, room: 'orders', channel: 'eu', payload, metadata: { trace: uuid() } })).length < bytes) {
    items.push(record(items.length));
  }
  return Buffer.from(text);
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;

type Variant = 'none' | 'off' | 'monitor' | 'enforce' | 'enforce+pii';
const VARIANTS: readonly Variant[] = ['none', 'off', 'monitor', 'enforce', 'enforce+pii'];

function gateFor(v: Variant): CasilGate | null {
  if (v === 'none') return null;
  const settings: CasilSettings = {
    mode: v === 'enforce+pii' ? 'enforce' : v, defaultDecision: 'block', timeBudgetMs: 20, metadata: false, maxPayloadBytes: 1 << 20,
  };
  const policy = v === 'enforce+pii' ? { scopes: [{ pii: true, redact_keys: ['password', 'ssn'], redact_paths: ['customer.card'] }] } : undefined;
  return new CasilGate(settings, policy, { metrics: new BusMetrics(), telemetry: new TelemetryHub(16, () => ({})) });
}

function engineLevel(): void {
  const sender = { tenant: 'default', clientId: 'bench' };
  const gates = new Map(VARIANTS.map((v) => [v, gateFor(v)]));
  console.log(`\n1. Ingress step per message (decode + parse + CASIL gate), ${MESSAGES} messages per size, modes interleaved`);
  console.log('   size    mode          gate p50    gate p99    ingress p50  ingress p99  p99 vs none');
  for (const size of [1024, 4096, 16384, 65536]) {
    const count = Math.max(200, Math.round(MESSAGES * (1024 / size) ** 0.5));
    const frames = Array.from({ length: count }, (_, i) => frame(size, i));
    const gateTimes = new Map(VARIANTS.map((v) => [v, new Float64Array(count)]));
    const totalTimes = new Map(VARIANTS.map((v) => [v, new Float64Array(count)]));
    const overBudget = new Map<Variant, number>();
    // Warm-up: JIT every path on this size before measuring.
    for (let i = 0; i < Math.min(200, count); i++) {
      for (const v of VARIANTS) {
        const f = parseClientFrame(decodeFrame(frames[i]!, false)) as EventFrame;
        const g = gates.get(v);
        if (g?.active) g.admit(sender, f, frames[i]!.length);
      }
    }
    for (let i = 0; i < count; i++) {
      // Rotate the order per message so no mode always runs first (cache warmth).
      for (let k = 0; k < VARIANTS.length; k++) {
        const v = VARIANTS[(i + k) % VARIANTS.length]!;
        const g = gates.get(v)!;
        const t0 = performance.now();
        const f = parseClientFrame(decodeFrame(frames[i]!, false)) as EventFrame;
        const t1 = performance.now();
        const blocked = g !== null && g.active ? g.admit(sender, f, frames[i]!.length) : null;
        if (blocked === 'CASIL_POLICY_BLOCKED_SECRET' || blocked === 'CASIL_POLICY_OVERSIZE') throw new Error(`bench traffic was blocked (${v}): ${blocked}`);
        // Over the time budget (a GC pause or a busy machine): counted, since it means fail-closed blocks.
        if (blocked !== null) overBudget.set(v, (overBudget.get(v) ?? 0) + 1);
        const t2 = performance.now();
        gateTimes.get(v)![i] = t2 - t1;
        totalTimes.get(v)![i] = t2 - t0;
      }
    }
    const baseP99 = quantile(totalTimes.get('none')!.sort(), 0.99);
    for (const v of VARIANTS) {
      const gt = gateTimes.get(v)!.sort();
      const tt = totalTimes.get(v)!.sort();
      const ratio = quantile(tt, 0.99) / baseP99;
      const over = overBudget.get(v) ?? 0;
      console.log(`   ${String(size / 1024).padStart(2)} KB   ${v.padEnd(12)}  ${us(quantile(gt, 0.5)).padStart(10)}  ${us(quantile(gt, 0.99)).padStart(10)}  ${us(quantile(tt, 0.5)).padStart(11)}  ${us(quantile(tt, 0.99)).padStart(11)}  ${ratio.toFixed(2)}x${over > 0 ? `  (${over} over the 20 ms budget)` : ''}`);
    }
  }
  console.log('   gate = the CASIL step alone (for "none" and "off": the timer around an empty step, i.e. the clock\'s own cost)');
}

function worstCases(): void {
  const settings: CasilSettings = { mode: 'enforce', defaultDecision: 'block', timeBudgetMs: 1e9, metadata: false, maxPayloadBytes: 1 << 20 };
  const engines = {
    defaults: new CasilEngine(settings, undefined),
    everything: new CasilEngine(settings, { scopes: [{ secrets: 'redact', pii: true, redact_keys: ['password'], redact_paths: ['a.a.a.p'] }] }),
  };
  const RUNS = 7;
  console.log(`\n2. Worst cases: hostile ~64 KB payloads, slowest of ${RUNS} inspections (engine alone, budget 100 ms by default)`);
  console.log('   payload                    defaults    everything on');
  let worst = 0;
  for (const [name, payload] of Object.entries(hostilePayloads())) {
    const size = Buffer.byteLength(JSON.stringify(payload));
    const times = Object.values(engines).map((engine) => {
      let max = 0;
      for (let r = 0; r < RUNS; r++) {
        const t0 = performance.now();
        engine.inspect({ tenant: 'default', room: 'orders', channel: 'eu', payload, metadata: undefined, size });
        max = Math.max(max, performance.now() - t0);
      }
      return max;
    });
    worst = Math.max(worst, ...times);
    console.log(`   ${name.padEnd(24)}  ${times.map((t) => `${t.toFixed(2)} ms`.padStart(11)).join('  ')}`);
  }
  console.log(`   worst: ${worst.toFixed(2)} ms (${(worst / 100).toFixed(2)}x the default budget)`);
}

async function endToEnd(): Promise<void> {
  const n = Number(values['e2e-messages']);
  const payload = (JSON.parse(frame(1024, 0).toString()) as { payload: Record<string, unknown> }).payload;
  console.log(`\n3. End to end: publish -> delivery latency, one real server per mode (all in this process), 1 KB events one at a time,`);
  console.log(`   modes interleaved message by message, ${n} per mode`);
  const modes = ['off', 'monitor', 'enforce'] as const;
  const rigs = [];
  for (const mode of modes) {
    const { config } = parseConfig({ overrides: { port: 0, auth: 'none', logLevel: 'silent', casilMode: mode, rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000 } });
    const server = new ArqonServer(config, { logger: createLogger('silent') });
    const { url } = await server.listen();
    const pub = (await RawClient.connect(url)).client;
    const sub = (await RawClient.connect(url)).client;
    for (const c of [pub, sub]) await c.ok('join_channel', { room: 'orders', channel: 'eu' });
    rigs.push({ mode, server, pub, sub, times: new Float64Array(n) });
  }
  for (let i = -200; i < n; i++) {
    for (let k = 0; k < rigs.length; k++) {
      const rig = rigs[(i + 300 + k) % rigs.length]!;
      const id = `${rig.mode}-${i}`;
      const t0 = performance.now();
      const got = rig.sub.next((e) => e.id === id);
      rig.pub.send({ type: 'event', id, room: 'orders', channel: 'eu', payload });
      await got;
      rig.sub.received.length = 0;
      if (i >= 0) rig.times[i] = performance.now() - t0;
    }
  }
  const off = rigs[0]!.times.sort();
  for (const rig of rigs) {
    const t = rig.times.sort();
    console.log(`   ${rig.mode.padEnd(8)} p50 ${us(quantile(t, 0.5)).padStart(9)}  p99 ${us(quantile(t, 0.99)).padStart(10)}   p50 vs off ${(quantile(t, 0.5) / quantile(off, 0.5)).toFixed(2)}x  p99 vs off ${(quantile(t, 0.99) / quantile(off, 0.99)).toFixed(2)}x`);
    await Promise.all([rig.pub.close(), rig.sub.close()]);
    await rig.server.close();
  }
}

engineLevel();
worstCases();
if (!values['no-e2e']) await endToEnd();
