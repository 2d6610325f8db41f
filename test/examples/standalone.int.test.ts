/**
 * The examples run on their own, as examples/README.md tells: each is started
 * as its own node process (`node --import tsx examples/…`) against a real
 * server with real JWTs, and talked to over real WebSockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ArqonClient } from '../../src/client/index.js';
import { mintToken, secretSigningKey, type TokenClaims } from '../../src/identity/mint.js';
import { startAgent } from '../../examples/agents/agent.js';
import { forecast, WEATHER_AGENT } from '../../examples/agents/weather.js';
import { DEMO_AGENTS } from '../../examples/demo.js';
import { HUMAN_QUESTIONS } from '../../examples/human.js';
import { startServer } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'examples-standalone-secret-0123456789abcdef';
const mint = (claims: TokenClaims): Promise<string> => mintToken(secretSigningKey(SECRET), claims, { ttlS: 600 });

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Script {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves once stdout matches (the child's own readiness line: no sleeping). */
  readonly waitFor: (pattern: RegExp) => Promise<void>;
  readonly exited: Promise<number | null>;
}

function run(script: string, args: string[], env: Record<string, string> = {}): Script {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(out)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern) => new Promise<void>((resolve) => (pattern.test(out) ? resolve() : waiters.push({ pattern, resolve }))),
  };
}

async function jwtServer(): Promise<string> {
  const srv = await startServer({ auth: 'jwt', jwtSecret: SECRET });
  cleanups.push(() => srv.close());
  return srv.url;
}

describe('examples run on their own', () => {
  it('examples/agents/weather.ts registers, answers a routed intent, and stops cleanly on SIGTERM', async () => {
    const url = await jwtServer();
    const agentToken = await mint({ sub: 'weather-bot', client_type: 'ai-agent', caps: ['weather.*'] });
    const agent = run('examples/agents/weather.ts', ['--url', url, '--token', agentToken]);
    await agent.waitFor(/weather-bot registered weather\.forecast/);

    const user = new ArqonClient({ url, token: await mint({ sub: 'ana', permissions: { publish: ['lobby:*'] } }), reconnect: false });
    cleanups.push(() => user.close());
    await user.connect();
    const reply = await user.request({ text: 'will it rain in Oslo tomorrow?' }, {}, { timeoutMs: 10_000 });
    const expected = forecast('Oslo');
    expect(reply).toMatchObject({ from: 'weather-bot', payload: { city: 'Oslo', day: 'tomorrow', ...expected } });
    await agent.waitFor(/ana → weather\.forecast: "will it rain in Oslo tomorrow\?" ← Oslo tomorrow/);

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('examples/human.ts (token from ARQON_TOKEN) prints where each question went and the reply, then exits 0', async () => {
    const url = await jwtServer();
    for (const spec of DEMO_AGENTS) {
      const token = await mint({ sub: spec.id, client_type: 'ai-agent', caps: spec.capabilities.map((c) => c.name) });
      const agent = await startAgent(spec, url, token);
      cleanups.push(() => agent.close());
    }
    const token = await mint({ sub: 'alice', permissions: { publish: ['lobby:*'], subscribe: ['lobby:*'] } });
    const human = run('examples/human.ts', ['--url', url], { ARQON_TOKEN: token });
    expect(await human.exited).toBe(0);
    const out = human.output();
    expect(out).toContain('alice (human) joined lobby:chat');
    expect(out).toContain(`alice → intent "${HUMAN_QUESTIONS[0]!}"\n      routed to translator-bot · translate.phrase · score `);
    expect(out).toContain('reply from translator-bot: "good morning" in Spanish is "buenos días".');
    expect(out).toContain(`reply from weather-bot: ${String(WEATHER_AGENT.answer({ id: 'x', from: 'alice', text: HUMAN_QUESTIONS[1]!, capability: 'weather.forecast', score: null, payload: {} }).text)}`);
    expect(out).toMatch(/reply from calendar-bot: Booked "Meeting with Sam" on Tuesday at 10:00/);
  });
});
