/**
 * Scopes (provider/core/scopes.ts): top-level pools of one scope never
 * overlap, at create, at provision and at plan time; pools of different
 * scopes may; nested pools are in their source's scope. On every store, and
 * with two stores on one database (what two processes are) racing for the
 * same space.
 */
import { DEFAULT_SCOPE_ID } from "../../provider/core/scopes";
import { Ipam } from "../../provider/core/ipam";
import { Planner } from "../../provider/core/plan";
import type { Store } from "../../provider/core/store";
import { openStore } from "../../provider/stores";
import { MemoryStore } from "../../provider/stores/memory";
import { BACKENDS, codeOf, expectRejectedUnchanged, snapshot, useBackend } from "../support/backends";
import type { Op } from "../support/ipam-worker";
import { killAllWorkers, startTogether, startWorker } from "../support/workers";

afterAll(() => killAllWorkers());

const CONFLICT = "OperationDenied.CidrUnavailableInPool";
const B = "ipam-scope-0b0b0b0b0b0b0b0b0";
const v4 = (cidrs: string[], more: Record<string, unknown> = {}) => ({ addressFamily: "ipv4", cidrs, ...more });

describe.each(BACKENDS)("scopes on $name", (backend) => {
  const h = useBackend(backend);

  test("a second top-level 10.0.0.0/8 in the default scope is rejected and changes nothing; so is any overlap", async () => {
    const first = await h.ipam.createPool(v4(["10.0.0.0/8"]));
    expect(first.ipamScopeId).toBe(DEFAULT_SCOPE_ID);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["10.0.0.0/8"])), CONFLICT);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["10.20.0.0/16"])), CONFLICT);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["8.0.0.0/6"])), CONFLICT);
    // The named scope id of the default is the same scope.
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["10.0.0.0/8"], { ipamScopeId: DEFAULT_SCOPE_ID })), CONFLICT);
    // A free CIDR listed after a conflicting one: still nothing created.
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["11.0.0.0/8", "10.255.0.0/16"])), CONFLICT);
    // A dry run of a conflict answers the conflict, not DryRunOperation.
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["10.0.0.0/8"], { dryRun: true })), CONFLICT);
    // Beside it, or in the other family, is fine.
    await h.ipam.createPool(v4(["11.0.0.0/8"]));
    await h.ipam.createPool({ addressFamily: "ipv6", cidrs: ["::/0"] });
    expect((await h.ipam.listPools()).length).toBe(3);
  });

  test("provisionPoolCidr on a top-level pool: a CIDR another top-level pool holds in the scope is rejected", async () => {
    const a = await h.ipam.createPool(v4(["10.0.0.0/16"]));
    const b = await h.ipam.createPool(v4(["10.1.0.0/16"]));
    await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: b.ipamPoolId, cidr: "10.0.128.0/17" }), CONFLICT);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: b.ipamPoolId, cidr: "10.0.0.0/16" }), CONFLICT);
    // Its own CIDRs are its own rule (InvalidParameterValue, as before scopes).
    await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: b.ipamPoolId, cidr: "10.1.0.0/17" }), "InvalidParameterValue");
    expect((await h.ipam.provisionPoolCidr({ ipamPoolId: b.ipamPoolId, cidr: "10.2.0.0/16" })).cidrs).toEqual(["10.1.0.0/16", "10.2.0.0/16"]);
    // In another scope the same CIDR is free.
    const c = await h.ipam.createPool(v4(["192.168.0.0/24"], { ipamScopeId: B }));
    expect((await h.ipam.provisionPoolCidr({ ipamPoolId: c.ipamPoolId, cidr: "10.0.0.0/16" })).cidrs).toEqual(["10.0.0.0/16", "192.168.0.0/24"]);
    expect((await h.ipam.getPool(a.ipamPoolId)).cidrs).toEqual(["10.0.0.0/16"]);
  });

  test("in different scopes both 10.0.0.0/8 pools are fine, and their allocations may overlap", async () => {
    const a = await h.ipam.createPool(v4(["10.0.0.0/8"], { allocationDefaultNetmaskLength: 24 }));
    const b = await h.ipam.createPool(v4(["10.0.0.0/8"], { ipamScopeId: B, allocationDefaultNetmaskLength: 24 }));
    expect([a.ipamScopeId, b.ipamScopeId]).toEqual([DEFAULT_SCOPE_ID, B]);
    expect((await h.ipam.getPool(b.ipamPoolId)).ipamScopeId).toBe(B);
    const x = await h.ipam.allocate({ ipamPoolId: a.ipamPoolId });
    const y = await h.ipam.allocate({ ipamPoolId: b.ipamPoolId });
    expect([x.cidr, y.cidr]).toEqual(["10.0.0.0/24", "10.0.0.0/24"]);
    expect((await h.ipam.allocate({ ipamPoolId: b.ipamPoolId, cidr: "10.0.1.0/24" })).cidr).toBe("10.0.1.0/24");
    // Still one per scope: a third 10/8 in B conflicts with b only.
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["10.0.0.0/8"], { ipamScopeId: B })), CONFLICT);
  });

  test("a scope id that is not ipam-scope-... is InvalidParameterValue", async () => {
    for (const bad of ["scope-1", "ipam-scope-", "ipam-scope-ABC", "ipam-scope-a_b", `ipam-scope-${"a".repeat(65)}`]) {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool(v4(["10.0.0.0/8"], { ipamScopeId: bad })), "InvalidParameterValue");
    }
  });

  test("nested pools inherit their source's scope; a different ipamScopeId is Mismatch.IpamScopeAndSourceIpamPool", async () => {
    const top = await h.ipam.createPool(v4(["10.0.0.0/8"], { ipamScopeId: B }));
    const child = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16 });
    expect(child.ipamScopeId).toBe(B);
    const same = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16, ipamScopeId: B });
    expect(same.ipamScopeId).toBe(B);
    const grandchild = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: child.ipamPoolId, cidrs: ["10.0.0.0/20"] });
    expect(grandchild.ipamScopeId).toBe(B);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16, ipamScopeId: DEFAULT_SCOPE_ID }), "Mismatch.IpamScopeAndSourceIpamPool");
    // Nested pools hold their source's space, not the scope's: the top-level rule does not apply to them.
    expect((await h.ipam.provisionPoolCidr({ ipamPoolId: child.ipamPoolId, netmaskLength: 16 })).cidrs).toHaveLength(2);
    // ...and the default scope is untouched by B's pools.
    expect((await h.ipam.createPool(v4(["10.0.0.0/8"]))).ipamScopeId).toBe(DEFAULT_SCOPE_ID);
  });

  test("a deleted top-level pool's space is free in its scope again", async () => {
    const a = await h.ipam.createPool(v4(["10.0.0.0/8"]));
    await h.ipam.deletePool({ ipamPoolId: a.ipamPoolId });
    expect((await h.ipam.createPool(v4(["10.0.0.0/8"]))).cidrs).toEqual(["10.0.0.0/8"]);
  });

  test("a pool stored before scopes (no ipamScopeId) is in the default scope", async () => {
    const a = await h.ipam.createPool(v4(["10.0.0.0/8"]));
    await h.store.transaction(async (tx) => {
      const { ipamScopeId: _s, ...old } = (await tx.getPool(a.ipamPoolId))!;
      await tx.putPool(old);
    });
    const reopened = backend.name === "memory" ? h.ipam : await h.reopen();
    expect((await reopened.getPool(a.ipamPoolId)).ipamScopeId).toBe(DEFAULT_SCOPE_ID);
    expect(await codeOf(reopened.createPool(v4(["10.0.0.0/8"])))).toBe(CONFLICT);
    expect((await reopened.createPool(v4(["10.0.0.0/8"], { ipamScopeId: B }))).ipamScopeId).toBe(B);
  });

  test("concurrent creates of one top-level CIDR in one scope: exactly one succeeds", async () => {
    // PostgreSQL: a second store on the database is a second set of connections, as another process has;
    // SQLite and memory: one store (better-sqlite3 blocks the thread while it waits for a lock, so two
    // connections in one process cannot interleave: the worker test below uses processes).
    const other: Store = backend.name === "postgres" ? openStore(h.url) : h.store;
    try {
      const ipams = [h.ipam, new Ipam(other)];
      for (let round = 0; round < 8; round++) {
        const cidr = `10.${round}.0.0/16`;
        const results = await Promise.allSettled([0, 1, 0, 1].map((i) => ipams[i].createPool(v4([cidr]))));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect((r.reason as { code?: string }).code).toBe(CONFLICT);
      }
      // Provisioning races creating for the same space too.
      const p = await h.ipam.createPool(v4(["172.16.0.0/16"]));
      const race = await Promise.allSettled([
        ipams[1].createPool(v4(["172.17.0.0/16"])),
        ipams[0].provisionPoolCidr({ ipamPoolId: p.ipamPoolId, cidr: "172.17.0.0/16" }),
      ]);
      expect(race.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const tops = (await h.ipam.listPools()).filter((x) => !x.sourceIpamPoolId).flatMap((x) => x.cidrs).sort();
      expect(tops).toEqual([...Array.from({ length: 8 }, (_, r) => `10.${r}.0.0/16`), "172.16.0.0/16", "172.17.0.0/16"].sort());
    } finally {
      if (other !== h.store) await other.close();
    }
  });

  if (backend.name !== "memory") {
    test("four processes provisioning the same CIDRs to their own top-level pools: each CIDR goes to exactly one", async () => {
      const pools = [];
      for (let w = 0; w < 4; w++) pools.push((await h.ipam.createPool(v4([`192.168.${w}.0/24`]))).ipamPoolId);
      const rounds = Array.from({ length: 10 }, (_, r) => `10.${r}.0.0/16`);
      const workers = pools.map((ipamPoolId) => startWorker("plan", h.url, rounds.map((cidr, r): Op => ({ op: "provision", ref: String(r), input: { ipamPoolId, cidr } }))));
      await startTogether(workers);
      await Promise.all(workers.map((w) => w.finished()));
      const lines = workers.flatMap((w) => w.lines.filter((l) => l.ev === "ok" || l.ev === "error"));
      expect(lines.filter((l) => l.ev === "error").map((l) => l.code)).toEqual(Array(30).fill(CONFLICT));
      for (const [r, cidr] of rounds.entries()) {
        expect(lines.filter((l) => l.ev === "ok" && l.ref === String(r)).length).toBe(1);
        expect((await h.ipam.listPools()).filter((p) => p.cidrs.includes(cidr))).toHaveLength(1);
      }
    });
  }

  if (backend.name === "postgres") {
    test("two interleaved transactions: the second reads the scope only after the first commits, and is rejected", async () => {
      const other = openStore(h.url);
      try {
        let firstCreated!: () => void;
        const created = new Promise<void>((r) => (firstCreated = r));
        // The first creates its pool inside its own transaction and holds it open; the second starts meanwhile.
        const first = h.store.transaction(async (tx) => {
          const info = await h.ipam.createPool(v4(["10.0.0.0/8"]), tx);
          firstCreated();
          await new Promise((r) => setTimeout(r, 300));
          return info;
        });
        await created;
        const second = new Ipam(other).createPool(v4(["10.0.0.0/8"]));
        const [a, b] = await Promise.allSettled([first, second]);
        expect(a.status).toBe("fulfilled");
        expect(b.status === "rejected" && (b.reason as { code?: string }).code).toBe(CONFLICT);
        expect((await h.ipam.listPools()).map((p) => p.cidrs)).toEqual([["10.0.0.0/8"]]);
      } finally {
        await other.close();
      }
    });
  }

  describe("planning", () => {
    const planner = () => new Planner(h.ipam, () => new MemoryStore());
    const reservation = (key: string) => h.store.transaction(async (tx) => tx.getReservation(key));

    test("a second planned top-level 10.0.0.0/8 in the scope is rejected in preview; in another scope it is planned", async () => {
      const p = planner();
      const a = await p.planPool("p/dev/IpamPool/a", v4(["10.0.0.0/8"]));
      expect(a.cidrs).toEqual(["10.0.0.0/8"]);
      expect(await codeOf(p.planPool("p/dev/IpamPool/b", v4(["10.128.0.0/9"])))).toBe(CONFLICT);
      expect(await reservation("p/dev/IpamPool/b")).toBeUndefined();
      // Another stack planning in the same store and scope conflicts too: the scope is shared, not per stack.
      expect(await codeOf(p.planPool("p/prod/IpamPool/a", v4(["10.0.0.0/8"])))).toBe(CONFLICT);
      expect((await p.planPool("p/dev/IpamPool/b", v4(["10.0.0.0/8"], { ipamScopeId: B }))).cidrs).toEqual(["10.0.0.0/8"]);
      // The same resource planned again keeps its plan; nothing real was made.
      expect((await p.planPool("p/dev/IpamPool/a", v4(["10.0.0.0/8"]))).ipamPoolId).toBe(a.ipamPoolId);
      expect(await snapshot(h.ipam)).toEqual([]);
    });

    test("a plan is rejected against created pools of the scope, but not against the pool it replaces or its own", async () => {
      const p = planner();
      const spec = v4(["10.0.0.0/8"]);
      const plan = await p.planPool("p/dev/IpamPool/a", spec);
      const pool = await p.commitPool("p/dev/IpamPool/a", spec, plan);
      expect(await codeOf(p.planPool("p/dev/IpamPool/b", v4(["10.0.0.0/16"])))).toBe(CONFLICT);
      // A re-run after a crash between commit and checkpoint plans the same pool again: its own pool is no conflict.
      const again = await p.planPool("p/dev/IpamPool/a", spec);
      expect(again.ipamPoolId).toBe(pool.ipamPoolId);
      expect((await p.commitPool("p/dev/IpamPool/a", spec, again)).ipamPoolId).toBe(pool.ipamPoolId);
      // A replacement (new locale) plans beside the old pool, which Pulumi deletes first.
      const replaced = { ...spec, locale: "eu-west-1" };
      expect(await codeOf(p.planPool("p/dev/IpamPool/a", replaced))).toBe(CONFLICT);
      const next = await p.planPool("p/dev/IpamPool/a", replaced, { replaces: pool.ipamPoolId });
      expect(next.ipamPoolId).not.toBe(pool.ipamPoolId);
      await h.ipam.deletePool({ ipamPoolId: pool.ipamPoolId });
      expect((await p.commitPool("p/dev/IpamPool/a", replaced, next)).locale).toBe("eu-west-1");
    });

    test("an expired plan no longer holds its space in the scope", async () => {
      const p = planner();
      await p.planPool("p/dev/IpamPool/a", v4(["10.0.0.0/8"]), { now: 1_000, ttlMs: 1_000 });
      expect(await codeOf(p.planPool("p/dev/IpamPool/b", v4(["10.0.0.0/8"]), { now: 1_500 }))).toBe(CONFLICT);
      expect((await p.planPool("p/dev/IpamPool/b", v4(["10.0.0.0/8"]), { now: 2_500 })).cidrs).toEqual(["10.0.0.0/8"]);
    });

    test("a nested plan inherits its planned source's scope; another ipamScopeId is rejected in preview", async () => {
      const p = planner();
      const top = await p.planPool("p/dev/IpamPool/top", v4(["10.0.0.0/8"], { ipamScopeId: B }));
      const child = await p.planPool("p/dev/IpamPool/child", { addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16 });
      expect(child.cidrs).toEqual(["10.0.0.0/16"]);
      expect(await codeOf(p.planPool("p/dev/IpamPool/bad", { addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16, ipamScopeId: DEFAULT_SCOPE_ID })))
        .toBe("Mismatch.IpamScopeAndSourceIpamPool");
      await p.planPool("p/dev/IpamPool/ok", { addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16, ipamScopeId: B });
      // Nested plans hold space in their source, not in the scope: a top-level 10/8 in the default scope is still free.
      expect((await p.planPool("p/dev/IpamPool/other", v4(["10.0.0.0/8"]))).cidrs).toEqual(["10.0.0.0/8"]);
      // Committed in order, each pool is in B.
      const t = await p.commitPool("p/dev/IpamPool/top", v4(["10.0.0.0/8"], { ipamScopeId: B }), top);
      const c = await p.commitPool("p/dev/IpamPool/child", { addressFamily: "ipv4", sourceIpamPoolId: t.ipamPoolId, netmaskLength: 16 }, child);
      expect([t.ipamScopeId, c.ipamScopeId]).toEqual([B, B]);
      // And against the real source, too.
      expect(await codeOf(p.planPool("p/dev/IpamPool/bad2", { addressFamily: "ipv4", sourceIpamPoolId: t.ipamPoolId, netmaskLength: 16, ipamScopeId: DEFAULT_SCOPE_ID })))
        .toBe("Mismatch.IpamScopeAndSourceIpamPool");
    });

    test("a planner's default scope (a cloud backend's ipam:scopeId) is where plans naming no scope go", async () => {
      const p = new Planner(h.ipam, () => new MemoryStore(), undefined, B);
      const top = await p.planPool("p/dev/IpamPool/a", v4(["10.0.0.0/8"]));
      expect(await codeOf(p.planPool("p/dev/IpamPool/b", v4(["10.0.0.0/8"], { ipamScopeId: B })))).toBe(CONFLICT);
      expect((await p.planPool("p/dev/IpamPool/c", v4(["10.0.0.0/8"], { ipamScopeId: DEFAULT_SCOPE_ID }))).cidrs).toEqual(["10.0.0.0/8"]);
      await p.planPool("p/dev/IpamPool/child", { addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16, ipamScopeId: B });
    });

    test("a bad ipamScopeId fails at plan time with the code createPool gives", async () => {
      expect(await codeOf(planner().planPool("p/dev/IpamPool/a", v4(["10.0.0.0/8"], { ipamScopeId: "default" })))).toBe("InvalidParameterValue");
    });
  });
});
