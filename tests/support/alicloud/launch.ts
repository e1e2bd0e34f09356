/**
 * The contract server in a process of its own, for end-to-end tests: the
 * Pulumi provider process (started by the Pulumi CLI) talks to it over HTTP
 * as it would to Alibaba Cloud.
 *
 *   node -r ts-node/register/transpile-only tests/support/alicloud/launch.ts
 *
 * prints one JSON line {endpoint, accessKeyId, accessKeySecret} when it
 * listens, and exits on SIGTERM/SIGINT or when its stdin closes (so it does
 * not outlive the test process that started it).
 *
 * From a test: `const s = await spawnContractServer()`, then `vpcIpam(s,
 * action, args)` to call the API (CreateIpam, List*, out-of-band deletes)
 * with the real @alicloud/openapi-client, and `s.stop()`.
 */
import OpenApiClient, { Config, OpenApiRequest, Params } from "@alicloud/openapi-client";
import OpenApiUtil from "@alicloud/openapi-util";
import { RuntimeOptions } from "@alicloud/tea-util";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { startAlicloudContractServer } from "./contract-server";

export interface ContractServerProcess {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  pid: number;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, "../../..");

export function spawnContractServer(): Promise<ContractServerProcess> {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", __filename], {
    cwd: ROOT, stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error("the contract server did not start within 60 s")), 60_000);
    child.on("exit", (code) => reject(new Error(`the contract server exited with ${code} before listening`)));
    lines.once("line", (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line) as { endpoint: string; accessKeyId: string; accessKeySecret: string };
      resolve({
        ...info,
        pid: child.pid!,
        stop: async () => {
          child.stdin!.end();
          child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}

/** One VpcIpam (2023-02-28) call to a contract server, as the generated SDK makes it. */
export async function vpcIpam(s: { endpoint: string; accessKeyId: string; accessKeySecret: string }, action: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const client = new OpenApiClient(new Config({
    accessKeyId: s.accessKeyId, accessKeySecret: s.accessKeySecret, endpoint: s.endpoint, protocol: "http", regionId: String(args.RegionId ?? ""),
  }));
  const params = new Params({
    action, version: "2023-02-28", protocol: "HTTPS", pathname: "/", method: "POST", authType: "AK", style: "RPC", reqBodyType: "formData", bodyType: "json",
  });
  for (let attempt = 1; ; attempt++) {
    try {
      const resp = await client.callApi(params, new OpenApiRequest({ query: OpenApiUtil.query(args) }), new RuntimeOptions({}));
      return resp.body as Record<string, any>;
    } catch (e: any) {
      // A kept-alive connection the server closed meanwhile ("socket hang up"): the request never arrived; send it again.
      if (attempt < 3 && !e?.data && e?.code === "ECONNRESET") continue;
      throw e;
    }
  }
}

/** Every item of a List action, following NextToken. */
export async function vpcIpamList(s: Parameters<typeof vpcIpam>[0], action: string, field: string, args: Record<string, unknown>): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  let token: string | undefined;
  do {
    const page = await vpcIpam(s, action, { ...args, MaxResults: 100, NextToken: token });
    out.push(...(page[field] ?? []));
    token = page.NextToken || undefined;
  } while (token);
  return out;
}

async function main(): Promise<void> {
  const server = await startAlicloudContractServer();
  const stop = () => { server.stop().finally(() => process.exit(0)); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, accessKeyId: server.accessKeyId, accessKeySecret: server.accessKeySecret })}\n`);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  });
}
