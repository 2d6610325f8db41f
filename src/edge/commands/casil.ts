/** CASIL administration: reload the policy at run time (validated first) and read what is in force. */
import { assertAdmin } from '../../identity/authorize.js';
import { ArqonError, ParameterError } from '../../protocol/errors.js';
import type { CommandHandler } from './command.js';

export const casilReload: CommandHandler = {
  name: 'casil_reload',
  summary: 'Admin: replace the CASIL policy with parameters.policy (the config file casil section format; null: back to the configured one), on every node with the Redis spine. Validated first: an invalid policy is refused with CASIL_POLICY_INVALID and the one in force stays.',
  async handle(bus, conn, params) {
    assertAdmin(conn.identity, 'casil_reload');
    if (!Object.hasOwn(params, 'policy')) throw new ParameterError('policy', 'policy is required: an object like the config file casil section, or null for the configured policy');
    // null drops the runtime policy: back to the configured one (the config file's casil section, else the built-in default).
    const policy = params['policy'];
    const result = policy === null ? bus.casil.engine.reset() : bus.casil.engine.reload(policy);
    if (!result.ok) throw new ArqonError('CASIL_POLICY_INVALID', result.error);
    bus.logger.info('casil policy reloaded', { version: result.version, by: conn.clientId });
    // With the spine every node applies it too (and nodes starting later): applied here whatever Redis says.
    let shared = false;
    try {
      shared = (await bus.spine?.casilPolicyChanged(policy)) ?? false;
    } catch (err) {
      bus.logger.warn('casil policy not shared with the other nodes (applied on this node only)', { error: String(err) });
    }
    return { reloaded: true, version: result.version, shared, ...bus.casil.engine.describe() };
  },
};

export const casilStatus: CommandHandler = {
  name: 'casil_status',
  summary: 'Admin: the CASIL settings and policy in force (mode, default decision, time budget, scopes, tenants, version).',
  handle(bus, conn) {
    assertAdmin(conn.identity, 'casil_status');
    const { settings } = bus.casil.engine;
    return {
      mode: settings.mode,
      default_decision: settings.defaultDecision,
      time_budget_ms: settings.timeBudgetMs,
      metadata: settings.metadata,
      max_payload_bytes: settings.maxPayloadBytes,
      policy: bus.casil.engine.source ?? null,
      ...bus.casil.engine.describe(),
    };
  },
};
