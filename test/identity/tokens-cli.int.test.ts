/**
 * The CLI as a user runs it (a real `node --import tsx` process): `token`
 * minting, start-up refusals that exit 2 with a message, and the dev-mode
 * banner of a server that started. Edge cases of the token command run
 * in-process in tokens-cli.test.ts (each spawn costs ~1 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, type TestContext } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { ecPair, KeyDir, SECRET, verifierFor } from './tokens.fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment without any ARQON_* variable of the machine running the tests, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ARQON_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs the CLI; a process still running after `timeoutMs` (e.g. a server that started) is killed and reported. */
function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

describe.concurrent('arqonbus token', () => {
  it('mints a token the TokenVerifier accepts, with the requested claims', async () => {
    const run = await cli(
      ['token', '--sub', 'bob', '--type', 'ai-agent', '--tenant', 'acme', '--publish', 'lobby:*', '--caps', 'translate.*'],
      cleanEnv({ ARQON_JWT_SECRET: SECRET }),
    );
    expect(run.stderr).not.toMatch(/fatal/);
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const id = await verifierFor({ jwtSecret: SECRET }).verify(token);
    expect(id).toMatchObject({ sub: 'bob', tenant: 'acme', clientType: 'ai-agent', admin: false, anonymous: false });
    expect(id.caps).toEqual(['translate.*']);
    expect(id.permissions.publish.patterns).toEqual(['lobby:*']);
    expect(id.permissions.publish.matches('lobby', 'general')).toBe(true);
    expect(id.permissions.publish.matches('lab', 'general')).toBe(false);
    // Naming one permission grants only that one.
    expect(id.permissions.subscribe.matches('lobby', 'general')).toBe(false);
    expect(id.permissions.history.matches('lobby', 'general')).toBe(false);
    // Default lifetime one hour.
    expect(id.expiresAt! - Date.now()).toBeGreaterThan(3590_000);
    expect(id.expiresAt! - Date.now()).toBeLessThanOrEqual(3600_000);
    // Another secret does not verify it.
    await expect(verifierFor({ jwtSecret: `${SECRET}-other` }).verify(token)).rejects.toMatchObject({ code: 'AUTH_BAD_SIGNATURE' });
  });

  it('without a key: exit 2 and a message naming the key settings', async () => {
    const run = await cli(['token', '--sub', 'bob'], cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/no signing key/);
    expect(run.stderr).toMatch(/ARQON_JWT_SECRET/);
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });
});

describe.concurrent('arqonbus start-up refusals', () => {
  it('--auth none --host 0.0.0.0 exits 2 naming the auth setting and the way out', async () => {
    const run = await cli(['--auth', 'none', '--host', '0.0.0.0', '--port', '0'], cleanEnv(), 10_000);
    expect(run.killed).toBe(false); // it did not start listening
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--auth none/);
    expect(run.stderr).toMatch(/0\.0\.0\.0/);
    expect(run.stderr).toMatch(/--allow-insecure/);
  });

  it('only --jwt-private-key-file (a signing key, nothing to verify with): no dev secret, exit 2 with the no-key error', async ({ onTestFinished }) => {
    const dir = new KeyDir();
    onTestFinished(() => dir.dispose());
    const key = dir.write('signing.pem', ecPair().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const run = await cli(['--port', '0'], cleanEnv({ ARQON_JWT_PRIVATE_KEY_FILE: key }), 10_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/auth is jwt but no key is configured/);
    expect(run.stdout).not.toMatch(/ARQON_JWT_SECRET=/);
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('a plain-http JWKS URL to a remote host exits 2 naming jwksUrl and --allow-insecure', async () => {
    const run = await cli(['--jwks-url', 'http://keys.example/jwks.json', '--port', '0'], cleanEnv(), 10_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/jwksUrl/);
    expect(run.stderr).toMatch(/--allow-insecure/);
  });

  it('a JWKS URL that is not a URL exits 2 naming jwksUrl (not a fatal crash)', async () => {
    const run = await cli(['--jwks-url', 'http://', '--port', '0'], cleanEnv(), 10_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/jwksUrl/);
    expect(run.stderr).not.toMatch(/fatal/);
  });
});

/**
 * Starts the CLI as a server and resolves once stdout shows `marker`. The process is
 * stopped with SIGTERM when the test ends (and its exit code checked there).
 */
function serve(args: string[], env: NodeJS.ProcessEnv, marker: string, { onTestFinished, expect }: TestContext): Promise<{ stdout: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  onTestFinished(async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no "${marker}" on stdout within 15 s: ${stdout} ${stderr}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!stdout.includes(marker)) return;
      clearTimeout(timer);
      resolve({ stdout, child });
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before "${marker}": ${stderr}`)));
  });
}

describe('arqonbus dev mode', () => {
  it('with --telemetry-port the banner\'s Telemetry URL points at the telemetry listener, and its admin token opens the stream', async (ctx) => {
    const { expect } = ctx;
    const { stdout } = await serve(['--port', '0', '--telemetry-port', '0'], cleanEnv(), 'Mint more', ctx);
    const listener = /^ {2}telemetry: (\S+)$/m.exec(stdout)?.[1];
    const main = /listening on (\S+)$/m.exec(stdout)?.[1];
    const banner = /^Telemetry: (\S+)$/m.exec(stdout)?.[1];
    expect(listener).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    expect(new URL(listener!).port).not.toBe(new URL(main!).port);
    expect(banner?.startsWith(`${listener}?token=`)).toBe(true);

    const { client, welcome } = await RawClient.connect(banner!);
    expect(welcome.payload).toMatchObject({ event: 'welcome', stream: 'telemetry' });
    await client.close();
  });
});
