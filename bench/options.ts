/**
 * Benchmark options: `defaultOptions()` and one `parseOptions()` over argv.
 * Validated once; errors name the offending flag.
 */

export const TARGET_NAMES = ['arqon', 'bare'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface BenchOptions {
  /** Subscriber connections (they only receive). */
  readonly subs: number;
  /** Publisher connections (members of the same channel; they send). */
  readonly pubs: number;
  /** Total publish rate over all publishers, messages/s (open loop). */
  readonly rate: number;
  /** Measurement window, seconds. */
  readonly duration: number;
  /** Load before the measurement window (same rate, not counted), seconds. */
  readonly warmup: number;
  /** Approximate size of the published `payload` object, bytes. */
  readonly payload: number;
  /** After the window, how long to wait for in-flight deliveries, seconds. */
  readonly drain: number;
  /** Limit for starting a server and connecting + joining all clients, seconds. */
  readonly setupTimeout: number;
  /** Rounds over all targets; even rounds run them in reverse order, ratios use medians. */
  readonly rounds: number;
  /** Servers to run, one after the other, in this order. */
  readonly targets: readonly TargetName[];
  /** Run ArqonBus from `src` via tsx, or from the built `dist`. */
  readonly arqonEntry: 'src' | 'dist';
  /** Extra CLI flags for the ArqonBus server (e.g. `--history-max-messages 1`). */
  readonly arqonArgs: readonly string[];
  /** Extra `node` flags for every server child (e.g. `--max-semi-space-size=32`). */
  readonly serverNodeArgs: readonly string[];
  /** Write a V8 CPU profile of each server child into this directory. */
  readonly cpuProfDir: string | undefined;
}

export function defaultOptions(): BenchOptions {
  return {
    subs: 200,
    pubs: 4,
    rate: 100,
    duration: 10,
    warmup: 2,
    payload: 256,
    drain: 5,
    setupTimeout: 30,
    rounds: 1,
    targets: ['bare', 'arqon'],
    arqonEntry: 'src',
    arqonArgs: [],
    serverNodeArgs: [],
    cpuProfDir: undefined,
  };
}

export const HELP = `Usage: npm run bench -- [flags]

Broadcast fan-out benchmark: ArqonBus vs a bare \`ws\` broadcast server, same load.

  --subs N            subscriber connections                    (default 200)
  --pubs N            publisher connections                     (default 4)
  --rate N            total publish rate, msg/s, open loop      (default 100)
  --duration S        measurement window, seconds               (default 10)
  --warmup S          unmeasured load before the window         (default 2)
  --payload BYTES     approx. size of the payload object        (default 256)
  --drain S           wait for in-flight deliveries after       (default 5)
  --setup-timeout S   limit for start + connect + join          (default 30)
  --rounds N          repeat, alternating the order; ratios of medians (default 1)
  --only arqon|bare   run one server only (repeatable: order)   (default bare, arqon)
  --arqon-entry src|dist  run ArqonBus from src (tsx) or dist   (default src)
  --arqon-arg FLAG    pass a flag to the ArqonBus server (repeatable;
                      e.g. --arqon-arg=--history-max-messages --arqon-arg=1)
  --server-node-arg F pass a node flag to both server children (repeatable;
                      e.g. --server-node-arg=--max-semi-space-size=32)
  --cpu-prof DIR      write a .cpuprofile per server child into DIR
  --help              this text
`;

export class OptionError extends Error {
  constructor(readonly flag: string, message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

type NumericKey = 'subs' | 'pubs' | 'rate' | 'duration' | 'warmup' | 'payload' | 'drain' | 'setupTimeout' | 'rounds';
const NUMERIC: Record<string, { key: NumericKey; min: number; max: number; int: boolean }> = {
  subs: { key: 'subs', min: 1, max: 20_000, int: true },
  pubs: { key: 'pubs', min: 1, max: 1_000, int: true },
  rate: { key: 'rate', min: 1, max: 1_000_000, int: false },
  duration: { key: 'duration', min: 0.5, max: 3_600, int: false },
  warmup: { key: 'warmup', min: 0, max: 600, int: false },
  payload: { key: 'payload', min: 16, max: 512 * 1024, int: true },
  drain: { key: 'drain', min: 0.1, max: 120, int: false },
  'setup-timeout': { key: 'setupTimeout', min: 1, max: 600, int: false },
  rounds: { key: 'rounds', min: 1, max: 50, int: true },
};

/** Parses argv (without node and script). Returns null when --help was asked for. */
export function parseOptions(argv: readonly string[]): BenchOptions | null {
  const out: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = { ...defaultOptions() };
  const targets: TargetName[] = [];
  const arqonArgs: string[] = [];
  const serverNodeArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return null;
    if (!arg.startsWith('--')) throw new OptionError(arg, `unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new OptionError(flag, `--${flag} needs a value`);
      value = next;
      i++;
    }
    const numeric = NUMERIC[flag];
    if (numeric !== undefined) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < numeric.min || n > numeric.max || (numeric.int && !Number.isInteger(n))) {
        throw new OptionError(flag, `--${flag} must be ${numeric.int ? 'an integer' : 'a number'} from ${numeric.min} to ${numeric.max}, got "${value}"`);
      }
      out[numeric.key] = n;
      continue;
    }
    switch (flag) {
      case 'only':
        if (!(TARGET_NAMES as readonly string[]).includes(value)) throw new OptionError(flag, `--only must be one of ${TARGET_NAMES.join(', ')}`);
        targets.push(value as TargetName);
        break;
      case 'arqon-entry':
        if (value !== 'src' && value !== 'dist') throw new OptionError(flag, '--arqon-entry must be src or dist');
        out.arqonEntry = value;
        break;
      case 'arqon-arg':
        arqonArgs.push(value);
        break;
      case 'server-node-arg':
        serverNodeArgs.push(value);
        break;
      case 'cpu-prof':
        out.cpuProfDir = value;
        break;
      default:
        throw new OptionError(flag, `unknown flag --${flag} (see --help)`);
    }
  }
  if (targets.length > 0) out.targets = targets;
  out.arqonArgs = arqonArgs;
  out.serverNodeArgs = serverNodeArgs;
  return Object.freeze(out);
}
