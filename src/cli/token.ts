/**
 * `npm run token -- --sub alice --type human --tenant acme [--publish 'lobby:*'] …`
 * mints a token with the configured secret (ARQON_JWT_SECRET / --jwt-secret) or
 * private key (ARQON_JWT_PRIVATE_KEY_FILE / --jwt-private-key-file). Other server
 * flags and env (issuer, audience) apply as for the server.
 */
import { ConfigError, parseConfig } from '../config/parse.js';
import { identityFromClaims } from '../identity/claims.js';
import { AuthError } from '../identity/errors.js';
import { mintToken, privateSigningKey, secretSigningKey, type SigningKey, type TokenClaims } from '../identity/mint.js';

const LIST_FLAGS = ['publish', 'subscribe', 'history', 'caps'] as const;
const VALUE_FLAGS = ['sub', 'type', 'tenant', 'screen-name', 'ttl', 'kid', 'alg', ...LIST_FLAGS] as const;

export const TOKEN_HELP = `Usage: npm run token -- --sub ID [options]

  --sub ID             client id (required)
  --type TYPE          human | ai-agent | dashboard | service (default human)
  --tenant ID          tenant (default "default")
  --screen-name NAME   display name
  --publish P          permission pattern ROOM:CHANNEL or *, repeatable or comma-separated
  --subscribe P        (same)   --history P   (same)
                       with none of the three, the token gets "*" for all three
  --caps P             capability-name patterns an agent may declare (repeatable)
  --admin              admin identity (delete_channel, server status, telemetry of every tenant)
  --ttl SECONDS        lifetime (default 3600)
  --kid KID            key id header (for JWKS setups)
  --alg ALG            signing algorithm (default HS256, or the private key's usual one)
Key: --jwt-secret / ARQON_JWT_SECRET, or --jwt-private-key-file / ARQON_JWT_PRIVATE_KEY_FILE.
Issuer/audience: --jwt-issuer, --jwt-audience (or their ARQON_* variables).`;

export async function runTokenCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const values = new Map<string, string[]>();
  let admin = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(TOKEN_HELP + '\n');
      return 0;
    }
    if (arg === '--admin') {
      admin = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq === -1 ? undefined : eq) : '';
    if ((VALUE_FLAGS as readonly string[]).includes(name)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) return fail(`--${name} needs a value`);
      values.set(name, [...(values.get(name) ?? []), value]);
    } else {
      rest.push(arg);
    }
  }
  const one = (name: string): string | undefined => values.get(name)?.at(-1);
  const list = (name: string): string[] | undefined =>
    values.get(name)?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');

  const sub = one('sub');
  if (sub === undefined) return fail('--sub is required (see --help)');
  const ttlS = Number(one('ttl') ?? 3600);
  if (!Number.isSafeInteger(ttlS) || ttlS < 1) return fail('--ttl must be a positive number of seconds');

  let config;
  try {
    config = parseConfig({ argv: rest, env }).config;
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  const alg = one('alg');
  let signing: SigningKey;
  try {
    if (config.jwtSecret !== undefined) signing = secretSigningKey(config.jwtSecret, alg);
    else if (config.jwtPrivateKeyFile !== undefined) signing = privateSigningKey(config.jwtPrivateKeyFile, alg);
    else return fail('no signing key: set ARQON_JWT_SECRET or ARQON_JWT_PRIVATE_KEY_FILE (or pass --jwt-secret / --jwt-private-key-file)');
  } catch (err) {
    return fail(`cannot load the signing key: ${(err as Error).message}`);
  }

  const anyPermission = LIST_FLAGS.slice(0, 3).some((f) => values.has(f));
  const claims: TokenClaims = {
    sub,
    tenant: one('tenant') ?? 'default',
    client_type: one('type') ?? 'human',
    ...(one('screen-name') !== undefined ? { screen_name: one('screen-name')! } : {}),
    permissions: anyPermission
      ? { publish: list('publish') ?? [], subscribe: list('subscribe') ?? [], history: list('history') ?? [] }
      : { publish: ['*'], subscribe: ['*'], history: ['*'] },
    ...(values.has('caps') ? { caps: list('caps')! } : {}),
    ...(admin ? { admin: true } : {}),
  };
  // The claims a server would refuse (a typo in --type or a pattern) are refused here, before a token exists.
  try {
    identityFromClaims({ ...claims });
  } catch (err) {
    if (err instanceof AuthError) return fail(err.message);
    throw err;
  }
  let token: string;
  try {
    token = await mintToken(signing, claims, { ttlS, issuer: config.jwtIssuer, audience: config.jwtAudience, kid: one('kid') });
  } catch (err) {
    return fail(`cannot sign with ${signing.alg}: ${(err as Error).message}`);
  }
  process.stderr.write(`claims: ${JSON.stringify(claims)} (expires in ${ttlS} s)\n`);
  process.stdout.write(token + '\n');
  return 0;
}

function fail(message: string): number {
  process.stderr.write(`arqonbus token: ${message}\n`);
  return 2;
}
