/** Session commands: status, ping, whoami, set_metadata. */
import { assertAdmin } from '../../identity/authorize.js';
import { PermissionError } from '../../identity/errors.js';
import { ParameterError } from '../../protocol/errors.js';
import { Channel } from '../../router/channels.js';
import { CLIENT_TYPES, type ClientType } from '../connection.js';
import type { CommandHandler } from './command.js';
import { optionalObject, optionalString } from './params.js';

const MAX_METADATA_BYTES = 16 * 1024;

export const status: CommandHandler = {
  name: 'status',
  summary: "Server version, uptime and the caller's tenant counts; `scope: \"server\"` (admin) adds every tenant.",
  handle(bus, conn, params) {
    const scope = optionalString(params, 'scope', 16) ?? 'tenant';
    if (scope !== 'tenant' && scope !== 'server') throw new ParameterError('scope', 'scope must be "tenant" or "server"');
    if (scope === 'server') {
      assertAdmin(conn.identity, 'status with scope "server"');
      return {
        status: 'ok',
        version: bus.version,
        uptime_s: Math.round((Date.now() - bus.startedAt.getTime()) / 1000),
        scope,
        connections: bus.clients.size,
        channels: bus.channels.size,
        tenants: Object.fromEntries(bus.clients.tenantCounts()),
        telemetry_observers: bus.telemetry.observerCount,
      };
    }
    return {
      scope,
      status: 'ok',
      version: bus.version,
      uptime_s: Math.round((Date.now() - bus.startedAt.getTime()) / 1000),
      tenant: conn.tenant,
      connections: bus.clients.tenantConnections(conn.tenant),
      channels: bus.channels.tenantSize(conn.tenant),
      rooms: bus.channels.roomCount(conn.tenant),
    };
  },
};

export const ping: CommandHandler = {
  name: 'ping',
  summary: 'Round trip; returns the server time.',
  handle() {
    return { pong: true, server_time: new Date().toISOString() };
  },
};

export const whoami: CommandHandler = {
  name: 'whoami',
  summary: "The caller's client id, tenant, profile and joined channels.",
  handle(_bus, conn) {
    const channels = [...conn.memberships].filter((m): m is Channel => m instanceof Channel).map((c) => c.key);
    const { identity } = conn;
    return {
      ...conn.describe(),
      tenant: conn.tenant,
      channels,
      admin: identity.admin,
      anonymous: identity.anonymous,
      expires_at: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString(),
      permissions: {
        publish: identity.permissions.publish.patterns,
        subscribe: identity.permissions.subscribe.patterns,
        history: identity.permissions.history.patterns,
      },
      caps: identity.caps,
    };
  },
};

export const setMetadata: CommandHandler = {
  name: 'set_metadata',
  summary: 'Update screen_name, avatar, personality, client_type and/or free-form metadata; channels are told.',
  handle(bus, conn, params) {
    const screenName = optionalString(params, 'screen_name', 128);
    const avatar = optionalString(params, 'avatar', 2048);
    const personality = optionalString(params, 'personality', 2048);
    const clientType = optionalString(params, 'client_type', 32);
    const metadata = optionalObject(params, 'metadata');
    if (clientType !== undefined && !(CLIENT_TYPES as readonly string[]).includes(clientType)) {
      throw new ParameterError('client_type', `client_type must be one of ${CLIENT_TYPES.join(', ')}`);
    }
    if (metadata !== undefined && Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
      throw new ParameterError('metadata', `metadata must encode to at most ${MAX_METADATA_BYTES} bytes`);
    }
    if (clientType !== undefined && clientType !== conn.profile.clientType && !conn.identity.anonymous) {
      throw new PermissionError('client_type', 'client_type comes from the token and cannot be changed');
    }
    const p = conn.profile;
    conn.profile = {
      clientType: (clientType as ClientType | undefined) ?? p.clientType,
      screenName: screenName ?? p.screenName,
      avatar: avatar ?? p.avatar,
      personality: personality ?? p.personality,
      metadata: metadata ?? p.metadata,
    };
    for (const m of conn.memberships) if (m instanceof Channel) bus.topic.presence(m, 'member_updated', conn);
    return conn.describe();
  },
};
