/** Shared helpers of the benchmarks: timed windows, medians, JSON out. */

export interface Measurement {
  /** Operations actually measured. */
  ops: number;
  seconds: number;
  /** ops / seconds over the whole measurement. */
  rateTotal: number;
  /** ops per second of each window. */
  windowRates: number[];
  /** The reported rate: the median window (robust to other processes stealing the CPU for a moment). */
  rate: number;
  /** Process CPU time (user + system, all threads, GC included) per window, as ops per CPU-second. */
  windowCpuRates: number[];
  /** Median of windowCpuRates: what an operation costs in CPU, whatever else runs on the machine. */
  cpuRate: number;
  cappedByTime: boolean;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const cpuNow = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };

class Windows {
  readonly per: number;
  readonly perMs: number;
  readonly windowRates: number[] = [];
  readonly windowCpuRates: number[] = [];
  readonly start = performance.now();
  private wStart = this.start;
  private wCpu = cpuNow();
  private wOps = 0;
  done = 0;
  cappedByTime = false;

  constructor(readonly ops: number, windows: number, readonly maxSeconds: number) {
    this.per = Math.max(1, Math.floor(ops / windows));
    this.perMs = (maxSeconds * 1000) / windows;
  }

  private close(now: number): void {
    const cpu = cpuNow();
    this.windowRates.push(this.wOps / ((now - this.wStart) / 1000));
    this.windowCpuRates.push(this.wOps / Math.max(cpu - this.wCpu, 1e-6));
    this.wStart = now;
    this.wCpu = cpu;
    this.wOps = 0;
  }

  /** Counts operation i; false when the run must stop. */
  tick(i: number): boolean {
    this.done++;
    this.wOps++;
    const now = performance.now();
    if (this.wOps === this.per || now - this.wStart >= this.perMs || i === this.ops - 1) this.close(now);
    if (now - this.start > this.maxSeconds * 1000 && i < this.ops - 1) {
      if (this.wOps > 0) this.close(now);
      this.cappedByTime = true;
      return false;
    }
    return true;
  }

  result(): Measurement {
    const seconds = (performance.now() - this.start) / 1000;
    return {
      ops: this.done, seconds, rateTotal: this.done / seconds, windowRates: this.windowRates, rate: median(this.windowRates),
      windowCpuRates: this.windowCpuRates, cpuRate: median(this.windowCpuRates), cappedByTime: this.cappedByTime,
    };
  }
}

/**
 * Runs `op` up to `ops` times, split into `windows` windows; a window closes
 * after ops/windows operations or maxSeconds/windows seconds, whichever comes
 * first, and the whole run stops after maxSeconds. `op(i)` gets the index.
 */
export async function measure(
  op: (i: number) => unknown | Promise<unknown>, ops: number, windows: number, maxSeconds: number,
): Promise<Measurement> {
  const w = new Windows(ops, windows, maxSeconds);
  for (let i = 0; i < ops; i++) {
    await op(i);
    if (!w.tick(i)) break;
  }
  return w.result();
}

/** A synchronous variant, for baselines whose operations are not promises. */
export function measureSync(op: (i: number) => unknown, ops: number, windows: number, maxSeconds: number): Measurement {
  const w = new Windows(ops, windows, maxSeconds);
  for (let i = 0; i < ops; i++) {
    op(i);
    if (!w.tick(i)) break;
  }
  return w.result();
}

/** Several measurements of one side (e.g. alternating windows) as one. */
export function merge(parts: Measurement[]): Measurement {
  const ops = parts.reduce((s, p) => s + p.ops, 0);
  const seconds = parts.reduce((s, p) => s + p.seconds, 0);
  const windowRates = parts.flatMap((p) => p.windowRates);
  const windowCpuRates = parts.flatMap((p) => p.windowCpuRates);
  return {
    ops, seconds, rateTotal: ops / seconds, windowRates, rate: median(windowRates), windowCpuRates, cpuRate: median(windowCpuRates),
    cappedByTime: parts.some((p) => p.cappedByTime),
  };
}

export const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

/** Writes the benchmark's result as one JSON document on stdout. */
export function emit(result: unknown): void {
  process.stdout.write(JSON.stringify(result, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n");
}

export const int = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === "" ? dflt : Number(v);
};
