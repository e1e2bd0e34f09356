/**
 * Starts one PostgreSQL server on 127.0.0.1 for the whole run (scripts/pg.sh)
 * and hands its URL to the tests as IPAM_TEST_PG_URL. Each test file makes
 * its own database on it.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export default async function globalSetup(): Promise<void> {
  if (process.env.IPAM_TEST_PG_URL) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-pg-"));
  const url = execFileSync("bash", [path.join(__dirname, "../../scripts/pg.sh"), "start", path.join(dir, "data")], { encoding: "utf8" }).trim();
  process.env.IPAM_TEST_PG_URL = url;
  process.env.IPAM_TEST_PG_DIR = path.join(dir, "data");
}
