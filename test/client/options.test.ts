import WebSocket from 'ws';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ArqonClient,
  ArqonClientError,
  CLIENT_ERROR_CODES,
  ERROR_CODES,
  connectUrl,
  parseOptions,
  type ArqonClientErrorCode,
  type WebSocketConstructor,
} from '../../src/client/index.js';

describe('client options', () => {
  it('fills defaults and freezes the result', () => {
    const o = parseOptions({ url: 'ws://127.0.0.1:1' });
    expect(o.commandTimeoutMs).toBe(10_000);
    expect(o.maxReconnectAttempts).toBe(Infinity);
    expect(o.reconnect.enabled).toBe(true);
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.reconnect)).toBe(true);
  });

  it('merges partial reconnect settings and accepts reconnect: false', () => {
    const o = parseOptions({ url: 'ws://h', reconnect: { initialDelayMs: 10 } });
    expect(o.reconnect).toMatchObject({ enabled: true, initialDelayMs: 10, maxDelayMs: 10_000, factor: 2 });
    expect(parseOptions({ url: 'ws://h', reconnect: false }).reconnect.enabled).toBe(false);
  });

  it.each([
    [{ url: 'http://h' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'ws://h', clientType: 'robot' }, 'clientType'],
    [{ url: 'ws://h', commandTimeoutMs: 0 }, 'commandTimeoutMs'],
    [{ url: 'ws://h', reconnect: { factor: 0.5 } }, 'reconnect.factor'],
    [{ url: 'ws://h', reconnect: { initialDelayMs: 100, maxDelayMs: 10 } }, 'reconnect.maxDelayMs'],
    [{ url: 'ws://h', maxReconnectAttempts: -1 }, 'maxReconnectAttempts'],
    [{ url: 'ws://h', screenName: '' }, 'screenName'],
    [{ url: 'ws://h', token: '' }, 'token'],
    [{ url: 'ws://h', token: 42 }, 'token'],
  ])('rejects %j naming the key', (options, key) => {
    let caught: unknown;
    try {
      parseOptions(options as never);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ArqonClientError);
    expect((caught as ArqonClientError).code).toBe('INVALID_OPTION');
    expect((caught as ArqonClientError).details).toEqual({ option: key });
  });

  it('puts the profile and token in the query string, keeping existing parameters', () => {
    const url = new URL(
      connectUrl(
        parseOptions({
          url: 'ws://h:9/ws?x=1',
          clientType: 'ai-agent',
          screenName: 'Ada L',
          avatar: 'https://a/b.png',
          personality: 'calm',
          token: 't0k',
        }),
      ),
    );
    expect(url.pathname).toBe('/ws');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      x: '1',
      client_type: 'ai-agent',
      screen_name: 'Ada L',
      avatar: 'https://a/b.png',
      personality: 'calm',
      token: 't0k',
    });
    expect(new URL(connectUrl(parseOptions({ url: 'ws://h' }))).search).toBe('');
  });

  it('accepts a token provider; the URL then carries the token the client passes', () => {
    const provider = (): string => 'fresh';
    const o = parseOptions({ url: 'ws://h', token: provider });
    expect(o.token).toBe(provider);
    expect(new URL(connectUrl(o)).searchParams.has('token')).toBe(false);
    expect(new URL(connectUrl(o, 'fresh')).searchParams.get('token')).toBe('fresh');
  });

  it('accepts both the browser WebSocket and the ws package as constructors', () => {
    expectTypeOf(WebSocket).toExtend<WebSocketConstructor>();
    expectTypeOf(globalThis.WebSocket).toExtend<WebSocketConstructor>();
  });

  it('client-only codes do not collide with the wire registry', () => {
    for (const code of Object.keys(CLIENT_ERROR_CODES)) expect(Object.hasOwn(ERROR_CODES, code)).toBe(false);
    expectTypeOf<'TIMEOUT'>().toExtend<ArqonClientErrorCode>();
    expectTypeOf<'NOT_A_MEMBER'>().toExtend<ArqonClientErrorCode>();
  });

  it('starts closed, and refuses to send before connecting', async () => {
    const client = new ArqonClient({ url: 'ws://127.0.0.1:1' });
    expect(client.status.state).toBe('closed');
    expect(() => client.publish('r', 'c', {})).toThrow(expect.objectContaining({ code: 'NOT_CONNECTED' }));
    expect(() => client.sendPrivate('x', {})).toThrow(expect.objectContaining({ code: 'NOT_CONNECTED' }));
    await expect(client.command('ping')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await expect(client.join('r', 'c')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    expect(client.position('r', 'c')).toBeUndefined();
  });
});
