/**
 * Token lifetime on a live connection: a `token_expiring` system event
 * `warningMs` before expiry, then close 4003 at expiry, unless
 * `refresh_token` replaced the identity (which reschedules).
 */
import { CLOSE_CODES } from '../protocol/codes.js';
import { systemEnvelope } from '../protocol/outbound.js';
import { encodeEnvelope } from './codec-json.js';
import type { Connection } from './connection.js';
import type { BusContext } from './context.js';

/** setTimeout's ceiling; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs `fire` at absolute time `at`, however far away; the live timer is kept in `holder.expiryTimer`. */
export function armAt(holder: { expiryTimer: NodeJS.Timeout | undefined }, at: number, now: () => number, fire: () => void): void {
  const delay = at - now();
  holder.expiryTimer =
    delay > MAX_TIMER_MS ? setTimeout(() => armAt(holder, at, now, fire), MAX_TIMER_MS) : setTimeout(fire, Math.max(0, delay));
  holder.expiryTimer.unref();
}

/**
 * `graceMs` (the verifier's clock tolerance) delays the close past `exp`, so a
 * token the verifier accepted is never closed the moment it is welcomed.
 */
export function scheduleExpiry(conn: Connection, warningMs: number, now: () => number = Date.now, graceMs = 0): void {
  clearExpiry(conn);
  const expiresAt = conn.identity.expiresAt;
  // A closed connection needs no timer (e.g. a refresh_token whose verification finished after the close).
  if (expiresAt === null || !conn.isOpen) return;
  // With less life left than the warning window, warn halfway through it: never silently skip the
  // warning (the SDK refreshes on it), and never warn at once (a refreshed short token would loop).
  const warnAt = Math.max(expiresAt - warningMs, now() + (expiresAt - now()) / 2);
  const arm = (at: number, fire: () => void): void => armAt(conn, at, now, fire);
  const closeAt = expiresAt + graceMs;
  const expire = (): void => {
    conn.expiryTimer = undefined;
    conn.close(CLOSE_CODES.TOKEN_EXPIRED.code, CLOSE_CODES.TOKEN_EXPIRED.message, true);
  };
  if (warningMs > 0 && expiresAt > now()) {
    arm(warnAt, () => {
      conn.send(
        encodeEnvelope(
          systemEnvelope({
            event: 'token_expiring',
            expires_at: new Date(expiresAt).toISOString(),
            expires_in_ms: Math.max(0, expiresAt - now()),
            hint: 'send the refresh_token command with a new token for the same sub, tenant and client_type',
          }),
        ),
      );
      arm(closeAt, expire);
    });
  } else {
    arm(closeAt, expire);
  }
}

/** Schedules with the server's settings: warning window, clock and clock tolerance. */
export function scheduleTokenExpiry(bus: BusContext, conn: Connection): void {
  scheduleExpiry(conn, bus.config.tokenExpiryWarningS * 1000, bus.clock, bus.config.jwtClockToleranceS * 1000);
}

export function clearExpiry(conn: Connection): void {
  if (conn.expiryTimer !== undefined) clearTimeout(conn.expiryTimer);
  conn.expiryTimer = undefined;
}
