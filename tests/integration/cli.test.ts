/**
 * `pulumi-ipam` as a user runs it (a process, its stdout, stderr and exit
 * code) on a store seeded with nested IPv4 and IPv6 pools, on SQLite and on
 * PostgreSQL. Every number (utilization, free blocks, how many /N fit) is
 * checked against a brute-force bitmap of the pool built from what the
 * seeding calls returned, never against the tool's own output; after every
 * command the store is byte for byte (SQLite file) and row for row (every
 * table) what it was.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Store } from "../../provider/core/store";
import { BACKENDS } from "../support/backends";
import { Bitmap, cleanEnv, key, runCli, Seeded, seedStore, sqliteFingerprint } from "../support/cli";
import { progress } from "../../provider/cli/progress";
import { dumperFor } from "../support/dump";
import { findAll, hasClass, parseXml, textOf } from "../support/xml";

const STORES = BACKENDS.filter((b) => b.name === "sqlite" || b.name === "postgres");

/** Cells small enough for every allocation of each seeded pool. */
const CELL: Record<string, number> = { corp: 28, east: 28, west: 28, v6: 60, "v6-east": 60, public: 32 };

const pct = (a: bigint, t: bigint) => (Number(a) / Number(t)) * 100;
const oneLine = (s: string) => s.trim().split("\n").length === 1;

