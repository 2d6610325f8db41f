/**
 * `npm run demo` end to end: the real server (JWT auth, bundled glove-sif
 * model), the four example agents, the scripted human and service, all over
 * real WebSockets. Asserts what the transcript claims actually happened.
 */
import { describe, expect, it } from 'vitest';
import { ArqonClient } from '../../src/client/index.js';
import type { Exchange } from '../../examples/ask.js';
import { DEMO_AGENTS, runDemo, type DemoResult } from '../../examples/demo.js';
import { HUMAN_QUESTIONS } from '../../examples/human.js';
import { SERVICE_INTENTS } from '../../examples/service.js';

type Replied = Extract<Exchange, { kind: 'replied' }>;

describe('npm run demo (examples/demo.ts)', () => {
  it('routes every question to the agent meant for it, replies, reports the unmatched intent, then shuts down', async () => {
    const lines: string[] = [];
    const result: DemoResult = await runDemo({ print: (line) => lines.push(line), logLevel: 'silent' });
    const exchanges = [...result.human, ...result.service];
    expect(result.human).toHaveLength(HUMAN_QUESTIONS.length);
    expect(result.service).toHaveLength(SERVICE_INTENTS.length);
    expect(exchanges.filter((e) => e.kind === 'failed')).toEqual([]);

    // Routed by meaning alone: which agent answered is the server's decision, checked here.
    const answeredBy = (text: string): string | null => {
      const e = exchanges.find((x) => x.text === text);
      return e?.kind === 'replied' ? e.reply.from : null;
    };
    expect(answeredBy(HUMAN_QUESTIONS[0]!)).toBe('translator-bot');
    expect(answeredBy(HUMAN_QUESTIONS[1]!)).toBe('weather-bot');
    expect(answeredBy(HUMAN_QUESTIONS[2]!)).toBe('calendar-bot');
    expect(answeredBy(HUMAN_QUESTIONS[3]!)).toBe('calendar-bot');
    expect(answeredBy(SERVICE_INTENTS[0]!.text)).toBe('billing-bot');
    expect(answeredBy(SERVICE_INTENTS[1]!.text)).toBe('billing-bot');

    const replied = exchanges.filter((e): e is Replied => e.kind === 'replied');
    expect(replied).toHaveLength(exchanges.length - 1);
    for (const e of replied) {
      // The routed acknowledgement names the agent that replied, with a capability it registered.
      expect(e.routedTo).not.toBeNull();
      expect(e.routedTo!.client_id).toBe(e.reply.from);
      const spec = DEMO_AGENTS.find((s) => s.id === e.reply.from)!;
      expect(spec.capabilities.map((c) => c.name)).toContain(e.routedTo!.capability);
      // The reply is the one the agent computed for exactly this intent (in_reply_to = its id).
      const handled = result.handled.get(spec.id)!.find((h) => h.intent.id === e.reply.metadata!['in_reply_to']);
      expect(handled).toBeDefined();
      expect(handled!.intent).toMatchObject({ text: e.text, from: e.from, capability: e.routedTo!.capability, score: e.routedTo!.score });
      expect(e.reply.payload).toMatchObject(handled!.reply);
      expect(lines).toContain(`      reply from ${spec.id}: ${String(handled!.reply['text'])}`);
    }
    // Every agent got at least one intent, and the service's payload reached the billing agent.
    for (const spec of DEMO_AGENTS) expect(result.handled.get(spec.id)!.length).toBeGreaterThan(0);
    expect(result.handled.get('billing-bot')!.map((h) => h.intent.payload['customer'])).toEqual(['C-1042', 'C-7731']);
    expect(new Set(result.handled.get('billing-bot')!.map((h) => h.intent.capability))).toEqual(new Set(['billing.invoices', 'billing.refunds']));

    const unmatched = exchanges.filter((e) => e.kind === 'no_match');
    expect(unmatched).toHaveLength(1);
    const miss = unmatched[0]!;
    if (miss.kind !== 'no_match') throw new Error('unreachable');
    expect(miss.text).toBe(SERVICE_INTENTS[2]!.text);
    expect(miss.reason).toBe('below_threshold');
    expect(miss.candidates.length).toBeGreaterThan(0);
    for (const c of miss.candidates) {
      expect(DEMO_AGENTS.map((s) => s.id)).toContain(c.client_id);
      expect(c.score).toBeLessThan(miss.threshold!);
    }
    const scores = miss.candidates.map((c) => c.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(lines.some((l) => l.includes('ROUTE_NO_MATCH (below_threshold'))).toBe(true);
    expect(lines.at(-1)).toBe(`${replied.length} intents routed and answered, 1 unmatched, 0 failed.`);

    // Everything was shut down: the port no longer accepts connections.
    const late = new ArqonClient({ url: result.url, reconnect: false, connectTimeoutMs: 2000 });
    await expect(late.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
  });
});
