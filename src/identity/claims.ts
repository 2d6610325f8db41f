/**
 * Verified JWT claims → Identity. The claim set is documented in
 * docs/identity.md. Missing permission claims grant nothing (fail closed).
 */
import { CLIENT_TYPES, type ClientType } from '../edge/connection.js';
import { isValidName } from '../protocol/envelope.js';
import { AuthError } from './errors.js';
import { DEFAULT_TENANT, type Identity, type Permissions } from './identity.js';
import { compilePatterns, PatternError } from './patterns.js';

export const MAX_PATTERNS = 64;
const SUB_RE = /^[\x21-\x7e]{1,128}$/; // printable ASCII, no spaces
const CAP_RE = /^[A-Za-z0-9_.:*-]{1,128}$/;

const invalid = (message: string): AuthError => new AuthError('AUTH_INVALID_CLAIMS', message);

function patternList(value: unknown, claim: string, re?: RegExp): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_PATTERNS || !value.every((p) => typeof p === 'string')) {
    throw invalid(`${claim} must be a list of at most ${MAX_PATTERNS} strings`);
  }
  if (re && !value.every((p: string) => re.test(p))) throw invalid(`${claim} has an invalid entry`);
  return value as string[];
}

function permissions(value: unknown): Permissions {
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw invalid('permissions must be an object');
  }
  const p = (value ?? {}) as Record<string, unknown>;
  try {
    return {
      publish: compilePatterns(patternList(p['publish'], 'permissions.publish')),
      subscribe: compilePatterns(patternList(p['subscribe'], 'permissions.subscribe')),
      history: compilePatterns(patternList(p['history'], 'permissions.history')),
    };
  } catch (err) {
    if (err instanceof PatternError) throw invalid(err.message);
    throw err;
  }
}

export function identityFromClaims(claims: Record<string, unknown>): Identity {
  const sub = claims['sub'];
  if (typeof sub !== 'string' || !SUB_RE.test(sub)) throw invalid('sub must be 1-128 printable characters without spaces');
  // Only an absent claim means the default tenant; an explicit null is as invalid as any other non-name.
  const tenant = claims['tenant'] === undefined ? DEFAULT_TENANT : claims['tenant'];
  if (!isValidName(tenant)) throw invalid('tenant must be 1-128 characters of A-Z a-z 0-9 _ . @ + -');
  const clientType = claims['client_type'] ?? 'human';
  if (typeof clientType !== 'string' || !(CLIENT_TYPES as readonly string[]).includes(clientType)) {
    throw invalid(`client_type must be one of ${CLIENT_TYPES.join(', ')}`);
  }
  const screenName = claims['screen_name'] ?? null;
  if (screenName !== null && (typeof screenName !== 'string' || screenName.length > 128)) {
    throw invalid('screen_name must be a string of at most 128 characters');
  }
  const admin = claims['admin'] ?? false;
  if (typeof admin !== 'boolean') throw invalid('admin must be true or false');
  const exp = claims['exp'];
  // Within what a Date can represent (jose only checked it is a number in the past/future).
  if (exp !== undefined && (typeof exp !== 'number' || !Number.isSafeInteger(exp) || exp < 0 || exp * 1000 > 8.64e15)) {
    throw invalid('exp must be a whole number of seconds a date can represent');
  }
  return {
    sub,
    tenant,
    clientType: clientType as ClientType,
    screenName,
    permissions: permissions(claims['permissions']),
    caps: patternList(claims['caps'], 'caps', CAP_RE),
    admin,
    expiresAt: typeof exp === 'number' ? exp * 1000 : null,
    anonymous: false,
  };
}
