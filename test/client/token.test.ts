/** Unit tests of the SDK's token handling and the identity-related frames it parses. */
import { describe, expect, it } from 'vitest';
import { parseServerFrame } from '../../src/client/inbound.js';
import { instanceIdPrefix, OwnMessages } from '../../src/client/own-messages.js';
import { fetchToken, refreshToken, TokenSession } from '../../src/client/token.js';
import type { Envelope } from '../../src/protocol/envelope.js';

function message(id: string, from: string): Envelope {
  return { version: '1.0', id, type: 'event', room: 'r', channel: 'c', from, timestamp: new Date(0).toISOString(), payload: {} };
}

describe('fetchToken', () => {
  it('resolves what a sync or async provider returns', async () => {
    await expect(fetchToken(() => 'a', 100)).resolves.toBe('a');
    await expect(fetchToken(async () => 'b', 100)).resolves.toBe('b');
  });

  it.each([
    ['throws', () => {
      throw new Error('down');
    }, 'down'],
    ['rejects', () => Promise.reject(new Error('nope')), 'nope'],
    ['returns no string', () => undefined as unknown as string, 'returned no token'],
    ['returns an empty string', () => '', 'returned no token'],
    ['never settles', () => new Promise<string>(() => {}), 'no token within 20 ms'],
  ])('fails with TOKEN_UNAVAILABLE when the provider %s', async (_what, provider, cause) => {
    const err = await fetchToken(provider, 20).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true, details: { cause: expect.stringContaining(cause) } });
  });
});

describe('TokenSession', () => {
  const timeouts = { connectTimeoutMs: 100, commandTimeoutMs: 100 };

  it('stops on 4003 with a static token, reconnects with a provider', () => {
    const fixed = new TokenSession('t', timeouts);
    fixed.opened('t');
    expect(fixed.closed(1006)).toBe(true);
    expect(fixed.closed(4003)).toBe(false);
    expect(new TokenSession(() => 't', timeouts).closed(4003)).toBe(true);
  });

  it('refuses to reopen with the token that expired', async () => {
    let token = 'old';
    const session = new TokenSession(() => token, timeouts);
    session.opened(await session.next());
    session.closed(4003);
    await expect(session.next()).rejects.toMatchObject({ code: 'TOKEN_UNAVAILABLE' });
    token = 'new';
    await expect(session.next()).resolves.toBe('new');
  });

  it('does not present the token in use again as a refresh', async () => {
    const commands: string[] = [];
    const host = { command: async <T>(name: string) => (commands.push(name), { expires_at: null } as T), isCurrent: () => true };
    await expect(refreshToken(host, () => 'same', 100, 'same')).rejects.toMatchObject({ code: 'TOKEN_UNAVAILABLE' });
    await expect(refreshToken(host, () => 'other', 100, 'same')).resolves.toEqual({ token: 'other', result: { expires_at: null } });
    expect(commands).toEqual(['refresh_token']);
  });
});

describe('OwnMessages with a client id shared by several connections (JWT sub)', () => {
  it('skips only what this instance sent, not messages of other instances of the same sub', () => {
    const prefix = instanceIdPrefix();
    const own = new OwnMessages(prefix);
    own.connected('svc');
    expect(own.skipInReplay(message(`${prefix}1`, 'svc'))).toBe(true);
    expect(own.skipInReplay(message(`${instanceIdPrefix()}1`, 'svc'))).toBe(false);
    expect(own.skipInReplay(message('m1', 'svc'))).toBe(false);
    // Our id prefix from another sender is not ours either.
    expect(own.skipInReplay(message(`${prefix}2`, 'eve'))).toBe(false);
  });

  it('replays an echo publish whose echo never arrived, once', () => {
    const prefix = instanceIdPrefix();
    const own = new OwnMessages(prefix);
    own.connected('svc');
    own.published(`${prefix}1`, true);
    own.published(`${prefix}2`, true);
    own.sawLive(message(`${prefix}2`, 'svc'));
    expect(own.skipInReplay(message(`${prefix}1`, 'svc'))).toBe(false);
    expect(own.skipInReplay(message(`${prefix}1`, 'svc'))).toBe(true);
    expect(own.skipInReplay(message(`${prefix}2`, 'svc'))).toBe(true);
  });

  it('draws distinct prefixes', () => {
    const prefixes = new Set(Array.from({ length: 100 }, instanceIdPrefix));
    expect(prefixes.size).toBe(100);
  });
});

describe('identity frames', () => {
  it('parses token_expiring', () => {
    const frame = JSON.stringify({
      type: 'system',
      payload: { event: 'token_expiring', expires_at: '2030-01-01T00:00:00.000Z', expires_in_ms: 999, hint: '…' },
    });
    expect(parseServerFrame(frame)).toMatchObject({
      kind: 'token_expiring',
      expiring: { expires_at: '2030-01-01T00:00:00.000Z', expires_in_ms: 999 },
    });
  });

  it('types the welcome identity and drops a malformed one', () => {
    const welcome = (extra: object): unknown =>
      parseServerFrame(JSON.stringify({ type: 'system', payload: { event: 'welcome', client_id: 'u', ...extra } }));
    expect(welcome({ connection_id: 'cx_1', identity: { admin: false, anonymous: false, expires_at: null } })).toMatchObject({
      welcome: { client_id: 'u', connection_id: 'cx_1', identity: { admin: false, anonymous: false, expires_at: null } },
    });
    const bad = welcome({ connection_id: 7, identity: { admin: 'yes' } }) as { welcome: Record<string, unknown> };
    expect(bad.welcome).not.toHaveProperty('identity');
    expect(bad.welcome).not.toHaveProperty('connection_id');
  });
});
