/**
 * Exact latency samples in a growable Float64Array (8 bytes per delivery:
 * 4 M deliveries = 32 MB), percentiles by sorting once at the end.
 */

/** Absolute wall time in ms with sub-ms resolution, comparable within one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    if (this.n === this.samples.length) {
      const next = new Float64Array(this.samples.length * 2);
      next.set(this.samples);
      this.samples = next;
    }
    this.samples[this.n++] = ms;
  }

  summary(): LatencySummary {
    const s = this.samples.subarray(0, this.n).sort();
    const at = (q: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
    let sum = 0;
    for (let i = 0; i < s.length; i++) sum += s[i]!;
    return {
      count: s.length,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      p999: at(0.999),
      max: s.length === 0 ? NaN : s[s.length - 1]!,
      mean: s.length === 0 ? NaN : sum / s.length,
    };
  }
}

const T_KEY = Buffer.from('"t":');

/**
 * Reads the send time from a delivered frame without JSON.parse: the first
 * `"t":` key (only the bench payload has one; string values cannot contain an
 * unescaped quote). Returns NaN when the frame has none.
 */
export function readSendTime(data: Buffer): number {
  const i = data.indexOf(T_KEY);
  if (i === -1) return NaN;
  let p = i + T_KEY.length;
  let int = 0;
  let frac = 0;
  let scale = 1;
  let c = data[p];
  if (c === undefined || c < 48 || c > 57) return NaN;
  while (c !== undefined && c >= 48 && c <= 57) {
    int = int * 10 + (c - 48);
    c = data[++p];
  }
  if (c === 46) {
    c = data[++p];
    while (c !== undefined && c >= 48 && c <= 57) {
      frac = frac * 10 + (c - 48);
      scale *= 10;
      c = data[++p];
    }
  }
  return int + frac / scale;
}
