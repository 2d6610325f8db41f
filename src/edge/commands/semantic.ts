/** Semantic routing commands: capability declarations (ai-agent only) and discovery. */
import { PermissionError } from '../../identity/errors.js';
import { capsAllow } from '../../identity/patterns.js';
import { isJsonObject } from '../../protocol/envelope.js';
import { ParameterError } from '../../protocol/errors.js';
import { parseWireIntent, relabel, wireExplanation, wireMatch } from '../../router/semantic-wire.js';
import type { CommandHandler } from './command.js';
import { optionalInt } from './params.js';

export const DEFAULT_FIND_K = 5;
const MAX_NAMES = 256;

export const registerCapabilities: CommandHandler = {
  name: 'register_capabilities',
  summary: 'ai-agent only: declare (or replace by name) capabilities {name, description, examples?, tags?}; names must match the token caps.',
  async handle(bus, conn, params) {
    if (conn.profile.clientType !== 'ai-agent') {
      throw new PermissionError('client_type', 'only ai-agent clients declare capabilities', { client_type: conn.profile.clientType });
    }
    const capabilities = params['capabilities'];
    if (!Array.isArray(capabilities) || capabilities.length === 0) {
      throw new ParameterError('capabilities', 'capabilities must be a non-empty array');
    }
    // Permission before embedding; the full shape is validated by the router (bad shapes name their field).
    for (const [i, c] of capabilities.entries()) {
      const name = isJsonObject(c) ? c['name'] : undefined;
      if (typeof name === 'string' && !capsAllow(conn.identity.caps, name)) {
        throw new PermissionError('caps', `capability ${name} matches no caps pattern of the token`, { capability: name, index: i });
      }
    }
    let specs;
    try {
      specs = await bus.semantic.register(conn, capabilities);
    } catch (err) {
      throw relabel(err, '');
    }
    return { agent: conn.connectionId, registered: specs.map((s) => s.name) };
  },
};

export const unregisterCapabilities: CommandHandler = {
  name: 'unregister_capabilities',
  summary: "Remove named capabilities of this connection; `removed` lists those that existed.",
  handle(bus, conn, params) {
    const names = params['names'];
    if (!Array.isArray(names) || names.length === 0 || names.length > MAX_NAMES || !names.every((n) => typeof n === 'string')) {
      throw new ParameterError('names', `names must be a non-empty array of at most ${MAX_NAMES} strings`);
    }
    return { agent: conn.connectionId, removed: bus.semantic.unregister(conn, names as string[]) };
  },
};

export const findAgents: CommandHandler = {
  name: 'find_agents',
  summary: "Discovery: the k best capabilities of the tenant's agents for {text} or {vector, model}, with scores; no side effects.",
  async handle(bus, conn, params) {
    const router = await bus.semantic.router();
    // The router's own bound (semantic.maxK), so a valid-looking k never fails deeper down.
    const k = optionalInt(params, 'k', 1, router.options.maxK) ?? Math.min(DEFAULT_FIND_K, router.options.maxK);
    try {
      const intent = parseWireIntent(params, conn.tenant, '', false);
      const matches = await router.find(intent, k);
      return { agents: matches.map((m) => wireMatch(m, bus.semantic.clientIdOf)), count: matches.length };
    } catch (err) {
      throw relabel(err, '');
    }
  },
};

export const routeExplain: CommandHandler = {
  name: 'route_explain',
  summary: 'The full scoring of an intent against every candidate capability, and what routing would answer now; no side effects.',
  async handle(bus, conn, params) {
    const router = await bus.semantic.router();
    try {
      const explanation = await router.explain(parseWireIntent(params['intent'], conn.tenant, 'intent.'));
      return wireExplanation(explanation, bus.semantic.clientIdOf);
    } catch (err) {
      throw relabel(err, 'intent.');
    }
  },
};
