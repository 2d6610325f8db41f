/**
 * Server child processes: spawn, wait for the URL they print, read their CPU
 * time from /proc, stop them. Every child is tracked so that an exit or a
 * signal in the load generator never leaves one behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL whatever is still running.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping server children\n`);
      process.exit(130);
    });
  }
}

export interface SpawnSpec {
  readonly name: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Added to this process's environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
  /** A line on stdout matching this gives the URL in group 1. */
  readonly ready: RegExp;
  readonly timeoutMs: number;
}

export class ServerProcess {
  private stderrTail = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly name: string, private readonly child: ChildProcess, readonly url: string) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    child.stderr?.on('data', (d: Buffer) => this.keepStderr(d));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Last lines the child wrote to stderr (warnings such as slow-consumer disconnects). */
  get stderr(): string {
    return this.stderrTail;
  }

  private keepStderr(d: Buffer): void {
    this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
  }

  /** Spawns `node <args>` and resolves once it printed its URL. */
  static start(spec: SpawnSpec): Promise<ServerProcess> {
    installExitHooks();
    const child = spawn(process.execPath, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${spec.name}: ${why}\n--- stdout ---\n${out.slice(-2000)}\n--- stderr ---\n${err.slice(-2000)}`));
      };
      const timer = setTimeout(() => fail(`did not print its URL within ${spec.timeoutMs} ms`), spec.timeoutMs);
      const onErr = (d: Buffer): void => {
        err += d.toString();
      };
      const onOut = (d: Buffer): void => {
        out += d.toString();
        const m = spec.ready.exec(out);
        if (m?.[1] === undefined) return;
        clearTimeout(timer);
        child.stdout?.off('data', onOut);
        child.stderr?.off('data', onErr);
        child.stdout?.resume(); // keep draining stdout so the child never blocks on a full pipe
        const proc = new ServerProcess(spec.name, child, m[1]);
        proc.keepStderr(Buffer.from(err));
        resolve(proc);
      };
      child.stdout?.on('data', onOut);
      child.stderr?.on('data', onErr);
      child.once('error', (e) => fail(`spawn failed: ${e.message}`));
      child.once('exit', (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`));
    });
  }

  /** CPU time (user + system) the child has used so far, ms; NaN where /proc is unavailable. */
  cpuMs(): number {
    return procCpuMs(this.pid);
  }

  /** Run-queue statistics of the child's main thread so far. */
  sched(): SchedStat {
    return procSched(this.pid);
  }

  /** Write-type syscalls (write, writev, send…) the child has made so far. */
  writeSyscalls(): number {
    return procWriteSyscalls(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the child is gone. */
  async stop(graceMs = 8000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited.then(() => undefined), killed]);
    clearTimeout(timer);
    await this.exited;
  }
}

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux Node supports. */
const CLK_TCK = 100;

export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after ")" are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/**
 * Write-type syscalls of every thread of `pid` so far (`syscw` in
 * /proc/<pid>/io). A server writes once per frame per socket unless it
 * coalesces, so this counts what write coalescing saves. NaN where unavailable.
 */
export function procWriteSyscalls(pid: number): number {
  try {
    const m = /^syscw:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m === null ? NaN : Number(m[1]);
  } catch {
    return NaN;
  }
}

export interface SchedStat {
  /** Time runnable but waiting for a CPU, ms. */
  readonly waitMs: number;
  /** Times it was scheduled onto a CPU. */
  readonly slices: number;
}

/**
 * Run-queue statistics of the main thread of `pid` (/proc/<pid>/schedstat).
 * Every wake-up waits a little; waits of a millisecond or more per slice mean
 * another process held the cores: the run measured the machine, not the
 * server. NaN where unavailable.
 */
export function procSched(pid: number | 'self'): SchedStat {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
    return { waitMs: Number(fields[1]) / 1e6, slices: Number(fields[2]) };
  } catch {
    return { waitMs: NaN, slices: NaN };
  }
}
