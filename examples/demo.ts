/**
 * `npm run demo`: the whole picture in one process. A real server on a free
 * port (JWT auth with a secret generated for this run, the bundled glove-sif
 * model), the four example agents, then a scripted human and a service that
 * only say what they need; the bus decides who answers. Prints a transcript
 * and stops everything again.
 *
 * Everything talks over real WebSockets with the same code as the standalone
 * examples: only the tokens are minted here instead of pasted.
 */
import { generateSecret } from '../src/cli/dev-mode.js';
import { parseConfig } from '../src/config/parse.js';
import { ArqonServer } from '../src/edge/server.js';
import { mintToken, secretSigningKey, type TokenClaims } from '../src/identity/mint.js';
import { createLogger } from '../src/telemetry/logger.js';
import { startAgent, type AgentSpec, type Handled, type RunningAgent } from './agents/agent.js';
import { BILLING_AGENT } from './agents/billing.js';
import { CALENDAR_AGENT } from './agents/calendar.js';
import { TRANSLATOR_AGENT } from './agents/translator.js';
import { WEATHER_AGENT } from './agents/weather.js';
import type { Exchange } from './ask.js';
import { isMain } from './cli.js';
import { runHuman } from './human.js';
import { runService } from './service.js';
import type { Print } from './transcript.js';

export const DEMO_AGENTS: readonly AgentSpec[] = [TRANSLATOR_AGENT, WEATHER_AGENT, CALENDAR_AGENT, BILLING_AGENT];

export interface DemoOptions {
  print?: Print;
  /** Server log level (stderr); default: warnings and errors only. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export interface DemoResult {
  readonly url: string;
  /** Intents each agent answered, by agent id. */
  readonly handled: ReadonlyMap<string, readonly Handled[]>;
  readonly human: readonly Exchange[];
  readonly service: readonly Exchange[];
}

/** Runs the demo end to end; resolves once the server and every client are closed. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const { print = console.log, logLevel = 'warn' } = options;
  const secret = generateSecret();
  const { config } = parseConfig({
    overrides: { host: '127.0.0.1', port: 0, auth: 'jwt', jwtSecret: secret, semanticModel: 'glove-sif', logLevel, shutdownTimeoutMs: 1000 },
  });
  const server = new ArqonServer(config, { logger: createLogger(config.logLevel) });
  const { url } = await server.listen();
  const mint = (claims: TokenClaims): Promise<string> => mintToken(secretSigningKey(secret), claims, { ttlS: 600 });

  const agents: RunningAgent[] = [];
  const handled = new Map<string, Handled[]>();
  try {
    print(`ArqonBus demo: server on ${url} (auth jwt, HS256 secret generated for this run; model ${config.semanticModel})`);
    print('');
    print('Agents (each token may register only its own capability names, via `caps`):');
    for (const spec of DEMO_AGENTS) {
      // Least privilege: an agent needs no channel permission to receive intents and reply privately.
      const token = await mint({ sub: spec.id, client_type: 'ai-agent', screen_name: spec.id, caps: spec.capabilities.map((c) => c.name) });
      const list: Handled[] = [];
      handled.set(spec.id, list);
      const agent = await startAgent(spec, url, token, { onHandled: (h) => list.push(h) });
      agents.push(agent);
      print(`  ${agent.clientId.padEnd(15)} ${agent.registered.join(', ')}`);
    }

    print('');
    print('A human asks in plain words:');
    const lobby = { publish: ['lobby:*'], subscribe: ['lobby:*'], history: ['lobby:*'] };
    const human = await runHuman(url, await mint({ sub: 'alice', client_type: 'human', screen_name: 'Alice', permissions: lobby }), { print });

    print('');
    print('A service publishes by meaning (the last intent matches nobody):');
    // Intents need at least one publish pattern; the service has its own room.
    const serviceToken = await mint({ sub: 'billing-service', client_type: 'service', permissions: { publish: ['ops:*'] } });
    const service = await runService(url, serviceToken, { print });

    print('');
    print('Intents answered per agent:');
    for (const [id, list] of handled) {
      const caps = [...new Set(list.map((h) => h.intent.capability))].join(', ');
      print(`  ${id.padEnd(15)} ${list.length}${caps.length > 0 ? ` (${caps})` : ''}`);
    }
    const all = [...human, ...service];
    const count = (kind: Exchange['kind']): number => all.filter((e) => e.kind === kind).length;
    print(`${count('replied')} intents routed and answered, ${count('no_match')} unmatched, ${count('failed')} failed.`);
    return { url, handled, human, service };
  } finally {
    await Promise.all(agents.map((a) => a.close()));
    await server.close();
  }
}

if (isMain(import.meta.url)) {
  runDemo().then(
    (result) => {
      // A failed exchange (e.g. an agent timing out) means the demo did not show what it should.
      const failed = [...result.human, ...result.service].some((e) => e.kind === 'failed');
      process.exit(failed ? 1 : 0);
    },
    (err: unknown) => {
      process.stderr.write(`demo failed: ${String((err as Error)?.stack ?? err)}\n`);
      process.exit(1);
    },
  );
}
