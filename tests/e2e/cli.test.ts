/**
 * The "done when": after the local quickstart (real Pulumi CLI, the
 * store in the project's default .pulumi-ipam/ipam.db), `npx pulumi-ipam
 * pools` and `npx pulumi-ipam map corp -o plan.html` in the project show the
 * quickstart's pools, and `report` turns its preview --json into the pull
 * request table. npx runs the installed package's bin (node_modules/.bin/
 * pulumi-ipam, as `npm install pulumi-ipam` makes it) from the project.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { cleanup, plannedByName, project, Project, ROOT, run } from "../support/pulumi";
import { findAll, hasClass, parseXml } from "../support/xml";

const QUICKSTART = path.join(ROOT, "examples/local-quickstart");
const INSTALLED = path.join(ROOT, "node_modules/pulumi-ipam/dist/provider/cli/main.js");
const VPCS = ["vpc-east-app", "vpc-east-data", "vpc-west-app", "vpc-west-edge"];

describe("pulumi-ipam on the quickstart's store (real Pulumi CLI)", () => {
  let p: Project;
  let where: string;
  let planned: Record<string, any>;
  const db = () => path.join(p.dir, ".pulumi-ipam", "ipam.db");
  const hash = () => createHash("sha256").update(fs.readFileSync(db())).digest("hex");
  /** `npx pulumi-ipam ...` in the project, as a user who installed the package runs it. */
  const npx = (...args: string[]) => {
    const r = spawnSync("npx", ["--no-install", "pulumi-ipam", ...args], { cwd: where, encoding: "utf8", env: { ...process.env, PULUMI_IPAM_STORE: "" }, timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => {
    // The store where the quickstart keeps it: .pulumi-ipam/ipam.db beside Pulumi.yaml (no ipam:store).
    p = project(QUICKSTART, { PULUMI_IPAM_STORE: "" });
    // A user's install: the project's node_modules (here, links to ours) with .bin/pulumi-ipam in it.
    const nm = path.join(p.dir, "node_modules");
    fs.unlinkSync(nm);
    fs.mkdirSync(path.join(nm, ".bin"), { recursive: true });
    for (const e of fs.readdirSync(path.join(ROOT, "node_modules"))) if (e !== ".bin") fs.symlinkSync(path.join(ROOT, "node_modules", e), path.join(nm, e));
    fs.writeFileSync(path.join(nm, ".bin", "pulumi-ipam"), `#!/bin/sh\nexec "${process.execPath}" "${INSTALLED}" "$@"\n`, { mode: 0o755 });
    where = p.dir;
  });
  afterAll(() => {
    cleanup(p);
  });

  test("report: the preview's planned CIDRs as a Markdown table, the new pools' utilization after the change", () => {
    const r = run(p, ["preview", "--json"]);
    expect(r.code).toBe(0);
    planned = plannedByName(r.json);
    fs.writeFileSync(path.join(p.dir, "preview.json"), r.stdout);
    const md = npx("report", "preview.json");
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^### pulumi-ipam: 12 to create/);
    for (const n of VPCS) expect(md.stdout).toContain(`| \`${n}\` | IpamPoolAllocation | create | \`${planned[n].cidr}\` | corp-`);
    expect(md.stdout).toContain(`| \`nat-gateway\` | ElasticIp | create | \`${planned["nat-gateway"].publicIp}/32\` | public |`);
    // corp after the change: its two regional /12 carve-outs of its /8, as the planned CIDRs say.
    const carved = [...planned["corp-us-east-1"].cidrs, ...planned["corp-eu-west-1"].cidrs].reduce((s: number, c: string) => s + 2 ** (32 - Number(c.split("/")[1])), 0);
    const corpRow = md.stdout.split("\n").filter((l) => l.startsWith("| `corp`")).pop()!;
    expect(corpRow).toContain(`| new | ${((carved / 2 ** 24) * 100).toFixed(1)}% `);
  });

  test("after up, npx pulumi-ipam pools shows the quickstart's pools and allocations, and changes nothing", () => {
    expect(run(p, ["up"]).code).toBe(0);
    expect(fs.existsSync(db())).toBe(true);
    // The provider process may leave its WAL behind (the engine ends it); any last connection's close folds
    // it into the file (SQLite's checkpoint, no row changes). Folded first here, so the bytes compare what was read.
    const Database = require("better-sqlite3");
    const c = new Database(db());
    c.pragma("wal_checkpoint(TRUNCATE)");
    c.close();
    const before = hash();
    const r = npx("pools");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const pool of ["corp", "corp-us-east-1", "corp-eu-west-1", "corp-v6", "public"]) expect(r.stdout).toMatch(new RegExp(`(^|─ )${pool}\\s`, "m"));
    for (const n of VPCS) expect(r.stdout).toMatch(new RegExp(`${n}\\s+${planned[n].cidr.replace(/\./g, "\\.")}\\s`));
    expect(r.stdout).toMatch(/^corp\s+10\.0\.0\.0\/8\s+\/12-\/28\s+\[#{3}\.{17}\]\s+12\.5%/m);
    expect(hash()).toBe(before);
  });

  test("npx pulumi-ipam map corp -o plan.html draws corp's nested pools and their allocations", () => {
    const before = hash();
    const r = npx("map", "corp", "-o", "plan.html");
    expect(r.code).toBe(0);
    const html = fs.readFileSync(path.join(p.dir, "plan.html"), "utf8");
    const root = parseXml(html, false);
    expect(findAll(root, (e) => e.name === "rect" && hasClass(e, "alloc")).map((e) => e.attrs["data-cidr"]).sort()).toEqual(VPCS.map((n) => planned[n].cidr).sort());
    expect(findAll(root, (e) => e.name === "g" && hasClass(e, "pool")).map((e) => e.attrs["data-owner"]).sort()).toEqual(["corp-eu-west-1", "corp-us-east-1"]);
    expect(hash()).toBe(before);
  });
});
