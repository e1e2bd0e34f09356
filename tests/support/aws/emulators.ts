/**
 * Local AWS emulators for the AWS backend's tests, on 127.0.0.1 free ports:
 *
 *   eipEndpoint  moto_server (moto[server], PyPI): Elastic IPs — AllocateAddress,
 *                DescribeAddresses, ReleaseAddress, CreateTags. It has no EC2 IPAM.
 *   ec2Endpoint  cloudemu (`cloudemu serve`, Go): EC2 IPAM — CreateIpam ... DeleteIpamPool.
 *                null when cloudemu is not installed (the Go module proxy refuses
 *                it on this workplace; see docs/emulators-aws.md): callers skip then.
 *   fakecloudEndpoint  fakecloud (crates.io, `fakecloud --addr`): EC2 IPAM and the
 *                rest of EC2, started with { fakecloud: true }.
 *   endpoint     with { fakecloud: true }: the one EC2 endpoint the AWS backend is
 *                given — tests/support/aws/ec2-shim.ts, which routes Elastic IPs to
 *                moto and IPAM to fakecloud and fills fakecloud's IPAM gaps (listed
 *                in docs/emulators-aws.md); `shim` drives its request log and faults.
 *
 * Both are installed by scripts/install-aws-emulators.sh into the cache
 * ($PULUMI_IPAM_CACHE or ~/.cache/pulumi-ipam) at the versions in versions.env.
 * Each server runs under a watchdog shell whose stdin is a pipe from this
 * process: stop() closes it, and so does this process dying in any way
 * (kill -9 included), after which the watchdog stops the server. A normal
 * exit also kills the whole process group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const AWS_TEST_REGION = "us-east-1";
/** Fake credentials: both emulators accept any signature. */
export const AWS_TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

export interface AwsEmulators {
  /** cloudemu's AWS endpoint (EC2 IPAM), or null when cloudemu is not installed. */
  ec2Endpoint: string | null;
  /** moto_server's endpoint (Elastic IPs). */
  eipEndpoint: string;
  /** fakecloud's endpoint (EC2 IPAM), or null unless started with { fakecloud: true }. */
  fakecloudEndpoint: string | null;
  /** The EC2 endpoint for the AWS backend (the shim over fakecloud and moto), or null unless started with { fakecloud: true }. */
  endpoint: string | null;
  /** The shim's test controls (null without it). */
  shim: ShimControl | null;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** What a child process (a Pulumi program, the provider) needs in its environment. */
  env: Record<string, string>;
  /** Why an emulator is missing, one line each (empty when both run). */
  unavailable: string[];
  stop(): Promise<void>;
}

export interface ShimFault {
  action: string;
  /** How many of the next matching requests it applies to. */
  times: number;
  /** Answer this error code (HTTP `status`, default 400) instead of calling the emulator. */
  code?: string;
  status?: number;
  message?: string;
  /** Or: replace this text by that in the next successful answers that contain it (e.g. a state). */
  replace?: [string, string];
}

export interface ShimControl {
  requests(): Promise<{ action: string; params: Record<string, string> }[]>;
  faults(f: ShimFault[]): Promise<void>;
  /** Forget recorded requests and pending faults. */
  clear(): Promise<void>;
}

function versions(): { MOTO_VERSION: string; CLOUDEMU_VERSION: string; FAKECLOUD_VERSION: string } {
  const text = fs.readFileSync(path.join(__dirname, "versions.env"), "utf8");
  const get = (k: string) => {
    const m = new RegExp(`^${k}=(\\S+)`, "m").exec(text);
    if (!m) throw new Error(`${k} missing from tests/support/aws/versions.env`);
    return m[1];
  };
  return { MOTO_VERSION: get("MOTO_VERSION"), CLOUDEMU_VERSION: get("CLOUDEMU_VERSION"), FAKECLOUD_VERSION: get("FAKECLOUD_VERSION") };
}

