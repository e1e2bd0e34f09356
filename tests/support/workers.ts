/**
 * Starts tests/support/ipam-worker.ts in child Node processes and reads
 * their JSON lines. Every child started here is remembered, so a test file
 * can kill whatever is left in afterAll (killAllWorkers).
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";

const ROOT = path.join(__dirname, "../..");
const WORKER = path.join(__dirname, "ipam-worker.ts");
const live = new Set<ChildProcess>();

export type Line = { ev: string; [k: string]: unknown };

export class Worker {
  readonly lines: Line[] = [];
  stderr = "";
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];

  constructor(readonly proc: ChildProcess) {
    let buf = "";
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const raw = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!raw.trim()) continue;
        try {
          this.lines.push(JSON.parse(raw) as Line);
        } catch {
          this.lines.push({ ev: "garbage", raw });
        }
      }
      this.wake();
    });
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (c: string) => (this.stderr += c));
    this.exit = new Promise((resolve) => {
      // "close", not "exit": it comes after stdout is drained, so every printed line has been read.
      proc.on("close", (code, signal) => {
        live.delete(proc);
        resolve({ code, signal });
        this.wake();
      });
    });
    proc.stdin!.on("error", () => undefined); // EPIPE after a kill
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `pred` holds over the lines read so far; rejects when the child exits first. */
  async until(pred: (lines: Line[]) => boolean, what: string): Promise<void> {
    let exited = false;
    void this.exit.then(() => (exited = true));
    for (;;) {
      if (pred(this.lines)) return;
      if (exited || this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`worker ${this.proc.pid} exited before ${what}; stdout lines: ${JSON.stringify(this.lines.slice(-5))}; stderr: ${this.stderr}`);
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  ready(): Promise<void> {
    return this.until((ls) => ls.some((l) => l.ev === "ready"), "ready");
  }

  go(): void {
    this.proc.stdin!.write("go\n");
  }

  /** Waits for {"ev":"done"} and a zero exit status. */
  async finished(): Promise<void> {
    await this.until((ls) => ls.some((l) => l.ev === "done"), "done");
    const { code, signal } = await this.exit;
    if (code !== 0) throw new Error(`worker ${this.proc.pid} exited with ${code ?? signal}; stderr: ${this.stderr}`);
  }

  ok(): Line[] {
    return this.lines.filter((l) => l.ev === "ok");
  }

  failures(): Line[] {
    return this.lines.filter((l) => l.ev === "error" || l.ev === "fatal" || l.ev === "garbage");
  }
}

export function startWorker(mode: "plan" | "loop" | "migrate", storeUrl: string, arg?: unknown): Worker {
  const args = ["-r", "ts-node/register/transpile-only", WORKER, mode, storeUrl];
  if (arg !== undefined) args.push(JSON.stringify(arg));
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env } });
  live.add(proc);
  return new Worker(proc);
}

/** Starts workers, waits until each has opened the store, then releases them together. */
export async function startTogether(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.ready()));
  for (const w of workers) w.go();
}

export function killAllWorkers(): void {
  for (const p of live) {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }
  live.clear();
}
