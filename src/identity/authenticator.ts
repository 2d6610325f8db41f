/**
 * Authentication at the HTTP upgrade, before a socket exists. Two
 * implementations of one interface: JWT (default, fail closed) and the
 * anonymous `--auth none` mode for local experiments.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClientType } from '../edge/connection.js';
import { AuthError } from './errors.js';
import { anonymousIdentity, type Identity } from './identity.js';
import type { TokenVerifier } from './verifier.js';

export interface Authenticator {
  readonly mode: 'jwt' | 'none';
  /** Resolves the identity of an upgrade request or throws AuthError. */
  authenticate(req: IncomingMessage, url: URL, requested: { clientType: ClientType; screenName: string | null }): Promise<Identity>;
  /** Verifies a token presented later (refresh_token). */
  verify(token: string): Promise<Identity>;
}

/** `Authorization: Bearer …` first, then the `token` query parameter (browsers cannot set headers). */
export function extractToken(req: IncomingMessage, url: URL, maxBytes: number): string {
  const header = req.headers.authorization;
  let token: string | null = null;
  if (header !== undefined) {
    if (header.length > maxBytes + 16) throw new AuthError('AUTH_TOKEN_TOO_LARGE', `token is larger than ${maxBytes} bytes`);
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (m === null) throw new AuthError('AUTH_TOKEN_MALFORMED', 'Authorization header must be "Bearer <token>"');
    token = m[1]!;
  } else {
    token = url.searchParams.get('token');
  }
  if (token === null || token === '') throw new AuthError('AUTH_TOKEN_MISSING');
  if (token.length > maxBytes) throw new AuthError('AUTH_TOKEN_TOO_LARGE', `token is larger than ${maxBytes} bytes`);
  return token;
}

export class JwtAuthenticator implements Authenticator {
  readonly mode = 'jwt';
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly maxTokenBytes: number,
  ) {}

  authenticate(req: IncomingMessage, url: URL): Promise<Identity> {
    return this.verifier.verify(extractToken(req, url, this.maxTokenBytes));
  }

  verify(token: string): Promise<Identity> {
    return this.verifier.verify(token);
  }
}

export class AnonymousAuthenticator implements Authenticator {
  readonly mode = 'none';

  async authenticate(_req: IncomingMessage, _url: URL, requested: { clientType: ClientType; screenName: string | null }): Promise<Identity> {
    return anonymousIdentity(`cl_${randomBytes(9).toString('base64url')}`, requested.clientType, requested.screenName);
  }

  async verify(): Promise<Identity> {
    throw new AuthError('AUTH_INVALID_CLAIMS', 'the server runs with --auth none: there is no token to refresh');
  }
}
