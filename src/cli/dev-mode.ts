/**
 * Zero-config start: with `--auth jwt` (the default) and no key configured,
 * `npm start` generates a random secret for this run and prints it once, with
 * ready-to-paste tokens. Nothing is written to disk.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { mintToken, secretSigningKey } from '../identity/mint.js';

/** True when nothing to verify tokens with is configured (a private key alone is a misconfiguration, not dev mode). */
export function needsGeneratedSecret(config: Config): boolean {
  const sources = [config.jwtSecret, config.jwtPublicKeyFile, config.jwksFile, config.jwksUrl, config.jwtPrivateKeyFile];
  return config.auth === 'jwt' && sources.every((k) => k === undefined);
}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The banner printed after the server listens. */
export async function devBanner(config: Config, url: string, telemetryUrl: string): Promise<string> {
  const signing = secretSigningKey(config.jwtSecret!);
  const opts = { ttlS: 24 * 3600, issuer: config.jwtIssuer, audience: config.jwtAudience };
  const all = { publish: ['*'], subscribe: ['*'], history: ['*'] };
  const human = await mintToken(signing, { sub: 'alice', client_type: 'human', screen_name: 'Alice', permissions: all }, opts);
  const agent = await mintToken(signing, { sub: 'agent-1', client_type: 'ai-agent', permissions: all, caps: ['*'] }, opts);
  const admin = await mintToken(signing, { sub: 'ops', client_type: 'dashboard', permissions: all, admin: true }, opts);
  return [
    '',
    'No JWT key configured: generated a secret for this run only (tokens die with the process).',
    `  ARQON_JWT_SECRET=${config.jwtSecret}`,
    'Ready-to-paste tokens (24 h, tenant "default"):',
    `  human alice:     ${human}`,
    `  ai-agent agent-1: ${agent}`,
    `  admin dashboard: ${admin}`,
    `Connect: ${url}/?token=${human}`,
    `Telemetry: ${telemetryUrl}?token=${admin}`,
    'Mint more with the same secret: ARQON_JWT_SECRET=… npm run token -- --sub bob --type human',
    '',
  ].join('\n');
}
