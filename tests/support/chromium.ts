/**
 * Headless Chromium (Debian's `chromium`, installed by scripts/install-chromium.sh)
 * for the map tests: a screenshot of a page and its DOM after its scripts ran.
 * Started with no network services, no sync, no first-run, in a fresh profile.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function chromiumPath(): string | undefined {
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      const p = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (p) return p;
    } catch { /* next */ }
  }
  return undefined;
}

export const chromiumMissingReason = () => "chromium is not installed; run scripts/install-chromium.sh (apt-get install chromium)";

function run(args: string[]): string {
  const bin = chromiumPath();
  if (!bin) throw new Error(chromiumMissingReason());
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-chromium-"));
  try {
    const r = spawnSync(bin, [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run", `--user-data-dir=${profile}`, "--hide-scrollbars", "--force-device-scale-factor=1", ...args,
    ], { encoding: "utf8", timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`chromium exited with ${r.status}: ${r.stderr.split("\n").filter((l) => !/dbus|Fontconfig/.test(l)).slice(-5).join("\n")}`);
    return r.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Writes a PNG of `url` as a window of width x height. */
export function screenshot(url: string, file: string, width = 1400, height = 900): void {
  run([`--window-size=${width},${height}`, `--screenshot=${file}`, url]);
  if (!fs.existsSync(file)) throw new Error(`chromium wrote no screenshot to ${file}`);
}

/** The page's DOM, serialized after its scripts ran. */
export function dumpDom(url: string, width = 1400, height = 900): string {
  return run([`--window-size=${width},${height}`, "--dump-dom", url]);
}
