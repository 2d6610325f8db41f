/**
 * Token lifetime on a live connection: a `token_expiring` system event
 * `warningMs` before expiry, then close 4003 at expiry, unless
 * `refresh_token` replaced the identity (which reschedules).
 */
import { CLOSE_CODES } from '../protocol/codes.js';
import { systemEnvelope } from '../protocol/outbound.js';
import { encodeEnvelope } from './codec-json.js';
import type { Connection } from './connection.js';

/** setTimeout's ceiling; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function scheduleExpiry(conn: Connection, warningMs: number, now: () => number = Date.now): void {
  clearExpiry(conn);
  const expiresAt = conn.identity.expiresAt;
  // A closed connection needs no timer (e.g. a refresh_token whose verification finished after the close).
  if (expiresAt === null || !conn.isOpen) return;
  // With less life left than the warning window, warn halfway through it: never silently skip the
  // warning (the SDK refreshes on it), and never warn at once (a refreshed short token would loop).
  const warnAt = Math.max(expiresAt - warningMs, now() + (expiresAt - now()) / 2);
  const arm = (at: number, fire: () => void): void => {
    const delay = at - now();
    if (delay > MAX_TIMER_MS) {
      conn.expiryTimer = setTimeout(() => arm(at, fire), MAX_TIMER_MS);
    } else {
      conn.expiryTimer = setTimeout(fire, Math.max(0, delay));
    }
    conn.expiryTimer.unref();
  };
  const expire = (): void => {
    conn.expiryTimer = undefined;
    conn.close(CLOSE_CODES.TOKEN_EXPIRED.code, CLOSE_CODES.TOKEN_EXPIRED.message);
  };
  if (warningMs > 0 && expiresAt > now()) {
    arm(warnAt, () => {
      conn.send(
        encodeEnvelope(
          systemEnvelope({
            event: 'token_expiring',
            expires_at: new Date(expiresAt).toISOString(),
            expires_in_ms: Math.max(0, expiresAt - now()),
            hint: 'send the refresh_token command with a new token for the same sub and tenant',
          }),
        ),
      );
      arm(expiresAt, expire);
    });
  } else {
    arm(expiresAt, expire);
  }
}

export function clearExpiry(conn: Connection): void {
  if (conn.expiryTimer !== undefined) clearTimeout(conn.expiryTimer);
  conn.expiryTimer = undefined;
}
