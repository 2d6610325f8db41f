/** Identity errors: refusals at the upgrade (with an HTTP status) and permission denials. */
import type { ErrorCode } from '../protocol/codes.js';
import { ArqonError } from '../protocol/errors.js';
import type { ChannelAction } from './identity.js';

export type AuthErrorCode = Extract<ErrorCode, `AUTH_${string}`>;

/** The token was refused. `status` is the HTTP status of the upgrade refusal. */
export class AuthError extends ArqonError {
  readonly status: number;
  constructor(code: AuthErrorCode, message?: string, status = code === 'AUTH_UNAVAILABLE' ? 503 : 401) {
    super(code, message);
    this.name = 'AuthError';
    this.status = status;
  }
}

/** An authenticated identity asked for something its claims do not allow. */
export class PermissionError extends ArqonError {
  readonly action: ChannelAction | 'admin' | 'client_type' | 'caps';
  constructor(action: PermissionError['action'], message: string, details: Record<string, unknown> = {}) {
    super('PERMISSION_DENIED', message, { action, ...details });
    this.name = 'PermissionError';
    this.action = action;
  }
}
