/** A fresh database on the run's PostgreSQL server, for one test file. */
import { Client } from "pg";

export async function freshPgDatabase(name: string): Promise<string> {
  const base = process.env.IPAM_TEST_PG_URL;
  if (!base) throw new Error("IPAM_TEST_PG_URL is not set: tests/support/global-setup.ts starts PostgreSQL");
  const db = `${name.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${Date.now() % 100000}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  return base.replace(/\/[^/]*$/, `/${db}`);
}
