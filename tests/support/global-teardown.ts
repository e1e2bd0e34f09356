import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.IPAM_TEST_PG_DIR;
  if (!dir) return;
  execFileSync("bash", [path.join(__dirname, "../../scripts/pg.sh"), "stop", dir]);
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
}
