/** `refresh_token`: replace a live connection's token before it expires. */
import { can } from '../../identity/authorize.js';
import { AuthError } from '../../identity/errors.js';
import { Channel } from '../../router/channels.js';
import { scheduleTokenExpiry } from '../token-lifetime.js';
import type { CommandHandler } from './command.js';
import { optionalString } from './params.js';
import { ParameterError } from '../../protocol/errors.js';

export const refreshToken: CommandHandler = {
  name: 'refresh_token',
  summary: 'Present a new token (same sub, tenant and client_type); its permissions and expiry replace the old ones.',
  async handle(bus, conn, params) {
    const token = optionalString(params, 'token', Number.MAX_SAFE_INTEGER);
    if (token === undefined) throw new ParameterError('token', 'token is required');
    const identity = await bus.authenticator.verify(token);
    if (identity.sub !== conn.identity.sub || identity.tenant !== conn.identity.tenant) {
      throw new AuthError('AUTH_TOKEN_MISMATCH');
    }
    if (identity.clientType !== conn.identity.clientType) {
      throw new AuthError('AUTH_TOKEN_MISMATCH', 'refreshed token must keep the client_type');
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
    // After the revocations, so peers of a revoked channel only see member_left.
    if (identity.screenName !== null && identity.screenName !== conn.profile.screenName) {
      conn.profile = { ...conn.profile, screenName: identity.screenName };
      for (const m of conn.memberships) if (m instanceof Channel) bus.topic.presence(m, 'member_updated', conn);
    }
    scheduleTokenExpiry(bus, conn);
    return {
      expires_at: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString(),
      revoked_channels: revoked,
    };
  },
};
