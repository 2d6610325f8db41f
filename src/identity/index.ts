/** The identity layer's entry point for the server: one Authenticator from the config. */
import type { Config } from '../config/schema.js';
import { AnonymousAuthenticator, JwtAuthenticator, type Authenticator } from './authenticator.js';
import { KeyConfigError, loadVerificationKeys, type VerificationKeys } from './keys.js';
import { TokenVerifier } from './verifier.js';

export function createAuthenticator(config: Config, clock?: () => number): Authenticator {
  if (config.auth === 'none') return new AnonymousAuthenticator();
  const keys = loadVerificationKeys(config);
  if (keys === undefined) {
    throw new KeyConfigError(
      'jwtSecret',
      'auth is jwt but no key is configured: set ARQON_JWT_SECRET, ARQON_JWT_PUBLIC_KEY_FILE, ARQON_JWKS_FILE or ARQON_JWKS_URL (or --auth none for local experiments)',
    );
  }
  return new JwtAuthenticator(createVerifier(config, keys, clock), config.maxTokenBytes);
}

/** The token verifier for loaded keys, with the config's issuer, audience, exp and tolerance rules. */
export function createVerifier(config: Config, keys: VerificationKeys, clock?: () => number): TokenVerifier {
  return new TokenVerifier(keys, {
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    requireExp: config.jwtRequireExp,
    clockToleranceS: config.jwtClockToleranceS,
    maxTokenBytes: config.maxTokenBytes,
    ...(clock ? { clock } : {}),
  });
}

export type { Authenticator } from './authenticator.js';
export type { Identity } from './identity.js';
export { KeyConfigError } from './keys.js';
