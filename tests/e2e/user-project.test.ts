/**
 * The package as a user gets it: `npm pack` of this checkout, installed with
 * npm into a project in a temporary directory outside the repository (its
 * own Pulumi.yaml, index.ts and node_modules; no tsconfig.json), run with
 * the package's bin (`npx pulumi-ipam run`). Nothing of the checkout is on
 * its module path, so a file missing from the package or a config found by
 * accident in the repo fails here.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../support/pulumi";

const PULUMI_VERSION: string = require("../../package.json").dependencies["@pulumi/pulumi"];
const devDeps: Record<string, string> = require("../../package.json").devDependencies;

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 300_000, env: { ...clean(process.env), ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
  return r.stdout;
}

/** The user's environment: none of the test suite's IPAM settings. */
function clean(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("PULUMI_IPAM_") && !k.startsWith("IPAM_TEST_") && k !== "PULUMI_BACKEND_URL"));
}

const PROGRAM = `import * as ipam from "pulumi-ipam";

const corp = new ipam.IpamPool("corp", { addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], allocationDefaultNetmaskLength: 16 });
const east = new ipam.IpamPool("east", { addressFamily: "ipv4", sourceIpamPoolId: corp.ipamPoolId, netmaskLength: 12, allocationDefaultNetmaskLength: 20 });
const app = new ipam.IpamPoolAllocation("app", { ipamPoolId: east.ipamPoolId });
const db = new ipam.IpamPoolAllocation("db", { ipamPoolId: east.ipamPoolId });
export const appCidr = app.cidr;
export const dbCidr = db.cidr;
`;

describe("a user's own project outside the checkout", () => {
  let dir: string;
  const env = { PULUMI_CONFIG_PASSPHRASE: "user" };
  const run = (...args: string[]) => JSON.parse(sh("npx", ["--no-install", "pulumi-ipam", "run", ".", ...args, "--json"], dir, env));

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-user-"));
    expect(path.relative(ROOT, dir).startsWith("..")).toBe(true);
    const tarball = sh("npm", ["pack", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").pop()!;
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: my-address-plan\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "my-address-plan", private: true }));
    sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error",
      path.join(dir, tarball), `@pulumi/pulumi@${PULUMI_VERSION}`, `typescript@${devDeps.typescript}`, `ts-node@${devDeps["ts-node"]}`], dir);
  }, 300_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("preview plans, up allocates exactly that, with the project's TypeScript and no tsconfig.json", () => {
    expect(fs.existsSync(path.join(dir, "tsconfig.json"))).toBe(false);
    const preview = run("preview");
    const planned = Object.fromEntries(preview.steps.filter((s: any) => s.type.endsWith("IpamPoolAllocation")).map((s: any) => [s.urn.split("::").pop(), s.inputs.cidr]));
    expect(planned.app).toMatch(/^10\.\d+\.\d+\.0\/20$/);
    expect(planned.db).toMatch(/^10\.\d+\.\d+\.0\/20$/);
    expect(planned.app).not.toBe(planned.db);
    const up = run("up");
    expect(up.outputs).toEqual({ appCidr: planned.app, dbCidr: planned.db });
    // The default store: a SQLite file beside the project, kept out of the user's repository.
    expect(fs.existsSync(path.join(dir, ".pulumi-ipam", "ipam.db"))).toBe(true);
    expect(fs.readFileSync(path.join(dir, ".pulumi-ipam", ".gitignore"), "utf8")).toBe("*\n");
  });

  test("without ts-node in the project, Node's own type stripping runs the program: no change", () => {
    sh("npm", ["uninstall", "--no-audit", "--no-fund", "--loglevel=error", "ts-node", "typescript"], dir);
    const preview = run("preview", "--expect-no-changes");
    expect(preview.changeSummary.same).toBe(5);
  });
});
