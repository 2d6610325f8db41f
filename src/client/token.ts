/**
 * Tokens: a static string or a provider the SDK calls for every (re)connect
 * and, on the server's `token_expiring` warning, to refresh the live
 * connection with the `refresh_token` command.
 */
import { CLOSE_CODES } from '../protocol/codes.js';
import { ArqonClientError } from './errors.js';

/**
 * Returns a token (a JWT) for the next connect or refresh. Called once per
 * attempt, so it should hand out a fresh, unexpired token each time (cache and
 * renew behind it as you like). A throw or rejection fails that attempt only.
 */
export type TokenProvider = () => string | Promise<string>;

/** The `token` option: a fixed token, or a provider asked again for each connect and refresh. */
export type TokenOption = string | TokenProvider;

/** Payload of the server's `token_expiring` system event. */
export interface TokenExpiring {
  /** ISO 8601 expiry of the connection's current token (server clock). */
  expires_at: string | null;
  /** Milliseconds until the server closes with 4003 unless the token is refreshed. */
  expires_in_ms: number | null;
}

/** Emitted as 'refreshed' after `refresh_token` succeeded. */
export interface TokenRefreshed {
  /** ISO 8601 expiry of the new token, or null when it has none. */
  expires_at: string | null;
}

/**
 * Calls `provider`, bounded by `timeoutMs`. Resolves a non-empty string or
 * rejects with TOKEN_UNAVAILABLE (the cause in `details.cause`).
 */
export function fetchToken(provider: TokenProvider, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const fail = (cause: string): void =>
      reject(new ArqonClientError('TOKEN_UNAVAILABLE', { message: `token provider failed: ${cause}`, details: { cause } }));
    const timer = setTimeout(() => fail(`no token within ${timeoutMs} ms`), timeoutMs);
    const settle = (value: unknown): void => {
      clearTimeout(timer);
      if (typeof value === 'string' && value.length > 0) resolve(value);
      else fail('it returned no token (a non-empty string is required)');
    };
    let result: string | Promise<string>;
    try {
      result = provider();
    } catch (err) {
      clearTimeout(timer);
      fail(describe(err));
      return;
    }
    Promise.resolve(result).then(settle, (err: unknown) => {
      clearTimeout(timer);
      fail(describe(err));
    });
  });
}

/** What a refresh needs from the client. */
export interface RefreshHost {
  command<T>(name: string, parameters: Record<string, string>): Promise<T>;
  /** False once the connection the refresh started on is gone. */
  isCurrent(): boolean;
}

/** Where TokenSession reports what a refresh did. */
export interface RefreshListener extends RefreshHost {
  refreshed(result: TokenRefreshed): void;
  failed(err: ArqonClientError): void;
}

/**
 * The token side of one logical connection: the token each socket opens
 * with, refreshing it on the server's warning, and whether a reconnect can
 * get past an expiry.
 */
export class TokenSession {
  readonly #option: TokenOption | undefined;
  readonly #connectTimeoutMs: number;
  readonly #refreshTimeoutMs: number;
  /** The token the current socket authenticated with (replaced by a successful refresh). */
  #current: string | undefined = undefined;
  /** The token of the last connection closed with 4003: a provider handing it out again fails the attempt. */
  #expired: string | undefined = undefined;
  /** The socket a refresh is running for, so one warning starts one refresh. */
  #refreshing: unknown = null;

  constructor(option: TokenOption | undefined, timeouts: { connectTimeoutMs: number; commandTimeoutMs: number }) {
    this.#option = option;
    this.#connectTimeoutMs = timeouts.connectTimeoutMs;
    this.#refreshTimeoutMs = timeouts.commandTimeoutMs;
  }

  /** The token for a new socket: the static one, or a fresh one from the provider (TOKEN_UNAVAILABLE when it fails). */
  async next(): Promise<string | undefined> {
    const option = this.#option;
    if (typeof option !== 'function') return option;
    const token = await fetchToken(option, this.#connectTimeoutMs);
    if (token === this.#expired) {
      throw new ArqonClientError('TOKEN_UNAVAILABLE', { message: 'token provider returned the token that just expired' });
    }
    return token;
  }

  /** A socket opened with `token`. */
  opened(token: string | undefined): void {
    this.#current = token;
  }

  /**
   * The socket closed with `code`. False when reconnecting cannot help: the
   * server closed for token expiry (4003) and the token is a static string.
   */
  closed(code: number): boolean {
    const token = this.#current;
    this.#current = undefined;
    if (code !== CLOSE_CODES.TOKEN_EXPIRED.code) return true;
    if (token !== undefined) this.#expired = token;
    return typeof this.#option === 'function';
  }

  /** Answers `token_expiring` for the socket `key`: with a provider, a new token goes out with `refresh_token`. */
  refresh(key: unknown, listener: RefreshListener): void {
    const provider = this.#option;
    if (typeof provider !== 'function' || this.#refreshing === key) return;
    this.#refreshing = key;
    void refreshToken(listener, provider, this.#refreshTimeoutMs, this.#current)
      .then(
        (done) => {
          if (done === null) return;
          this.#current = done.token;
          listener.refreshed(done.result);
        },
        // Nothing more to do: the server closes with 4003 at expiry and the reconnect asks the provider again.
        (err: unknown) => {
          if (listener.isCurrent()) listener.failed(refreshError(err));
        },
      )
      .finally(() => {
        if (this.#refreshing === key) this.#refreshing = null;
      });
  }
}

/**
 * Asks the provider for a new token and presents it with `refresh_token`.
 * Resolves with the token and the server's result, or null when the
 * connection went away meanwhile; rejects with the failure (provider,
 * timeout, or the server's AUTH_* code), after which the server closes the
 * connection with 4003 at expiry and the client reconnects.
 */
export async function refreshToken(
  host: RefreshHost,
  provider: TokenProvider,
  timeoutMs: number,
  current?: string,
): Promise<{ token: string; result: TokenRefreshed } | null> {
  const token = await fetchToken(provider, timeoutMs);
  if (!host.isCurrent()) return null;
  if (token === current) {
    // Presenting it again would change nothing: it still expires when the server warned it would.
    throw new ArqonClientError('TOKEN_UNAVAILABLE', { message: 'token provider returned the token in use, which is about to expire' });
  }
  const result = await host.command<unknown>('refresh_token', { token });
  if (!host.isCurrent()) return null;
  const expiresAt = typeof result === 'object' && result !== null ? (result as Record<string, unknown>)['expires_at'] : null;
  return { token, result: { expires_at: typeof expiresAt === 'string' ? expiresAt : null } };
}

/** Wraps a refresh failure so listeners can tell it from other errors (`details.phase`). */
export function refreshError(err: unknown): ArqonClientError {
  const prefix = 'token refresh failed';
  if (err instanceof ArqonClientError) {
    return new ArqonClientError(err.code, {
      message: `${prefix}: ${err.message}`,
      retryable: err.retryable,
      requestId: err.requestId,
      details: { ...err.details, phase: 'refresh' },
    });
  }
  return new ArqonClientError('TOKEN_UNAVAILABLE', { message: `${prefix}: ${describe(err)}`, details: { phase: 'refresh' } });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
