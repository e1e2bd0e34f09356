/**
 * The generated files are not stale: scripts/codegen.sh run into a temporary
 * directory reproduces sdk/ and provider/schema/types.ts byte for byte, with
 * no file missing and none left over. Fails with the list of differing files;
 * the fix is to run scripts/codegen.sh (make codegen) and commit the result.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "../..");
/** Files beside the generated ones that codegen keeps (provider/cmd/codegen: `kept`). */
const KEPT = new Set(["sdk/go/go.mod", "sdk/go/go.sum"]);

function walk(dir: string, rel = ""): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? walk(path.join(dir, e.name), r) : [r];
  });
}

/** The checkout's files under sdk/, tracked or not, without what git ignores (build output). */
function checkoutFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "sdk"], { cwd: ROOT, encoding: "utf8" });
  return out.split("\0").filter((f) => f && fs.existsSync(path.join(ROOT, f)));
}

describe("generated code", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-codegen-"));
    // The first run builds the generator (about a minute with a warm Go cache, much longer cold).
    execFileSync("bash", [path.join(ROOT, "scripts/codegen.sh"), tmp], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], timeout: 1_500_000 });
  }, 1_600_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("sdk/ holds exactly what scripts/codegen.sh generates from schema.json", () => {
    const generated = walk(path.join(tmp, "sdk"), "sdk").sort();
    expect(generated).toEqual(expect.arrayContaining(["sdk/nodejs/package.json", "sdk/python/pyproject.toml", "sdk/go/ipam/ipamPoolAllocation.go"]));
    const committed = checkoutFiles().filter((f) => !KEPT.has(f)).sort();
    const differing = generated.filter((f) => committed.includes(f)
      && !fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(ROOT, f))));
    expect({
      missing: generated.filter((f) => !committed.includes(f)),
      leftOver: committed.filter((f) => !generated.includes(f)),
      differing,
    }).toEqual({ missing: [], leftOver: [], differing: [] });
  });

  test("provider/schema/types.ts is what scripts/codegen.sh generates from schema.json", () => {
    const f = "provider/schema/types.ts";
    expect(fs.readFileSync(path.join(ROOT, f), "utf8")).toBe(fs.readFileSync(path.join(tmp, f), "utf8"));
  });
});
