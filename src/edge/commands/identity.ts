/** `refresh_token`: replace a live connection's token before it expires. */
import { can } from '../../identity/authorize.js';
import { AuthError } from '../../identity/errors.js';
import { Channel } from '../../router/channels.js';
import { scheduleExpiry } from '../token-lifetime.js';
import type { CommandHandler } from './command.js';
import { optionalString } from './params.js';
import { ParameterError } from '../../protocol/errors.js';

export const refreshToken: CommandHandler = {
  name: 'refresh_token',
  summary: 'Present a new token for the same sub and tenant; its permissions and expiry replace the old ones.',
  async handle(bus, conn, params) {
    const token = optionalString(params, 'token', Number.MAX_SAFE_INTEGER);
    if (token === undefined) throw new ParameterError('token', 'token is required');
    const identity = await bus.authenticator.verify(token);
    if (identity.sub !== conn.identity.sub || identity.tenant !== conn.identity.tenant) {
      throw new AuthError('AUTH_TOKEN_MISMATCH');
    }
    conn.identity = identity;
    // The new permissions govern what is already joined too: a channel the new token may not
    // subscribe to is left (its members get member_left), so no further event reaches this connection.
    const revoked: string[] = [];
    for (const m of conn.memberships) {
      if (!(m instanceof Channel) || can(identity, 'subscribe', m.room, m.name)) continue;
      bus.topic.leave(conn, m);
      revoked.push(m.key);
      if (bus.telemetry.active) {
        bus.telemetry.emit({ event: 'leave', tenant: conn.tenant, client_id: conn.clientId, room: m.room, channel: m.name });
      }
    }
    scheduleExpiry(conn, bus.config.tokenExpiryWarningS * 1000);
    return {
      expires_at: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString(),
      revoked_channels: revoked,
    };
  },
};