describe.each(STORES)("pulumi-ipam on $name", (backend) => {
  let url: string;
  let seeded: Seeded;
  let before: string;
  const snapshot = async () => {
    const d = await dumperFor({} as Store, url);
    try {
      return `${url.startsWith("sqlite:") ? sqliteFingerprint(url) : ""}\n${await d.dump()}`;
    } finally {
      await d.close();
    }
  };
  const bitmap = (name: string, extra: string[] = []) => new Bitmap(seeded.pools[name].cidrs[0], CELL[name], [...seeded.pools[name].used, ...extra]);
  const cli = (...args: string[]) => runCli([...args, "--store", url]);

  beforeAll(async () => {
    url = await backend.create();
    seeded = await seedStore(url);
    before = await snapshot();
  }, 120_000);
  afterEach(async () => {
    // Read-only: nothing any command did changed a byte of the store.
    expect(await snapshot()).toBe(before);
  });
  afterAll(async () => {
    if (url) await backend.destroy(url);
  });

  describe("pools", () => {
    test("--json: the tree (nested pools under their source), names from the plan reservations, numbers as the bitmap counts them", () => {
      const r = cli("pools", "--json");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      const names = (list: { name: string }[]) => list.map((p) => p.name);
      expect(names(doc.pools)).toEqual(["corp", "public", "v6"]);
      const corp = doc.pools[0];
      expect(names(corp.children)).toEqual(["east", "west"]);
      expect(names(doc.pools[2].children)).toEqual(["v6-east"]);
      const all = new Map<string, any>();
      const walk = (p: any) => { all.set(p.name, p); p.children.forEach(walk); };
      doc.pools.forEach(walk);
      for (const [name, s] of Object.entries(seeded.pools)) {
        const p = all.get(name);
        expect(p).toBeDefined();
        expect(p.ipamPoolId).toBe(s.id);
        expect(p.key).toBe(key("IpamPool", name));
        const b = bitmap(name);
        expect(BigInt(p.total)).toBe(b.total());
        expect(BigInt(p.allocated)).toBe(b.allocated());
        expect(p.utilization).toBeCloseTo(pct(b.allocated(), b.total()), 1);
      }
      const east = all.get("east");
      expect(east.allocations.map((a: any) => [a.name, a.cidr])).toEqual(["vpc-a", "vpc-b", "vpc-c"].map((n) => [n, seeded.allocations[n].cidr]));
      expect(east.locale).toBe("us-east-1");
      expect(east.plans.map((p: any) => [p.name, p.cidrs[0], p.state])).toEqual([[seeded.planned.name, seeded.planned.cidr, "planned"]]);
      expect(all.get("public").allocations[0]).toMatchObject({ name: "nat", cidr: `${seeded.eip.publicIp}/32`, resourceType: "eip", resourceId: seeded.eip.allocationId });
      expect(all.get("corp").allocations.find((a: any) => a.cidr === seeded.allocations["dc-1"].cidr)).toMatchObject({ resourceId: "dc-1", owner: "dc-1" });
    });

    test("text, piped: no ANSI escapes; one line per pool and allocation with its name, CIDRs, rules and utilization", () => {
      const r = cli("pools");
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/\u001b\[/);
      expect(r.stderr).toBe("");
      const lines = r.stdout.trimEnd().split("\n");
      const lineOf = (name: string) => lines.find((l) => new RegExp(`(^|[─ ])${name.replace(/[-]/g, "\\-")}\\s`).test(l));
      for (const [name, s] of Object.entries(seeded.pools)) {
        const l = lineOf(name);
        expect(l).toBeDefined();
        expect(l).toContain(s.cidrs[0]);
        const shown = Number(/(\d+\.\d+)%/.exec(l!)![1]);
        const b = bitmap(name);
        expect(Math.abs(shown - pct(b.allocated(), b.total()))).toBeLessThan(0.051);
        expect(l).toMatch(/\[[#.]{20}\]/);
      }
      expect(lineOf("corp")).toContain("/16-/28");
      expect(lineOf("east")).toMatch(/us-east-1\s+default \/22/);
      for (const [name, a] of Object.entries(seeded.allocations)) expect(lineOf(name)).toContain(a.cidr);
      expect(lineOf("vpc-planned")).toMatch(/planned/);
      // Nested pools and allocations are drawn as a tree under their pool.
      expect(lines.findIndex((l) => l.startsWith("├─ east"))).toBeGreaterThan(lines.findIndex((l) => l.startsWith("corp")));
      expect(r.stdout).toMatch(/│ {2}├─ vpc-a/);
    });

    test("--limit 1 lists one allocation per pool and says how many more", () => {
      const r = cli("pools", "--limit", "1");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("vpc-a");
      expect(r.stdout).not.toContain("vpc-b");
      expect(r.stdout).toMatch(/\.\.\. 2 more allocations \(--all lists them\)/);
    });
  });

  describe("free", () => {
    test.each(["east", "corp", "v6-east", "v6", "public"])("free %s --json: free blocks cover exactly the free cells; each /N count as the bitmap finds it", (name) => {
      const r = cli("free", name, "--json");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      const b = bitmap(name);
      expect(BigInt(doc.free)).toBe(b.total() - b.allocated());
      // The blocks listed are free, disjoint, and together every free cell.
      const covered = new Bitmap(seeded.pools[name].cidrs[0], CELL[name], doc.freeBlocks.filter((c: string) => Number(c.split("/")[1]) <= CELL[name]));
      const small = doc.freeBlocks.filter((c: string) => Number(c.split("/")[1]) > CELL[name]);
      expect(small).toEqual([]);
      for (let i = 0; i < b.cells.length; i++) expect(covered.cells[i]).toBe(b.cells[i] ? 0 : 1);
      expect(covered.allocated()).toBe(b.total() - b.allocated());
      expect(doc.fit.length).toBeGreaterThan(0);
      for (const row of doc.fit) expect([row.length, BigInt(row.fit)]).toEqual([row.length, b.fits(row.length)]);
    });

    test("free east: the live plan's space is counted apart (outside live plans), as a bitmap with it marked used finds", () => {
      const r = cli("free", "east", "--json", "--length", "20,21,22,24");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      const withPlan = bitmap("east", [seeded.planned.cidr]);
      expect(doc.fit.map((f: any) => f.length)).toEqual([20, 21, 22, 24]);
      for (const row of doc.fit) expect(BigInt(row.outsidePlans)).toBe(withPlan.fits(row.length));
      expect(doc.planned).toEqual([{ name: seeded.planned.name, cidr: seeded.planned.cidr }]);
    });

    test("free text: the table of lengths, rules marked", () => {
      const r = cli("free", "corp");
      expect(r.code).toBe(0);
      const b = bitmap("corp");
      const row = r.stdout.split("\n").find((l) => /^\s+\/20\s/.test(l))!;
      expect(row.trim().split(/\s+/)[1].replace(/,/g, "")).toBe(b.fits(20).toString());
      expect(r.stdout).toMatch(/free blocks \(\d+\):/);
    });

    test("a pool by its id and by one of its CIDRs is the same pool", () => {
      const byId = JSON.parse(cli("free", seeded.pools.west.id, "--json").stdout);
      const byCidr = JSON.parse(cli("free", seeded.pools.west.cidrs[0], "--json").stdout);
      expect(byId.name).toBe("west");
      expect(byCidr.name).toBe("west");
    });
  });

  describe("show", () => {
    test("an address: its pools outermost first, its allocation with resource, type and tags", () => {
      const a = seeded.allocations["vpc-a"];
      const addr = a.cidr.replace(/0\/20$/, "7");
      const r = cli("show", addr, "--json");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.cidr).toBe(`${addr}/32`);
      expect(doc.pools.map((p: any) => p.name)).toEqual(["corp", "east"]);
      expect(doc.allocations).toHaveLength(1);
      expect(doc.allocations[0]).toMatchObject({ name: "vpc-a", cidr: a.cidr, ipamPoolAllocationId: a.id, resourceType: "vpc", description: "app", resourceTags: { env: "prod", owner: "team-app" } });
      // Held plans of what is shown are not repeated (the allocation line names its URN).
      expect(doc.plans).toEqual([]);
      expect(doc.allocations[0].key).toBe(key("IpamPoolAllocation", "vpc-a"));
      const text = cli("show", addr);
      expect(text.stdout).toMatch(/allocation\s+vpc-a/);
      expect(text.stdout).toContain("tags env=prod, owner=team-app");
    });

    test("a planned CIDR: the live plan, not yet allocated", () => {
      const r = cli("show", seeded.planned.cidr, "--json");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.allocations).toEqual([]);
      expect(doc.plans).toEqual([expect.objectContaining({ name: "vpc-planned", state: "planned", cidrs: [seeded.planned.cidr], key: key("IpamPoolAllocation", "vpc-planned") })]);
    });

    test("an IPv6 CIDR, an allocation id, an Elastic IP id, a resource name", () => {
      const v6 = JSON.parse(cli("show", seeded.allocations["v6-b"].cidr, "--json").stdout);
      expect(v6.pools.map((p: any) => p.name)).toEqual(["v6", "v6-east"]);
      expect(v6.allocations.map((a: any) => a.name)).toEqual(["v6-b"]);
      const byId = JSON.parse(cli("show", seeded.allocations["dc-1"].id, "--json").stdout);
      expect(byId.allocations[0]).toMatchObject({ resourceId: "dc-1", description: "legacy data centre", cidr: seeded.allocations["dc-1"].cidr });
      const eip = JSON.parse(cli("show", seeded.eip.allocationId, "--json").stdout);
      expect(eip.allocations[0]).toMatchObject({ name: "nat", cidr: `${seeded.eip.publicIp}/32`, resourceTags: { role: "nat" } });
      const named = JSON.parse(cli("show", "vpc-w", "--json").stdout);
      expect(named.allocations.map((a: any) => a.cidr)).toEqual([seeded.allocations["vpc-w"].cidr]);
    });

    test("an address in no pool: says so, exit 1", () => {
      const r = cli("show", "192.0.2.1");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("in no pool");
    });
  });

  describe("usage", () => {
    test("--fail-above: exit 1 naming exactly the pools the bitmap puts above the threshold; 0 when none is", () => {
      const threshold = 40;
      const above = Object.keys(seeded.pools).filter((n) => { const b = bitmap(n); return pct(b.allocated(), b.total()) > threshold; });
      expect(above.length).toBeGreaterThan(0);
      const r = cli("usage", "--fail-above", String(threshold));
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toBe(true);
      const named = r.stderr.replace(/^pools above 40%: /, "").trim().split(", ").map((s) => s.replace(/ \(.*\)$/, ""));
      expect(named.sort()).toEqual(above.sort());
      const ok = cli("usage", "--fail-above", "100");
      expect(ok.code).toBe(0);
      expect(ok.stderr).toBe("");
      for (const n of Object.keys(seeded.pools)) expect(ok.stdout).toContain(n);
    });
  });

  describe("map", () => {
    let dir: string;
    beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-map-")); });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("map corp -o corp.svg: well-formed SVG; one region per allocation with its CIDR in a tooltip, coloured as its legend entry; areas as the addresses", () => {
      const file = path.join(dir, "corp.svg");
      const r = cli("map", "corp", "-o", file);
      expect(r.code).toBe(0);
      const root = parseXml(fs.readFileSync(file, "utf8"));
      const allocs = findAll(root, (e) => e.name === "rect" && hasClass(e, "alloc"));
      const expected = ["vpc-a", "vpc-b", "vpc-c", "vpc-w", "dc-1"].map((n) => seeded.allocations[n]);
      expect(allocs.map((e) => e.attrs["data-id"]).sort()).toEqual(expected.map((a) => a.id).sort());
      const legend = findAll(root, (e) => hasClass(e, "legend-entry"));
      const colorOf = new Map(legend.filter((e) => e.attrs["data-owner"]).map((e) => [`${e.attrs["data-kind"]} ${e.attrs["data-owner"]}`, e.attrs["data-color"]]));
      const panel = findAll(root, (e) => hasClass(e, "panel"))[0];
      const panelArea = Number(panel.attrs.width) * Number(panel.attrs.height);
      for (const a of expected) {
        const el = allocs.find((e) => e.attrs["data-id"] === a.id)!;
        const title = el.children.find((c) => c.name === "title");
        expect(textOf(title!)).toContain(a.cidr);
        expect(el.attrs["data-cidr"]).toBe(a.cidr);
        expect(el.attrs.fill).toBe(colorOf.get(`allocation ${el.attrs["data-owner"]}`));
        const share = Number(el.attrs.width) * Number(el.attrs.height) / panelArea;
        expect(share).toBeCloseTo(2 ** -(Number(a.cidr.split("/")[1]) - 16), 6);
      }
      // Owners: the owner tag first, else the resource name, else the resourceId.
      expect(allocs.find((e) => e.attrs["data-id"] === seeded.allocations["vpc-a"].id)!.attrs["data-owner"]).toBe("team-app");
      expect(allocs.find((e) => e.attrs["data-id"] === seeded.allocations["dc-1"].id)!.attrs["data-owner"]).toBe("dc-1");
      expect(new Set(allocs.map((e) => e.attrs.fill)).size).toBe(allocs.length);
      // Nested pools are framed regions; free space and plans are in the legend.
      expect(findAll(root, (e) => hasClass(e, "pool")).map((e) => e.attrs["data-owner"]).sort()).toEqual(["east", "west"]);
      expect(legend.map((e) => e.attrs["data-kind"])).toEqual(expect.arrayContaining(["free", "plan", "pool", "allocation"]));
      expect(findAll(root, (e) => hasClass(e, "plan")).map((e) => e.attrs["data-cidr"])).toEqual([seeded.planned.cidr]);
    });

    test("map v6 -o v6.svg and map -o all.svg: every allocation of every pool once", () => {
      const v6 = path.join(dir, "v6.svg");
      expect(cli("map", "v6", "-o", v6).code).toBe(0);
      const allocs = findAll(parseXml(fs.readFileSync(v6, "utf8")), (e) => e.name === "rect" && hasClass(e, "alloc"));
      expect(allocs.map((e) => e.attrs["data-cidr"]).sort()).toEqual(["v6-a", "v6-b", "v6-direct"].map((n) => seeded.allocations[n].cidr).sort());
      const all = path.join(dir, "all.svg");
      const r = cli("map", "-o", all);
      expect(r.code).toBe(0);
      const root = parseXml(fs.readFileSync(all, "utf8"));
      expect(findAll(root, (e) => hasClass(e, "panel"))).toHaveLength(3);
      expect(findAll(root, (e) => e.name === "rect" && hasClass(e, "alloc"))).toHaveLength(Object.keys(seeded.allocations).length + 1);
    });

    test("map corp -o corp.html: one file, no network reference, the same regions, tooltips and legend", () => {
      const file = path.join(dir, "corp.html");
      expect(cli("map", "corp", "-o", file).code).toBe(0);
      const html = fs.readFileSync(file, "utf8");
      expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")).not.toMatch(/https?:\/\/|\bsrc=|<link\b|@import/);
      const root = parseXml(html, false);
      expect(findAll(root, (e) => e.name === "rect" && hasClass(e, "alloc"))).toHaveLength(5);
      expect(findAll(root, (e) => e.name === "li" && hasClass(e, "legend-entry")).length).toBeGreaterThanOrEqual(7);
    });
  });

  describe("report", () => {
    let dir: string;
    beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-report-")); });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const T = "pulumi-nodejs:dynamic/ipam:";

    test("the runner's preview --json: one row per change, the planned CIDR and note; pools' utilization after, as the bitmap with the change counts it", () => {
      const east = seeded.pools.east.id;
      const doc = {
        changeSummary: { create: 2, same: 1, delete: 1 },
        steps: [
          { urn: "urn:pulumi:dev::cli-test::pulumi:pulumi:Stack::cli-test-dev", op: "same", type: "pulumi:pulumi:Stack", inputs: {}, outputs: {} },
          { urn: key("IpamPoolAllocation", "vpc-planned"), op: "create", type: `${T}IpamPoolAllocation`, inputs: { ipamPoolId: east, cidr: seeded.planned.cidr, planNote: "a | note" }, outputs: {} },
          { urn: key("IpamPoolAllocation", "vpc-a"), op: "same", type: `${T}IpamPoolAllocation`, inputs: { ipamPoolId: east, cidr: seeded.allocations["vpc-a"].cidr }, outputs: {} },
          // The runner writes no old state for a delete: what it releases comes from the store's held reservation.
          { urn: key("IpamPoolAllocation", "vpc-c"), op: "delete", type: `${T}IpamPoolAllocation`, inputs: {}, outputs: {} },
          { urn: key("IpamPool", "new-pool"), op: "create", type: `${T}IpamPool`, inputs: { ipamPoolId: "ipam-pool-0123456789abcdef0", cidrs: ["10.9.0.0/16"], addressFamily: "ipv4" }, outputs: {} },
        ],
      };
      const file = path.join(dir, "runner.json");
      fs.writeFileSync(file, JSON.stringify(doc));
      const r = cli("report", file);
      expect(r.code).toBe(0);
      const md = r.stdout;
      expect(md).toMatch(/^### pulumi-ipam: 2 to create, 1 to delete/);
      const row = (name: string) => md.split("\n").find((l) => l.startsWith(`| \`${name}\``))!;
      expect(row("vpc-planned")).toContain(`| create | \`${seeded.planned.cidr}\` | east | a \\| note |`);
      expect(row("vpc-c")).toContain(`| delete | \`${seeded.allocations["vpc-c"].cidr}\` | east |`);
      expect(row("new-pool")).toContain("| create | `10.9.0.0/16` | (top level) |");
      expect(md).not.toContain("`vpc-a`");
      const after = new Bitmap(seeded.pools.east.cidrs[0], 28, [...seeded.pools.east.used.filter((c) => c !== seeded.allocations["vpc-c"].cidr), seeded.planned.cidr]);
      const now = bitmap("east");
      const poolRow = md.split("\n").find((l) => l.startsWith("| `east`"))!;
      const [, nowPct, afterPct] = /\| ([\d.]+)% .*\| ([\d.]+)% /.exec(poolRow)!;
      expect(Number(nowPct)).toBeCloseTo(pct(now.allocated(), now.total()), 1);
      expect(Number(afterPct)).toBeCloseTo(pct(after.allocated(), after.total()), 1);
      expect(md.split("\n").filter((l) => l.startsWith("| `new-pool`"))[1]).toMatch(/\| new \| 0\.0% /);
    });

    test("pulumi preview --json (newState/oldState): replace and delete read the old state", () => {
      const west = seeded.pools.west.id;
      const old = seeded.allocations["vpc-w"].cidr;
      const doc = {
        steps: [
          { op: "create-replacement", urn: key("IpamPoolAllocation", "vpc-w"), newState: { type: `${T}IpamPoolAllocation`, inputs: { ipamPoolId: west, cidr: "10.0.96.0/20" } }, oldState: { type: `${T}IpamPoolAllocation`, inputs: { ipamPoolId: west, cidr: old } } },
          { op: "replace", urn: key("IpamPoolAllocation", "vpc-w"), newState: { type: `${T}IpamPoolAllocation`, inputs: { ipamPoolId: west, cidr: "10.0.96.0/20" } }, oldState: { type: `${T}IpamPoolAllocation`, inputs: { ipamPoolId: west, cidr: old } } },
          { op: "delete-replaced", urn: key("IpamPoolAllocation", "vpc-w"), oldState: { type: `${T}IpamPoolAllocation`, inputs: { ipamPoolId: west, cidr: old } } },
          { op: "create", urn: key("IpamPoolAllocation", "unknown"), newState: { type: "ipam:index:IpamPoolAllocation", inputs: { ipamPoolId: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", cidr: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } } },
        ],
        changeSummary: { replace: 1, create: 1 },
      };
      const file = path.join(dir, "pulumi.json");
      fs.writeFileSync(file, JSON.stringify(doc));
      const r = runCli(["report", "-", "--store", url], { input: JSON.stringify(doc) });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^### pulumi-ipam: 1 to create, 1 to replace/);
      expect(r.stdout).toContain("| `vpc-w` | IpamPoolAllocation | replace | `10.0.96.0/20` | west |");
      expect(r.stdout).toContain("| `unknown` | IpamPoolAllocation | create | _known after apply_ |");
      const after = new Bitmap(seeded.pools.west.cidrs[0], 28, ["10.0.96.0/20"]);
      const poolRow = r.stdout.split("\n").find((l) => l.startsWith("| `west`"))!;
      expect(Number(/\| [\d.]+% .*\| ([\d.]+)% /.exec(poolRow)![1])).toBeCloseTo(pct(after.allocated(), after.total()), 1);
      expect(cli("report", file).stdout).toBe(r.stdout);
    });
  });

  describe("bad arguments: one line on stderr starting with the code, exit 2, nothing written", () => {
    const cases: [string, string[], string][] = [
      ["an unknown pool", ["free", "no-such-pool"], "InvalidIpamPoolId.NotFound"],
      ["a malformed address", ["show", "10.0.0.300"], "IllegalParam.Cidr"],
      ["a CIDR with host bits", ["show", "10.0.0.1/16"], "IllegalParam.Cidr"],
      ["a prefix too long", ["show", "10.0.0.0/33"], "IllegalParam.Cidr"],
      ["an unknown allocation id", ["show", "ipam-pool-alloc-00000000000000000000000000000000"], "InvalidIpamPoolAllocationId.NotFound"],
      ["a length out of range", ["free", "corp", "--length", "40"], "IllegalParam.CidrMask"],
      ["an unknown option", ["pools", "--frobnicate"], "InvalidParameterValue"],
      ["a threshold above 100", ["usage", "--fail-above", "150"], "InvalidParameterValue"],
      ["map without -o", ["map", "corp"], "InvalidParameterValue"],
      ["map to a .png", ["map", "corp", "-o", "/tmp/x.png"], "InvalidParameterValue"],
      ["a missing preview file", ["report", "/nonexistent/preview.json"], "InvalidParameterValue"],
      ["an unknown backend", ["pools", "--backend", "gcp"], "InvalidParameterValue"],
      ["a missing argument", ["free"], "InvalidParameterValue"],
    ];
    test.each(cases)("%s", (_what, args, code) => {
      const r = cli(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(oneLine(r.stderr)).toBe(true);
      expect(r.stderr.startsWith(`${code}: `)).toBe(true);
    });
  });
});

describe("configuration and stores (SQLite)", () => {
  const sqlite = BACKENDS.find((b) => b.name === "sqlite")!;
  let url: string;
  let file: string;
  let project: string;
  beforeAll(async () => {
    url = await sqlite.create();
    file = url.slice("sqlite:".length);
    await seedStore(url);
    project = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-project-"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: cli-test\nruntime: nodejs\n");
  }, 60_000);
  afterAll(async () => {
    await sqlite.destroy(url);
    fs.rmSync(project, { recursive: true, force: true });
  });
  const names = (r: { stdout: string }) => (JSON.parse(r.stdout).pools as { name: string }[]).map((p) => p.name);

  test("a missing store: exit 2 naming it, and neither the file nor its directory is created", () => {
    const missing = path.join(os.tmpdir(), `ipam-missing-${process.pid}`, "ipam.db");
    const r = runCli(["pools", "--store", `sqlite:${missing}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^InvalidParameterValue: store .* does not exist/);
    expect(oneLine(r.stderr)).toBe(true);
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-empty-"));
    const d = runCli(["usage", "--cwd", empty]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/^InvalidParameterValue: store .*\.pulumi-ipam\/ipam\.db.* does not exist/);
    expect(fs.readdirSync(empty)).toEqual([]);
    fs.rmSync(empty, { recursive: true });
  });

  test("a PostgreSQL database that does not exist, or one without a store: exit 2", () => {
    const base = process.env.IPAM_TEST_PG_URL!;
    const r = runCli(["pools", "--store", base.replace(/\/[^/]*$/, "/no_such_database_here")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^InvalidParameterValue: store .* does not exist/);
    const bare = runCli(["pools", "--store", base]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^InvalidParameterValue: store .* is not a pulumi-ipam store/);
  });

  test("the default store is .pulumi-ipam/ipam.db in --cwd (or the current directory)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-cwd-"));
    fs.mkdirSync(path.join(dir, ".pulumi-ipam"));
    fs.copyFileSync(file, path.join(dir, ".pulumi-ipam", "ipam.db"));
    expect(names(runCli(["pools", "--json", "--cwd", dir]))).toEqual(["corp", "public", "v6"]);
    expect(names(runCli(["pools", "--json"], { cwd: dir }))).toEqual(["corp", "public", "v6"]);
    fs.rmSync(dir, { recursive: true });
  });

  test("PULUMI_IPAM_STORE is read; --store beats it", () => {
    expect(names(runCli(["pools", "--json"], { env: cleanEnv({ PULUMI_IPAM_STORE: url }) }))).toEqual(["corp", "public", "v6"]);
    const r = runCli(["pools", "--json", "--store", url], { env: cleanEnv({ PULUMI_IPAM_STORE: "sqlite:/nonexistent/x.db" }) });
    expect(r.code).toBe(0);
  });

  test("--stack reads ipam:store from Pulumi.<stack>.yaml; a secret there is refused with what to do; an unknown stack is exit 2", () => {
    fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), `config:\n  ipam:store: ${url}\n  other:key: 1\n`);
    expect(names(runCli(["pools", "--json", "--cwd", project, "--stack", "dev"]))).toEqual(["corp", "public", "v6"]);
    fs.writeFileSync(path.join(project, "Pulumi.sec.yaml"), "config:\n  ipam:store:\n    secure: AAABAGx0cQ==\n");
    const s = runCli(["pools", "--cwd", project, "--stack", "sec"]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^InvalidParameterValue: ipam:store is a secret in Pulumi\.sec\.yaml.*--store or PULUMI_IPAM_STORE/);
    expect(names(runCli(["pools", "--json", "--cwd", project, "--stack", "sec"], { env: cleanEnv({ PULUMI_IPAM_STORE: url }) }))).toEqual(["corp", "public", "v6"]);
    const u = runCli(["pools", "--cwd", project, "--stack", "prod"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^InvalidParameterValue: --stack "prod": .*Pulumi\.prod\.yaml does not exist/);
  });

  test("a store of an older schema is refused, not migrated (migrating writes)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-old-"));
    const old = path.join(dir, "ipam.db");
    fs.copyFileSync(file, old);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require("better-sqlite3");
    const db = new Database(old);
    db.prepare("UPDATE ipam_schema SET version = version - 1").run();
    db.close();
    const bytes = fs.readFileSync(old);
    const r = runCli(["pools", "--store", `sqlite:${old}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^InvalidParameterValue: store .* has schema version \d+, older/);
    expect(fs.readFileSync(old).equals(bytes)).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });

  test("colours only on a terminal: under a pseudo-terminal (script) the tree has ANSI colours and Unicode bars; NO_COLOR turns colours off", () => {
    const cmd = [process.execPath, "-r", "ts-node/register/transpile-only", path.join(__dirname, "../../provider/cli/main.ts"), "pools", "--store", url].map((a) => `'${a}'`).join(" ");
    const tty = require("node:child_process").spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", env: cleanEnv({ TERM: "xterm" }), cwd: path.join(__dirname, "../..") });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/\u001b\[1mcorp\u001b\[0m/);
    expect(tty.stdout).toContain("█");
    const plain = require("node:child_process").spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", env: cleanEnv({ TERM: "xterm", NO_COLOR: "1" }), cwd: path.join(__dirname, "../..") });
    expect(plain.stdout).not.toMatch(/\u001b\[\d+m/);
  });

  test("progress: on a terminal only, once an operation has run 300 ms, one line rewritten in place and erased at the end", () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const writes: string[] = [];
      const tty = { isTTY: true, write: (t: string) => writes.push(t) } as unknown as NodeJS.WriteStream;
      const bar = progress("listing aws pools", tty);
      bar.update(1, 40, "pools' allocations");
      expect(writes).toEqual([]);
      jest.setSystemTime(1_000_400);
      bar.update(2, 40, "pools' allocations");
      bar.update(3, 40, "pools' allocations");
      expect(writes).toEqual(["\r\u001b[2Klisting aws pools: 2/40 pools' allocations"]);
      bar.end();
      expect(writes[writes.length - 1]).toBe("\r\u001b[2K");
      const piped: string[] = [];
      const pipe = progress("x", { isTTY: false, write: (t: string) => piped.push(t) } as unknown as NodeJS.WriteStream);
      jest.setSystemTime(1_002_000);
      pipe.update(1, 2, "y");
      pipe.end();
      expect(piped).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });

  test("--help on every command (exit 0, its usage and options); no command: the list, exit 2", () => {
    for (const c of ["pools", "free", "show", "usage", "map", "report", "run"]) {
      const r = runCli([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`usage: pulumi-ipam ${c}`));
    }
    expect(runCli(["free", "--help"]).stdout).toMatch(/--stack NAME/);
    const none = runCli([]);
    expect(none.code).toBe(2);
    for (const c of ["pools", "free", "show", "usage", "map", "report", "run"]) expect(none.stdout).toContain(`  ${c}`);
    const unknown = runCli(["frob"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^InvalidParameterValue: unknown command/);
  });
});
