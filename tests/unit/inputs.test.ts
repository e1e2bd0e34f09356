/**
 * The core's boundary (issue 7, points 3 and 9): every input of every public
 * operation is checked for type and characters before it reaches a store;
 * a user cannot give the internal resource types; planning rejects what the
 * operation would, ClientToken included, and writes nothing when it fails;
 * the codes of seed 002 for excluded CIDRs.
 */
import { IpamError } from "../../provider/core/errors";
import { Planner } from "../../provider/core/plan";
import { MemoryStore } from "../../provider/stores/memory";
import { BACKENDS, codeOf, useBackend } from "../support/backends";
import { dumperFor } from "../support/dump";

const KEY = "urn:pulumi:dev::p::pulumi-nodejs:dynamic/ipam:IpamPoolAllocation::a";
const KEY2 = "urn:pulumi:dev::p::pulumi-nodejs:dynamic/ipam:IpamPoolAllocation::b";
const POOL_KEY = "urn:pulumi:dev::p::pulumi-nodejs:dynamic/ipam:IpamPool::p";
const EIP_KEY = "urn:pulumi:dev::p::pulumi-nodejs:dynamic/ipam:ElasticIp::e";

describe.each(BACKENDS)("the core's boundary on $name", (backend) => {
  const h = useBackend(backend);
  const planner = () => new Planner(h.ipam, () => new MemoryStore());

  /** A pool with one allocation, and an Elastic IP pool with one address. */
  async function world() {
    const pool = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationDefaultNetmaskLength: 24 })).ipamPoolId;
    const alloc = (await h.ipam.allocate({ ipamPoolId: pool, netmaskLength: 24 })).ipamPoolAllocationId;
    const eipPool = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["198.51.100.0/28"] })).ipamPoolId;
    const eip = (await h.ipam.allocateAddress({ ipamPoolId: eipPool })).allocationId;
    return { pool, alloc, eipPool, eip };
  }

  /** Fails with `code`, a message saying `says` with no raw control character, and every row of the store as it was. */
  async function rejects(call: () => Promise<unknown>, code: string, says?: string): Promise<void> {
    const dumper = await dumperFor(h.store, h.url);
    try {
      const before = await dumper.dump();
      let error: unknown;
      try {
        await call();
      } catch (e) {
        error = e;
      }
      if (!(error instanceof IpamError)) throw new Error(`expected IpamError ${code}, got ${error === undefined ? "success" : String(error)}`);
      expect(error.code).toBe(code);
      if (says) expect(error.message).toContain(says);
      expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(await dumper.dump()).toBe(before);
    } finally {
      await dumper.close();
    }
  }

  describe("a wrong type is InvalidParameterValue naming the field and the type expected", () => {
    test("lists, numbers, booleans, maps and strings of allocate", async () => {
      const { pool } = await world();
      const cases: [Record<string, unknown>, string][] = [
        [{ allowedCidrs: true }, "allowedCidrs must be a list of CIDR strings; got boolean"],
        [{ disallowedCidrs: ["10.0.9.0/24", 5] }, "disallowedCidrs[1] must be a CIDR string; got number"],
        [{ netmaskLength: "24" }, "netmaskLength must be an integer; got string"],
        [{ resourceType: 42 }, "resourceType must be one of \"vpc\", \"subnet\", \"custom\"; got number"],
        [{ resourceTags: ["a"] }, "resourceTags must be a map of tag keys to string values; got list"],
        [{ resourceTags: new Map([["a", "b"]]) }, "got object Map"],
        [{ resourceTags: { team: 5 } }, "resourceTags[\"team\"] must be a string"],
        [{ description: 7 }, "description must be a string; got number"],
        [{ resourceId: {} }, "resourceId must be a string; got map"],
        [{ dryRun: "true" }, "dryRun must be true or false; got string"],
        [{ clientToken: 12 }, "clientToken must be a string"],
        [{ cidr: ["10.0.9.0/24"] }, "cidr must be a CIDR string; got list"],
      ];
      for (const [extra, says] of cases) {
        await rejects(() => h.ipam.allocate({ ipamPoolId: pool, ...extra } as never), "InvalidParameterValue", says);
        await rejects(() => h.ipam.previewNextCidr({ ipamPoolId: pool, ...extra } as never), "InvalidParameterValue", says);
      }
    });

    test("ids of every kind: a list, a number, a map, a boolean, NUL; null and undefined where one is required", async () => {
      const { pool, alloc, eip } = await world();
      for (const bad of [["x"], 5, {}, true, "ipam-pool-\u0000", "ipam-pool-\ud800"]) {
        const v = bad as never;
        await rejects(() => h.ipam.getAllocation(pool, v), "InvalidParameterValue", "ipamPoolAllocationId");
        await rejects(() => h.ipam.getAllocation(v, alloc), "InvalidParameterValue", "ipamPoolId");
        await rejects(() => h.ipam.findAllocation(v), "InvalidParameterValue", "ipamPoolAllocationId");
        await rejects(() => h.ipam.release({ ipamPoolId: pool, ipamPoolAllocationId: v }), "InvalidParameterValue", "ipamPoolAllocationId");
        await rejects(() => h.ipam.getPool(v), "InvalidParameterValue", "ipamPoolId");
        await rejects(() => h.ipam.listAllocations(v), "InvalidParameterValue", "ipamPoolId");
        await rejects(() => h.ipam.utilization(v), "InvalidParameterValue", "ipamPoolId");
        await rejects(() => h.ipam.deletePool({ ipamPoolId: v }), "InvalidParameterValue", "ipamPoolId");
        await rejects(() => h.ipam.getAddress(v), "InvalidParameterValue", "allocationId");
        await rejects(() => h.ipam.releaseAddress({ allocationId: v }), "InvalidParameterValue", "allocationId");
        await rejects(() => h.ipam.tagAddress({ allocationId: v, tags: {} }), "InvalidParameterValue", "allocationId");
        await rejects(() => h.ipam.allocate({ ipamPoolId: v, netmaskLength: 24 }), "InvalidParameterValue", "ipamPoolId");
        await rejects(() => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: v, netmaskLength: 24 }), "InvalidParameterValue", "sourceIpamPoolId");
      }
      await rejects(() => h.ipam.getPool(undefined as never), "InvalidParameterValue", "ipamPoolId is required");
      await rejects(() => h.ipam.releaseAddress({ allocationId: null as never }), "InvalidParameterValue", "allocationId is required");
      // Well-typed but unknown ids are still NotFound.
      expect(await codeOf(h.ipam.getAllocation(pool, "ipam-pool-alloc-none"))).toBe("InvalidIpamPoolAllocationId.NotFound");
      expect(await codeOf(h.ipam.getAddress(`${eip}0`))).toBe("InvalidAllocationID.NotFound");
    });

    test("pools: locale, cidrs, addressFamily, netmask rules, tags, strategy; updates, provisioning and deletion", async () => {
      const { pool } = await world();
      const create: [Record<string, unknown>, string][] = [
        [{ locale: 5 }, "locale must be a string; got number"],
        [{ locale: "us-east-1\u0000" }, "locale \"us-east-1\\u0000\" is not allowed"],
        [{ cidrs: "10.1.0.0/16" }, "cidrs must be a list of CIDR strings; got string"],
        [{ cidrs: [null] }, "cidrs[0] must be a CIDR string; got null"],
        [{ addressFamily: 4 }, "addressFamily must be one of \"ipv4\", \"ipv6\"; got number"],
        [{ addressFamily: undefined }, "addressFamily is required"],
        [{ allocationMinNetmaskLength: "8" }, "allocationMinNetmaskLength must be an integer; got string"],
        [{ tags: "env=prod" }, "tags must be a map of tag keys to string values; got string"],
        [{ allocationResourceTags: [] }, "allocationResourceTags must be a map"],
        [{ allocationStrategy: false }, "allocationStrategy must be one of \"first-fit\", \"best-fit\"; got boolean"],
        [{ netmaskLength: [24] }, "netmaskLength must be an integer; got list"],
      ];
      for (const [extra, says] of create) {
        await rejects(() => h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16"], ...extra } as never), "InvalidParameterValue", says);
      }
      await rejects(() => h.ipam.updatePool({ ipamPoolId: pool, description: 5 } as never), "InvalidParameterValue", "description must be a string");
      await rejects(() => h.ipam.updatePool({ ipamPoolId: pool, allocationMaxNetmaskLength: true } as never), "InvalidParameterValue", "allocationMaxNetmaskLength must be an integer");
      await rejects(() => h.ipam.provisionPoolCidr({ ipamPoolId: pool, cidr: ["10.2.0.0/16"] } as never), "InvalidParameterValue", "cidr must be a CIDR string; got list");
      await rejects(() => h.ipam.deletePool({ ipamPoolId: pool, dryRun: 1 } as never), "InvalidParameterValue", "dryRun must be true or false; got number");
    });

    test("Elastic IPs: address, tags, excludedCidrs", async () => {
      const { eipPool, eip } = await world();
      await rejects(() => h.ipam.allocateAddress({ ipamPoolId: eipPool, address: 5 } as never), "InvalidParameterValue", "address must be an IP address string; got number");
      await rejects(() => h.ipam.allocateAddress({ ipamPoolId: eipPool, tags: "x" } as never), "InvalidParameterValue", "tags must be a map");
      await rejects(() => h.ipam.tagAddress({ allocationId: eip, tags: [["k", "v"]] } as never), "InvalidParameterValue", "tags must be a map");
      await rejects(() => h.ipam.previewNextAddress({ ipamPoolId: eipPool, excludedCidrs: "198.51.100.0/30" } as never), "InvalidParameterValue", "excludedCidrs must be a list");
    });

    test("an input that is no map, and fields the operation does not have", async () => {
      const { pool } = await world();
      for (const bad of [null, "x", 5, [], new Date(0)]) {
        await rejects(() => h.ipam.allocate(bad as never), "InvalidParameterValue", "the allocate input must be a map of named fields");
        await rejects(() => h.ipam.createPool(bad as never), "InvalidParameterValue", "the createPool input must be a map of named fields");
      }
      await rejects(() => h.ipam.allocate({ ipamPoolId: pool, netmasklength: 28 } as never), "InvalidParameterValue", "allocate has no field \"netmasklength\"");
      await rejects(() => h.ipam.release({ ipamPoolId: pool, ipamPoolAllocationId: "x", clientToken: "t" } as never), "InvalidParameterValue", "release has no field \"clientToken\"");
      // A field set to undefined is absent, and null is too.
      const a = await h.ipam.allocate({ ipamPoolId: pool, netmaskLength: 28, extra: undefined, description: null, cidr: null } as never);
      expect(a.cidr).toBe("10.0.1.0/28");
      expect(a.description).toBeUndefined();
    });
  });

  describe("characters", () => {
    test("NUL and other control characters: rejected in ids, tokens, locale, resourceId, tag keys; NUL in descriptions and tag values", async () => {
      const { pool } = await world();
      const cases: [Record<string, unknown>, string][] = [
        [{ description: "a\u0000b" }, "description must be a string of at most 255 characters without control characters"],
        [{ description: "a\u001bb" }, "got \"a\\u001bb\""],
        [{ resourceId: "vpc-1\u0000" }, "resourceId \"vpc-1\\u0000\" is not allowed"],
        [{ resourceTags: { team: "a\u0000" } }, "resourceTags[\"team\"] must be a string of at most 256 characters without control characters"],
        [{ resourceTags: { "te\nam": "a" } }, "resourceTags key \"te\\nam\" is not allowed"],
        [{ resourceTags: { team: "\udc00" } }, "resourceTags[\"team\"]"],
        [{ clientToken: "tok\u0000en" }, "clientToken must be 1 to 64 printable ASCII characters; got \"tok\\u0000en\""],
      ];
      for (const [extra, says] of cases) await rejects(() => h.ipam.allocate({ ipamPoolId: pool, ...extra }), "InvalidParameterValue", says);
      // A CIDR with any character a CIDR is not written with is IllegalParam.Cidr, echoed escaped.
      await rejects(() => h.ipam.allocate({ ipamPoolId: pool, cidr: "10.0.9.0/24\n" }), "IllegalParam.Cidr", "cidr \"10.0.9.0/24\\n\" is not a CIDR");
      await rejects(() => h.ipam.allocate({ ipamPoolId: pool, cidr: "10.0.9.0/24\u0000" }), "IllegalParam.Cidr", "\\u0000");
      await rejects(() => h.ipam.allocate({ ipamPoolId: pool, cidr: `10.0.9.0/${"4".repeat(10_000)}` }), "IllegalParam.Cidr", "more characters");
    });

    test("tabs, newlines and any Unicode are kept in descriptions and tag values; -0 is 0", async () => {
      const { pool } = await world();
      const a = await h.ipam.allocate({ ipamPoolId: pool, netmaskLength: 28, description: "Zürich\tline 1\nline 2 東京 🌐", resourceTags: { "équipe": "réseau\r\n" } });
      expect(await h.ipam.getAllocation(pool, a.ipamPoolAllocationId)).toMatchObject({ description: "Zürich\tline 1\nline 2 東京 🌐", resourceTags: { "équipe": "réseau\r\n" } });
      const p = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.9.0.0/16"], allocationMinNetmaskLength: -0 });
      expect(Object.is((await h.ipam.getPool(p.ipamPoolId)).allocationMinNetmaskLength, 0)).toBe(true);
    });

    test("NaN, Infinity and fractions as netmask lengths are IllegalParam.CidrMask", async () => {
      const { pool } = await world();
      for (const netmaskLength of [NaN, Infinity, -Infinity, 24.5, 1e309]) {
        await rejects(() => h.ipam.allocate({ ipamPoolId: pool, netmaskLength }), "IllegalParam.CidrMask");
      }
    });
  });

  describe("resourceType: only the public types (vpc, subnet, custom) from a user", () => {
    test.each(["ipam-pool", "eip", "ec2-public-ipv4-pool", "VPC", ""])("%j is InvalidParameterValue, at allocate and at plan", async (resourceType) => {
      const { pool } = await world();
      await rejects(() => h.ipam.allocate({ ipamPoolId: pool, netmaskLength: 28, resourceType } as never), "InvalidParameterValue", "resourceType");
      await rejects(() => planner().planAllocation(KEY, { ipamPoolId: pool, netmaskLength: 28, resourceType } as never), "InvalidParameterValue", "resourceType");
    });

    test("vpc, subnet and custom are kept; the core still makes ipam-pool carve-outs, which only deleting the pool releases", async () => {
      const { pool } = await world();
      for (const resourceType of ["vpc", "subnet", "custom"] as const) {
        expect((await h.ipam.allocate({ ipamPoolId: pool, netmaskLength: 28, resourceType })).resourceType).toBe(resourceType);
      }
      const child = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: pool, netmaskLength: 20 });
      const carve = (await h.ipam.listAllocations(pool)).find((a) => a.resourceId === child.ipamPoolId)!;
      expect(carve.resourceType).toBe("ipam-pool");
      await rejects(() => h.ipam.release({ ipamPoolId: pool, ipamPoolAllocationId: carve.ipamPoolAllocationId }), "OperationDenied.ResourceTypeIsNotCustom");
      await h.ipam.deletePool({ ipamPoolId: child.ipamPoolId });
      expect(await codeOf(h.ipam.getAllocation(pool, carve.ipamPoolAllocationId))).toBe("InvalidIpamPoolAllocationId.NotFound");
    });

    test("a planned pool with required tags: siblings' plans are held in its scratch copy without the tags, and released from it", async () => {
      const p = planner();
      const top = await p.planPool(POOL_KEY, { addressFamily: "ipv4", cidrs: ["10.7.0.0/16"], allocationDefaultNetmaskLength: 24, allocationResourceTags: { env: "prod" } });
      const req = { ipamPoolId: top.ipamPoolId, resourceTags: { env: "prod" } };
      const a = await p.planAllocation(KEY, req, { now: 1000, ttlMs: 100 });
      const b = await p.planAllocation(KEY2, req, { now: 1000, ttlMs: 100 });
      expect([a.cidrs, b.cidrs]).toEqual([["10.7.0.0/24"], ["10.7.1.0/24"]]);
      // a has expired: b's re-plan releases it from the scratch pool (a carve-out, released through CARVE_OUT).
      const again = await p.planAllocation(KEY2, req, { now: 5000, ttlMs: 100 });
      expect(again.cidrs).toEqual(["10.7.1.0/24"]);
      expect((await p.planAllocation(KEY, req, { now: 5000, ttlMs: 100 })).cidrs).toEqual(["10.7.0.0/24"]);
    });
  });

  describe("planning rejects what the operation would, and writes nothing", () => {
    test.each([["65 characters", "a".repeat(65)], ["non-ASCII", "tökén"], ["a newline", "a\nb"], ["a number", 5]])("a ClientToken of %s is InvalidParameterValue at plan", async (_what, clientToken) => {
      const { pool, eipPool } = await world();
      const p = planner();
      await rejects(() => p.planAllocation(KEY, { ipamPoolId: pool, clientToken } as never), "InvalidParameterValue", "clientToken");
      await rejects(() => p.planAddress(EIP_KEY, { ipamPoolId: eipPool, clientToken } as never), "InvalidParameterValue", "clientToken");
      await rejects(() => p.planPool(POOL_KEY, { addressFamily: "ipv4", cidrs: ["10.5.0.0/16"], clientToken } as never), "InvalidParameterValue", "clientToken");
      await rejects(() => p.planPool(POOL_KEY, { addressFamily: "ipv4", sourceIpamPoolId: pool, netmaskLength: 20, clientToken } as never), "InvalidParameterValue", "clientToken");
    });

    test("a ClientToken already used with other parameters is IdempotentParameterMismatch at plan", async () => {
      const { pool, eipPool } = await world();
      await h.ipam.allocate({ ipamPoolId: pool, netmaskLength: 26, clientToken: "used-1" });
      await h.ipam.allocateAddress({ ipamPoolId: eipPool, clientToken: "used-2" });
      await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.6.0.0/16"], clientToken: "used-3" });
      const p = planner();
      await rejects(() => p.planAllocation(KEY, { ipamPoolId: pool, netmaskLength: 26, clientToken: "used-1" }), "IdempotentParameterMismatch", "clientToken \"used-1\"");
      await rejects(() => p.planAllocation(KEY, { ipamPoolId: pool, cidr: "10.0.200.0/24", clientToken: "used-1" }), "IdempotentParameterMismatch");
      await rejects(() => p.planAddress(EIP_KEY, { ipamPoolId: eipPool, clientToken: "used-2" }), "IdempotentParameterMismatch");
      await rejects(() => p.planPool(POOL_KEY, { addressFamily: "ipv4", cidrs: ["10.5.0.0/16"], clientToken: "used-3" }), "IdempotentParameterMismatch");
      await rejects(() => p.planPool(POOL_KEY, { addressFamily: "ipv4", sourceIpamPoolId: pool, netmaskLength: 20, clientToken: "used-3" }), "IdempotentParameterMismatch");
      // What up would do with the same plan: the commit fails the same way.
      expect(await codeOf(h.ipam.allocate({ ipamPoolId: pool, cidr: "10.0.200.0/24", clientToken: "used-1" }))).toBe("IdempotentParameterMismatch");
    });

    test("a user's ClientToken planned, committed, then planned again for the same resource (a re-run after a crash) is kept", async () => {
      const { pool } = await world();
      const p = planner();
      const req = { ipamPoolId: pool, netmaskLength: 26, clientToken: "mine" };
      const plan = await p.planAllocation(KEY, req);
      const a = await p.commitAllocation(KEY, req, plan);
      const again = await p.planAllocation(KEY, req);
      expect(again.cidrs).toEqual(plan.cidrs);
      expect((await p.commitAllocation(KEY, req, again)).ipamPoolAllocationId).toBe(a.ipamPoolAllocationId);
      // Another resource with the same token: its commit could only fail, and its plan says so now.
      await rejects(() => p.planAllocation(KEY2, req), "IdempotentParameterMismatch");
    });

    test("a plan kept from before is checked against the pool as it is now: rules added since fail at plan, as the commit would", async () => {
      const { pool } = await world();
      const p = planner();
      const req = { ipamPoolId: pool, netmaskLength: 26, description: "app" };
      const plan = await p.planAllocation(KEY, req);
      await h.ipam.updatePool({ ipamPoolId: pool, allocationResourceTags: { env: "prod" } });
      await rejects(() => p.planAllocation(KEY, req), "InvalidParameterValue", `"env"="prod"`);
      expect(await codeOf(p.commitAllocation(KEY, req, plan))).toBe("InvalidParameterValue");
      await h.ipam.updatePool({ ipamPoolId: pool, allocationResourceTags: {} });
      expect((await p.planAllocation(KEY, req)).cidrs).toEqual(plan.cidrs);
    });

    test.each([NaN, -1, 0, Infinity, -Infinity, 1e20, "1000"].map((v) => [typeof v === "string" ? `"${v}"` : String(v), v]))("a plan TTL of %s is InvalidParameterValue", async (_what, ttlMs) => {
      const { pool, eipPool } = await world();
      const p = planner();
      await rejects(() => p.planAllocation(KEY, { ipamPoolId: pool }, { ttlMs } as never), "InvalidParameterValue", "ttlMs");
      await rejects(() => p.planAddress(EIP_KEY, { ipamPoolId: eipPool }, { ttlMs } as never), "InvalidParameterValue", "ttlMs");
      await rejects(() => p.planPool(POOL_KEY, { addressFamily: "ipv4", cidrs: ["10.5.0.0/16"] }, { ttlMs } as never), "InvalidParameterValue", "ttlMs");
    });

    test("plan keys, plans given back to commit, and fields the planner fills in itself", async () => {
      const { pool, eipPool } = await world();
      const p = planner();
      for (const key of [5, "", "a\u0000b", ["k"]]) {
        await rejects(() => p.planAllocation(key as never, { ipamPoolId: pool }), "InvalidParameterValue", "plan key");
        await rejects(() => p.forget(key as never, "n"), "InvalidParameterValue", "plan key");
      }
      for (const plan of [null, {}, { cidrs: "10.0.9.0/24", nonce: "n", clientToken: "t", ipamPoolId: pool }, { cidrs: ["10.0.9.0/24"], nonce: 5, clientToken: "t", ipamPoolId: pool }]) {
        await rejects(() => p.commitAllocation(KEY, { ipamPoolId: pool }, plan as never), "InvalidParameterValue");
      }
      await rejects(() => p.planAddress(EIP_KEY, { ipamPoolId: eipPool, tags: 5 } as never), "InvalidParameterValue", "tags must be a map");
      await rejects(() => p.planAddress(EIP_KEY, { ipamPoolId: eipPool, tags: { "aws:x": "y" } }), "InvalidParameterValue", "aws:");
      await rejects(() => p.planAllocation(KEY, { ipamPoolId: pool, excludedCidrs: ["10.0.0.0/8"] }), "InvalidParameterValue", "excludedCidrs is chosen by the planner");
      await rejects(() => p.planPool(POOL_KEY, { addressFamily: "ipv4", cidrs: ["10.5.0.0/16"], ipamPoolId: "ipam-pool-0123456789abcdef0" }), "InvalidParameterValue", "ipamPoolId is chosen by the planner");
    });

    test("requests the operation rejects are rejected at plan with the operation's code", async () => {
      const { pool } = await world();
      const tagged = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.8.0.0/16"], allocationResourceTags: { env: "prod" } })).ipamPoolId;
      const cases: Record<string, unknown>[] = [
        { ipamPoolId: pool, cidr: "10.0.9.0/24", netmaskLength: 24 },
        { ipamPoolId: pool, netmaskLength: 33 },
        { ipamPoolId: pool, cidr: "10.0.9.1/24" },
        { ipamPoolId: pool, cidr: "10.1.0.0/24" },
        { ipamPoolId: pool, cidr: "10.0.9.0/24", disallowedCidrs: ["10.0.8.0/22"] },
        { ipamPoolId: pool, netmaskLength: 24, allowedCidrs: ["10.0.4.0/24"], disallowedCidrs: ["10.0.4.0/23"] },
        { ipamPoolId: tagged, netmaskLength: 24 },
        { ipamPoolId: "ipam-pool-0123456789abcdef0", netmaskLength: 24 },
        { ipamPoolId: pool, resourceTags: { "aws:x": "y" } },
      ];
      for (const req of cases) {
        const code = await codeOf(h.ipam.allocate({ ...req, dryRun: true } as never));
        expect(code).not.toBe("DryRunOperation");
        await rejects(() => planner().planAllocation(KEY, req as never), code);
      }
    });
  });

  describe("excluded CIDRs (seed 002)", () => {
    test("an explicit cidr within disallowedCidrs is CidrInExcludeCidrs, at allocate, preview and plan", async () => {
      const { pool } = await world();
      for (const disallowedCidrs of [["10.0.8.0/21"], ["10.0.9.0/24"], ["10.0.9.128/25"], ["10.2.0.0/16", "10.0.9.7/32"]]) {
        const req = { ipamPoolId: pool, cidr: "10.0.9.0/24", disallowedCidrs };
        await rejects(() => h.ipam.allocate(req), "OperationDenied.CidrInExcludeCidrs", "within disallowedCidrs");
        await rejects(() => h.ipam.previewNextCidr(req), "OperationDenied.CidrInExcludeCidrs");
        await rejects(() => planner().planAllocation(KEY, req), "OperationDenied.CidrInExcludeCidrs");
      }
      // Outside them, a cidr with disallowedCidrs is still the combination seed 000 forbids.
      await rejects(() => h.ipam.allocate({ ipamPoolId: pool, cidr: "10.0.9.0/24", disallowedCidrs: ["10.0.10.0/24"] }), "InvalidParameterCombination");
    });

    test("no candidate left by allowedCidrs and disallowedCidrs is AvailableCidrInsufficient, at allocate and plan", async () => {
      const { pool } = await world();
      const req = { ipamPoolId: pool, netmaskLength: 24, allowedCidrs: ["10.0.4.0/24"], disallowedCidrs: ["10.0.0.0/21"] };
      await rejects(() => h.ipam.allocate(req), "OperationDenied.AvailableCidrInsufficient");
      await rejects(() => planner().planAllocation(KEY, req), "OperationDenied.AvailableCidrInsufficient");
      await rejects(() => h.ipam.allocate({ ipamPoolId: pool, netmaskLength: 24, allowedCidrs: ["10.3.0.0/16"] }), "OperationDenied.AvailableCidrInsufficient");
    });
  });
});
