/**
 * The servers under test, behind one interface: how to start one, and the few
 * control frames of its protocol (welcome, join, join acknowledgement). The
 * published frame is the same for both: ArqonBus v1 `event` on room:channel.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions, TargetName } from './options.js';

export type ControlKind = 'welcome' | 'joined' | 'error' | 'other';

export interface BenchTarget {
  readonly name: TargetName;
  readonly label: string;
  /** `node` arguments that start the server on 127.0.0.1, port 0. */
  nodeArgs(root: string, options: BenchOptions): string[];
  /** Environment for the server child. */
  readonly env: Readonly<Record<string, string>>;
  /** Matches the line the server prints when ready; group 1 is its ws:// URL. */
  readonly ready: RegExp;
  joinFrame(room: string, channel: string, requestId: string): string;
  /** Classifies a decoded non-data frame. */
  classify(frame: unknown): { kind: ControlKind; detail?: string };
}

/** Node flags common to both servers: --server-node-arg, then profiling. */
function nodeFlags(options: BenchOptions, name: string): string[] {
  if (options.cpuProfDir === undefined) return [...options.serverNodeArgs];
  // One file per thread (the tsx loader runs in its own thread); the main thread's is the largest.
  return [...options.serverNodeArgs, '--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, name)}`];
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

export const arqonTarget: BenchTarget = {
  name: 'arqon',
  label: 'ArqonBus',
  nodeArgs(root, options) {
    const dist = join(root, 'dist/cli/main.js');
    const entry = options.arqonEntry === 'dist' ? [dist] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];
    if (options.arqonEntry === 'dist' && !existsSync(dist)) throw new Error(`${dist} not found: run npm run build, or use --arqon-entry src`);
    return [
      ...nodeFlags(options, 'arqon'),
      ...entry,
      '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn',
      ...options.arqonArgs,
    ];
  },
  // Authentication happens once per connection at the upgrade, outside the measured
  // steady state: the benchmark connects anonymously. The per-connection rate limit
  // stays on (its per-frame cost is measured) but high enough not to refuse the
  // offered load. Env vars, not flags, so builds without these options still start
  // (unknown ARQON_* variables are ignored); --arqon-arg flags override them.
  env: { ARQON_AUTH: 'none', ARQON_RATE_LIMIT_PER_SECOND: '1000000', ARQON_RATE_LIMIT_BURST: '1000000' },
  ready: /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
  joinFrame(room, channel, requestId) {
    return JSON.stringify({ type: 'command', id: requestId, payload: { command: 'join_channel', parameters: { room, channel } } });
  },
  classify(frame) {
    const f = record(frame);
    const payload = record(f['payload']);
    if (f['type'] === 'system' && payload['event'] === 'welcome') return { kind: 'welcome' };
    if (f['type'] === 'command_response' && payload['command'] === 'join_channel') {
      return payload['status'] === 'success' ? { kind: 'joined' } : { kind: 'error', detail: String(payload['error_code']) };
    }
    if (f['type'] === 'error') return { kind: 'error', detail: String(f['error_code']) };
    return { kind: 'other' };
  },
};

export const bareTarget: BenchTarget = {
  name: 'bare',
  label: 'bare ws',
  nodeArgs(root, options) {
    return [...nodeFlags(options, 'bare'), '--import', 'tsx', join(root, 'bench/bare-server.ts'), '--port', '0'];
  },
  env: {},
  ready: /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
  joinFrame(room, channel) {
    return JSON.stringify({ type: 'join', room, channel });
  },
  classify(frame) {
    const type = record(frame)['type'];
    if (type === 'welcome') return { kind: 'welcome' };
    if (type === 'joined') return { kind: 'joined' };
    return { kind: 'other' };
  },
};

export const TARGETS: Readonly<Record<TargetName, BenchTarget>> = { arqon: arqonTarget, bare: bareTarget };
