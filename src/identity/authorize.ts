/** Permission checks, called on every hop. Patterns only ever match inside the identity's own tenant. */
import { PermissionError } from './errors.js';
import type { ChannelAction, Identity } from './identity.js';

export function can(identity: Identity, action: ChannelAction, room: string, channel: string): boolean {
  return identity.permissions[action].matches(room, channel);
}

export function assertCan(identity: Identity, action: ChannelAction, room: string, channel: string): void {
  if (!can(identity, action, room, channel)) {
    throw new PermissionError(action, `not allowed to ${action} ${room}:${channel}`, { room, channel });
  }
}

export function assertAdmin(identity: Identity, what: string): void {
  if (!identity.admin) throw new PermissionError('admin', `${what} needs an admin identity`);
}
