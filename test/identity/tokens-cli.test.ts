/** The `token` subcommand in-process (runTokenCommand): claims, key sources, and the refusals that exit 2. */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTokenCommand } from '../../src/cli/token.js';
import { AUDIENCE, ecPair, ISSUER, KeyDir, SECRET, verifierFor } from './tokens.fixtures.js';

const dir = new KeyDir();
afterAll(() => dir.dispose());

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const withSecret = { ARQON_JWT_SECRET: SECRET };

describe('runTokenCommand', () => {
  it('without permission flags grants * for all three; --admin and --screen-name are carried', async () => {
    expect(await runTokenCommand(['--sub', 'ops', '--type', 'dashboard', '--admin', '--screen-name', 'Ops'], withSecret)).toBe(0);
    const id = await verifierFor({ jwtSecret: SECRET }).verify(out.trim());
    expect(id).toMatchObject({ sub: 'ops', tenant: 'default', clientType: 'dashboard', screenName: 'Ops', admin: true });
    for (const action of ['publish', 'subscribe', 'history'] as const) expect(id.permissions[action].matches('any', 'thing')).toBe(true);
  });

  it('repeatable and comma-separated pattern flags combine', async () => {
    expect(await runTokenCommand(['--sub', 'a', '--subscribe', 'lobby:*,lab:bench', '--subscribe=ops:*', '--history', 'lobby:general'], withSecret)).toBe(0);
    const id = await verifierFor({ jwtSecret: SECRET }).verify(out.trim());
    expect(id.permissions.subscribe.patterns).toEqual(['lobby:*', 'lab:bench', 'ops:*']);
    expect(id.permissions.history.patterns).toEqual(['lobby:general']);
    expect(id.permissions.publish.patterns).toEqual([]);
  });

  it('issuer, audience, ttl, kid and alg apply, and a server configured alike accepts the token', async () => {
    const env = { ...withSecret, ARQON_JWT_ISSUER: ISSUER, ARQON_JWT_AUDIENCE: AUDIENCE };
    expect(await runTokenCommand(['--sub', 'ivy', '--ttl', '60', '--kid', 'k7', '--alg', 'HS512'], env)).toBe(0);
    const token = out.trim();
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'HS512', kid: 'k7' });
    const id = await verifierFor({ jwtSecret: SECRET, jwtIssuer: ISSUER, jwtAudience: AUDIENCE }).verify(token);
    expect(id.expiresAt! - Date.now()).toBeLessThanOrEqual(60_000);
    await expect(verifierFor({ jwtSecret: SECRET, jwtIssuer: 'https://other.test' }).verify(token)).rejects.toMatchObject({ code: 'AUTH_WRONG_ISSUER' });
  });

  it('signs with a private key file (ES256 for P-256), verified by its public key', async () => {
    const kp = ecPair();
    const priv = dir.write('p256-private.pem', kp.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect(await runTokenCommand(['--sub', 'ec', '--jwt-private-key-file', priv], {})).toBe(0);
    const id = await verifierFor({ jwtPublicKeyFile: dir.write('p256.pem', kp.publicPem) }).verify(out.trim());
    expect(id.sub).toBe('ec');
  });

  it.each([
    ['no --sub', ['--type', 'human'], withSecret, /--sub is required/],
    ['no key', ['--sub', 'a'], {}, /no signing key/],
    ['a short secret', ['--sub', 'a'], { ARQON_JWT_SECRET: 'short' }, /jwtSecret/],
    ['a bad --ttl', ['--sub', 'a', '--ttl', '0'], withSecret, /--ttl/],
    ['a flag without its value', ['--sub'], withSecret, /--sub needs a value/],
    ['an invalid permission pattern', ['--sub', 'a', '--publish', 'lobby'], withSecret, /invalid pattern "lobby"/],
    ['an unknown client type', ['--sub', 'a', '--type', 'robot'], withSecret, /client_type/],
    ['an invalid tenant', ['--sub', 'a', '--tenant', 'acme:x'], withSecret, /tenant/],
    ['an invalid capability', ['--sub', 'a', '--caps', 'trans late'], withSecret, /caps/],
    ['an algorithm a secret cannot sign', ['--sub', 'a', '--alg', 'RS256'], withSecret, /cannot sign with RS256/],
    ['alg none', ['--sub', 'a', '--alg', 'none'], withSecret, /cannot sign with none/],
    ['an unreadable private key', ['--sub', 'a', '--jwt-private-key-file', '/nonexistent/key.pem'], {}, /cannot load the signing key/],
  ] as const)('%s → exit 2 with a message and no token', async (_what, argv, env, message) => {
    expect(await runTokenCommand(argv, env)).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^arqonbus token: /);
    expect(err).toMatch(message);
  });
});
