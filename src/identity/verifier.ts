/**
 * Verifies a JWT with jose and turns it into an Identity. Every jose failure
 * maps to one documented AUTH_* code; nothing else escapes.
 */
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AuthError, type AuthErrorCode } from './errors.js';
import { identityFromClaims } from './claims.js';
import type { Identity } from './identity.js';
import type { VerificationKeys } from './keys.js';

export interface VerifierOptions {
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  readonly requireExp: boolean;
  readonly clockToleranceS: number;
  readonly maxTokenBytes: number;
  /** Injectable clock (ms since the epoch). */
  readonly clock?: () => number;
}

/** Compact JWS: three base64url parts. Checked before anything is decoded. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export class TokenVerifier {
  private readonly clock: () => number;

  constructor(
    private readonly keys: VerificationKeys,
    private readonly options: VerifierOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  async verify(token: string): Promise<Identity> {
    if (token.length > this.options.maxTokenBytes) {
      throw new AuthError('AUTH_TOKEN_TOO_LARGE', `token is larger than ${this.options.maxTokenBytes} bytes`);
    }
    if (!COMPACT_JWS.test(token)) throw new AuthError('AUTH_TOKEN_MALFORMED');
    let payload: Record<string, unknown>;
    try {
      const result = await jwtVerify(token, this.keys.key as JWTVerifyGetKey, {
        algorithms: [...this.keys.algorithms],
        ...(this.options.issuer !== undefined ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience !== undefined ? { audience: this.options.audience } : {}),
        clockTolerance: this.options.clockToleranceS,
        currentDate: new Date(this.clock()),
        requiredClaims: this.options.requireExp ? ['sub', 'exp'] : ['sub'],
      });
      payload = result.payload as Record<string, unknown>;
    } catch (err) {
      throw this.mapError(err);
    }
    return identityFromClaims(payload);
  }

  private mapError(err: unknown): AuthError {
    if (err instanceof errors.JWTExpired) return new AuthError('AUTH_TOKEN_EXPIRED');
    if (err instanceof errors.JWTClaimValidationFailed) {
      const byClaim: Record<string, AuthErrorCode> = {
        nbf: 'AUTH_TOKEN_NOT_YET_VALID',
        iat: 'AUTH_TOKEN_NOT_YET_VALID',
        iss: 'AUTH_WRONG_ISSUER',
        aud: 'AUTH_WRONG_AUDIENCE',
      };
      // Only a failed check (or a missing iss/aud) is about time or audience; a claim of the wrong type is just invalid.
      const code = err.reason === 'invalid' ? 'AUTH_INVALID_CLAIMS' : (byClaim[err.claim] ?? 'AUTH_INVALID_CLAIMS');
      return new AuthError(code, code === 'AUTH_INVALID_CLAIMS' ? `claim "${err.claim}" is ${err.reason}` : undefined);
    }
    if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError('AUTH_ALGORITHM_NOT_ALLOWED');
    if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('AUTH_BAD_SIGNATURE');
    if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new AuthError('AUTH_UNKNOWN_KEY');
    if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return new AuthError('AUTH_UNAVAILABLE');
    if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
      return new AuthError('AUTH_TOKEN_MALFORMED');
    }
    // jose reports a JWKS endpoint answering non-200 (or non-JSON) with the generic JOSEError: the keys are unavailable.
    if (this.keys.kind === 'jwks-url' && err instanceof errors.JOSEError && err.code === errors.JOSEError.code) {
      return new AuthError('AUTH_UNAVAILABLE', 'the JWKS endpoint did not return a key set');
    }
    if (err instanceof errors.JOSEError) return new AuthError('AUTH_BAD_SIGNATURE');
    // Not a jose error: the remote key set could not be fetched, or the key type does not fit the token.
    return this.keys.kind === 'jwks-url' ? new AuthError('AUTH_UNAVAILABLE') : new AuthError('AUTH_BAD_SIGNATURE');
  }
}
