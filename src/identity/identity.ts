/**
 * The Identity the rest of the server sees: who a connection is, in which
 * tenant, and what it may do. Built from verified JWT claims (or the
 * anonymous identity under `--auth none`); jose types never leave src/identity.
 */
import type { ClientType } from '../edge/connection.js';
import { compilePatterns, type PatternSet } from './patterns.js';

export const DEFAULT_TENANT = 'default';

export interface Permissions {
  readonly publish: PatternSet;
  readonly subscribe: PatternSet;
  readonly history: PatternSet;
}

export type ChannelAction = keyof Permissions;

export interface Identity {
  /** The token's `sub`: the client id other clients address, unique per tenant. */
  readonly sub: string;
  readonly tenant: string;
  readonly clientType: ClientType;
  readonly screenName: string | null;
  readonly permissions: Permissions;
  /** Capability-name patterns an agent may declare (semantic routing). */
  readonly caps: readonly string[];
  readonly admin: boolean;
  /** Token expiry in ms since the epoch; null when the token has none (or under --auth none). */
  readonly expiresAt: number | null;
  /** True under `--auth none`. */
  readonly anonymous: boolean;
}

const EVERYTHING = compilePatterns(['*']);

/** Under `--auth none` (local experiments only): tenant `default`, every permission, admin included. */
export function anonymousIdentity(sub: string, clientType: ClientType, screenName: string | null): Identity {
  return {
    sub,
    tenant: DEFAULT_TENANT,
    clientType,
    screenName,
    permissions: { publish: EVERYTHING, subscribe: EVERYTHING, history: EVERYTHING },
    caps: ['*'],
    admin: true,
    expiresAt: null,
    anonymous: true,
  };
}