function cacheDir(): string {
  return process.env.PULUMI_IPAM_CACHE || path.join(os.homedir(), ".cache", "pulumi-ipam");
}

export function motoServerPath(): string {
  return path.join(cacheDir(), `moto-${versions().MOTO_VERSION}`, "bin", "moto_server");
}

export function cloudemuPath(): string {
  return path.join(cacheDir(), `cloudemu-${versions().CLOUDEMU_VERSION}`, "bin", "cloudemu");
}

export function fakecloudPath(): string {
  return path.join(cacheDir(), `fakecloud-${versions().FAKECLOUD_VERSION}`, "bin", "fakecloud");
}

/** Whether fakecloud is installed: for choosing describe or describe.skip at collection time. */
export function fakecloudInstalled(): boolean {
  return isExecutable(fakecloudPath());
}

export function fakecloudMissingReason(): string {
  return `fakecloud ${versions().FAKECLOUD_VERSION} is not installed at ${fakecloudPath()}; run scripts/install-aws-emulators.sh (a cargo build, ~20-60 min once)`;
}

/** Whether cloudemu is installed: for choosing describe or describe.skip at collection time. */
export function cloudemuInstalled(): boolean {
  return isExecutable(cloudemuPath());
}

export function cloudemuMissingReason(): string {
  const log = path.join(path.dirname(path.dirname(cloudemuPath())), "build.log");
  const why = fs.existsSync(log) ? fs.readFileSync(log, "utf8").match(/\d{3} [A-Z][A-Za-z ]+$/m)?.[0] : undefined;
  return (
    `cloudemu ${versions().CLOUDEMU_VERSION} is not installed at ${cloudemuPath()}` +
    (why ? ` (the Go module proxy answered ${why})` : "") +
    "; run scripts/install-aws-emulators.sh"
  );
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) killGroup(c, "SIGKILL");
  });
}

function killGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    /* already gone */
  }
}

// "$@" is the server's command line. The server gets /dev/null for stdin; a
// subshell waits for EOF on the shell's stdin (our pipe), then stops the server.
// The shell itself waits for the server, so a server that dies (a bad flag, a
// port taken) ends the watchdog too and waitForHttp reports it at once.
// (`<&0`: without it bash gives a background job /dev/null for stdin.)
const WATCHDOG = '"$@" </dev/null & pid=$!; { cat >/dev/null; kill -TERM "$pid" 2>/dev/null; } <&0 & wait "$pid"';

