/**
 * SQLite under another process's write lock, and read-only transactions on
 * every store. A second connection on the same file holding BEGIN IMMEDIATE
 * is what another pulumi-ipam process mid-write looks like to this one.
 */
import Database from "better-sqlite3";
import { Ipam } from "../../provider/core/ipam";
import { openStore } from "../../provider/stores";
import { BACKENDS, codeOf, removeSqlite, tmpSqliteUrl, useBackend } from "../support/backends";

const TIMEOUT_MS = 400;

describe("SQLite with another connection holding the write lock", () => {
  let url: string;
  let file: string;
  let other: Database.Database;
  beforeEach(() => {
    url = tmpSqliteUrl();
    file = url.slice("sqlite:".length);
  });
  afterEach(() => {
    if (other?.open) other.close();
    removeSqlite(url);
  });

  test("reads complete on the last committed state; writes fail with ServiceUnavailable.StoreBusy after busyTimeoutMs, then succeed once it is released", async () => {
    const store = openStore(`${url}?busyTimeoutMs=${TIMEOUT_MS}&synchronous=full`);
    try {
      const ipam = new Ipam(store);
      const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      const a = await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 });
      const eip = await ipam.allocateAddress({ ipamPoolId: pool.ipamPoolId });

      other = new Database(file);
      other.exec("BEGIN IMMEDIATE");
      // Uncommitted work of the other writer: no read may see it.
      other.prepare("DELETE FROM ipam_allocations").run();

      // Every read answers although the write lock is never released meanwhile: none of them asks for it.
      expect((await ipam.getPool(pool.ipamPoolId)).cidrs).toEqual(["10.0.0.0/16"]);
      expect((await ipam.listPools()).map((p) => p.ipamPoolId)).toEqual([pool.ipamPoolId]);
      expect(await ipam.getAllocation(pool.ipamPoolId, a.ipamPoolAllocationId)).toEqual(a);
      expect((await ipam.listAllocations(pool.ipamPoolId)).map((x) => x.cidr).sort()).toEqual([a.cidr, `${eip.publicIp}/32`].sort());
      expect(await ipam.findAllocation(a.ipamPoolAllocationId)).toEqual(a);
      expect(await ipam.getAddress(eip.allocationId)).toEqual(eip);
      expect((await ipam.utilization(pool.ipamPoolId)).allocated).toBe(String(256 + 1));
      expect(await ipam.previewNextCidr({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 })).toBe("10.0.2.0/24");
      expect(await ipam.previewNextAddress({ ipamPoolId: pool.ipamPoolId })).not.toBe(eip.publicIp);

      // A second process opening the up-to-date store meanwhile is not held up either.
      const second = openStore(`${url}?busyTimeoutMs=${TIMEOUT_MS}`);
      expect((await new Ipam(second).getPool(pool.ipamPoolId)).ipamPoolId).toBe(pool.ipamPoolId);
      await second.close();

      const started = Date.now();
      let err: unknown;
      try {
        await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 });
      } catch (e) {
        err = e;
      }
      const waited = Date.now() - started;
      expect(err).toMatchObject({ name: "IpamError", code: "ServiceUnavailable.StoreBusy" });
      expect((err as Error).message).toMatch(/another process holds its write lock for longer than busyTimeoutMs \(400 ms\); retry, or raise .*\?busyTimeoutMs=/);
      // It waited out the timeout from the URL (less a scheduler tick), not the 30 s default.
      expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(waited).toBeLessThan(10_000);
      // Every kind of write is refused the same way.
      expect(await codeOf(ipam.release({ ipamPoolId: pool.ipamPoolId, ipamPoolAllocationId: a.ipamPoolAllocationId }))).toBe("ServiceUnavailable.StoreBusy");
      expect(await codeOf(ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16"] }))).toBe("ServiceUnavailable.StoreBusy");

      other.exec("ROLLBACK");
      // Retryable: the same call succeeds once the lock is gone, and nothing of the refused ones was written.
      expect((await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 })).cidr).toBe("10.0.2.0/24");
      expect((await ipam.listPools()).length).toBe(1);
      expect(await ipam.getAllocation(pool.ipamPoolId, a.ipamPoolAllocationId)).toEqual(a);
    } finally {
      await store.close();
    }
  });

  test("opening a store that needs its schema created while the lock is held is StoreBusy, not SQLITE_BUSY", () => {
    other = new Database(file);
    other.pragma("journal_mode = WAL");
    other.exec("BEGIN IMMEDIATE");
    other.exec("CREATE TABLE unrelated (x)");
    expect(() => openStore(`${url}?busyTimeoutMs=50`)).toThrow(expect.objectContaining({ code: "ServiceUnavailable.StoreBusy" }));
    other.exec("ROLLBACK");
    const store = openStore(`${url}?busyTimeoutMs=50`);
    return store.close();
  });

  test("busyTimeoutMs=0 refuses at once", async () => {
    const store = openStore(`${url}?busyTimeoutMs=0`);
    try {
      const ipam = new Ipam(store);
      const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      other = new Database(file);
      other.exec("BEGIN IMMEDIATE");
      const started = Date.now();
      expect(await codeOf(ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 }))).toBe("ServiceUnavailable.StoreBusy");
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
      expect((await ipam.getPool(pool.ipamPoolId)).ipamPoolId).toBe(pool.ipamPoolId);
    } finally {
      await store.close();
    }
  });
});

describe.each(BACKENDS)("read-only transactions on $name", (backend) => {
  const h = useBackend(backend);
  const token = { key: "AllocateIpamPoolCidr:t", fingerprint: "f", result: "{}" };

  test("a read-only fn that writes or locks fails loudly, and writes nothing", async () => {
    const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
    await expect(h.store.read(async (tx) => tx.putToken(token))).rejects.toThrow(/putToken called in a read-only transaction/);
    await expect(h.store.read(async (tx) => tx.lockPools([pool.ipamPoolId]))).rejects.toThrow(/lockPools called in a read-only transaction/);
    await expect(h.store.read(async (tx) => {
      const p = (await tx.getPool(pool.ipamPoolId))!;
      await tx.putPool({ ...p, description: "changed" });
    })).rejects.toThrow(/putPool called in a read-only transaction/);
    await expect(h.store.read(async (tx) => tx.deletePool(pool.ipamPoolId))).rejects.toThrow(/read-only/);
    expect(await h.store.read(async (tx) => tx.getToken(token.key))).toBeUndefined();
    expect((await h.ipam.getPool(pool.ipamPoolId)).description).toBeUndefined();
    // The store works as before after the refused ones.
    await h.store.transaction(async (tx) => tx.putToken(token));
    expect(await h.store.read(async (tx) => tx.getToken(token.key))).toEqual(token);
  });

  test("reads in flight with writes see whole transactions only", async () => {
    const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/20"] });
    const calls: Promise<unknown>[] = [];
    const seen: number[] = [];
    for (let i = 0; i < 16; i++) {
      calls.push(h.ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 }));
      calls.push(h.ipam.utilization(pool.ipamPoolId).then((u) => seen.push(Number(u.allocated))));
    }
    await Promise.all(calls);
    for (const n of seen) expect(n % 256).toBe(0);
    expect((await h.ipam.utilization(pool.ipamPoolId)).free).toBe("0");
  });
});