interface Server {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Server {
  installExitHook();
  const child = spawn("bash", ["-c", WATCHDOG, "watchdog", cmd, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true, // own process group, so the exit hook can kill the server with its shell
    env,
    cwd,
  });
  live.add(child);
  let out = "";
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-8000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => live.delete(child));
  return {
    child,
    output: () => out,
    async stop() {
      child.stdin!.end(); // also ends the EOF-waiting subshell when the server is already gone
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `url` answers HTTP at all (any status); rejects if the server exits or time runs out. */
async function waitForHttp(url: string, server: Server, name: string, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${name} exited before answering on ${url}:\n${server.output()}`);
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} did not answer on ${url} within ${timeoutMs} ms:\n${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function startWithFreePort(
  name: string,
  start: (port: number) => Server,
  probePath: string,
): Promise<{ server: Server; endpoint: string }> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const server = start(port);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(endpoint + probePath, server, name);
      return { server, endpoint };
    } catch (e) {
      lastErr = e; // most likely the port was taken between freePort() and bind: try another
      await server.stop();
    }
  }
  throw lastErr;
}

export interface StartOptions {
  /** Throw instead of returning ec2Endpoint null when cloudemu is not installed. */
  requireIpam?: boolean;
  /** Also start fakecloud and the shim (`endpoint`); throws when fakecloud is not installed. */
  fakecloud?: boolean;
}

export async function startAwsEmulators(opts: StartOptions = {}): Promise<AwsEmulators> {
  const moto = motoServerPath();
  if (!isExecutable(moto)) {
    throw new Error(`moto_server not found at ${moto}: run scripts/install-aws-emulators.sh`);
  }
  const unavailable: string[] = [];
  if (!cloudemuInstalled()) {
    if (opts.requireIpam) throw new Error(cloudemuMissingReason());
    unavailable.push(cloudemuMissingReason());
  }
  const childEnv = { ...process.env, ...fakeAwsEnv() };
  const servers: Server[] = [];
  const stopAll = async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  };
  try {
    // moto answers GET /moto-api/ once its Flask app is up.
    const m = await startWithFreePort(
      "moto_server",
      (port) => launch(moto, ["-H", "127.0.0.1", "-p", String(port)], childEnv),
      "/moto-api/",
    );
    servers.push(m.server);
    let ec2Endpoint: string | null = null;
    if (cloudemuInstalled()) {
      // Only the AWS provider, no Kubernetes data-plane port; /_cloudemu/health is its admin probe.
      const c = await startWithFreePort(
        "cloudemu",
        (port) =>
          launch(
            cloudemuPath(),
            ["serve", "--providers", "aws", "--host", "127.0.0.1", "--aws-port", String(port), "--k8s-port", "", "--region", AWS_TEST_REGION, "--quiet"],
            childEnv,
          ),
        "/_cloudemu/health",
      );
      servers.push(c.server);
      ec2Endpoint = c.endpoint;
    }
    const env: Record<string, string> = { ...fakeAwsEnv(), IPAM_TEST_AWS_EIP_ENDPOINT: m.endpoint };
    if (ec2Endpoint) env.IPAM_TEST_AWS_EC2_ENDPOINT = ec2Endpoint;
    let fakecloudEndpoint: string | null = null;
    let endpoint: string | null = null;
    let shim: ShimControl | null = null;
    if (opts.fakecloud) {
      if (!fakecloudInstalled()) throw new Error(fakecloudMissingReason());
      // Every service in memory; warn-level logs only. /_fakecloud/health answers once it serves.
      const f = await startWithFreePort(
        "fakecloud",
        (port) => launch(fakecloudPath(), ["--addr", `127.0.0.1:${port}`, "--region", AWS_TEST_REGION, "--log-level", "warn"], childEnv),
        "/_fakecloud/health",
      );
      servers.push(f.server);
      fakecloudEndpoint = f.endpoint;
      const root = path.resolve(__dirname, "../../..");
      const s = await startWithFreePort(
        "ec2-shim",
        (port) => launch(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "ec2-shim.ts")],
          { ...childEnv, SHIM_PORT: String(port), SHIM_IPAM_URL: f.endpoint, SHIM_EIP_URL: m.endpoint }, root),
        "/_shim/health",
      );
      servers.push(s.server);
      endpoint = s.endpoint;
      shim = shimControl(s.endpoint);
      env.IPAM_TEST_AWS_FAKECLOUD_ENDPOINT = f.endpoint;
      env.IPAM_TEST_AWS_ENDPOINT = s.endpoint;
    }
    return {
      ec2Endpoint,
      eipEndpoint: m.endpoint,
      fakecloudEndpoint,
      endpoint,
      shim,
      region: AWS_TEST_REGION,
      credentials: { ...AWS_TEST_CREDENTIALS },
      env,
      unavailable,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

function shimControl(base: string): ShimControl {
  const post = async (p: string, body: unknown) => {
    const r = await fetch(base + p, { method: "POST", body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`ec2-shim ${p}: HTTP ${r.status}`);
  };
  return {
    requests: async () => (await fetch(base + "/_shim/requests")).json() as Promise<{ action: string; params: Record<string, string> }[]>,
    faults: (f) => post("/_shim/faults", f),
    clear: () => post("/_shim/clear", {}),
  };
}

function fakeAwsEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: AWS_TEST_REGION,
    AWS_DEFAULT_REGION: AWS_TEST_REGION,
    // No shared config/credentials files or instance metadata lookups in tests.
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}
