/**
 * Random command sequences against a real Ipam and the bitmap Oracle side by
 * side. After every command the store must agree with the oracle exactly
 * (allocations, utilization, free blocks), and a command the oracle says must
 * fail must fail with that code and leave the store as it was.
 */
import fc from "fast-check";
import { IpamError } from "../../provider/core/errors";
import { Ipam } from "../../provider/core/ipam";
import { snapshot } from "../support/backends";
import { cidrText, addressText, isCanonical, OBlock, OPool, Oracle, Outcome, parseOut, Rules, Strategy, Universe } from "../support/oracle";

export interface Setup {
  u: Universe;
  /** The top-level pool's provisioned CIDRs (inside the universe). */
  parentCidrs: string[];
  parentRules: Rules;
  /** Rule sets a nested pool is created with. */
  childRules: Rules[];
  /** Netmask lengths to ask for; out-of-range values test IllegalParam.CidrMask. */
  lengths: fc.Arbitrary<number | undefined>;
  /** Netmask lengths to carve nested pools with. */
  childLengths: fc.Arbitrary<number>;
}

/** A block anywhere in the universe: an address index, aligned down to the prefix. */
interface RawBlock { at: number; prefix: number }

/** Mutating commands may carry a ClientToken (from a small set, so they repeat) and DryRun. */
export type Command =
  | { t: "alloc"; pool: number; length?: number; allowed: RawBlock[]; disallowed: RawBlock[]; token?: string; dryRun: boolean }
  | { t: "allocCidr"; pool: number; cidr: RawBlock; token?: string; dryRun: boolean }
  | { t: "preview"; pool: number; length?: number; allowed: RawBlock[]; disallowed: RawBlock[]; thenAllocate: boolean }
  | { t: "release"; pick: number; how: "own" | "otherPool" | "unknown"; dryRun: boolean }
  | { t: "eip"; pool: number; address?: number; token?: string; dryRun: boolean }
  | { t: "eipRelease"; pick: number; dryRun: boolean }
  /** A nested pool of any live pool (so nesting goes deeper than one level), by netmask length or CIDR. */
  | { t: "child"; source: number; length?: number; cidr?: RawBlock; rules: number; strategy: Strategy; dryRun: boolean }
  | { t: "deleteChild"; pick: number; dryRun: boolean }
  /** Sends the last request that had a ClientToken again, as a retrying client would (maybe as a dry run). */
  | { t: "again"; dryRun: boolean };

export function commandArb(s: Setup): fc.Arbitrary<Command> {
  const at = fc.nat({ max: s.u.size - 1 });
  const block = fc.record({ at, prefix: fc.integer({ min: s.u.prefix, max: s.u.bits }) });
  const restriction = fc.oneof({ weight: 2, arbitrary: fc.constant([] as RawBlock[]) }, { weight: 1, arbitrary: fc.array(block, { minLength: 1, maxLength: 2 }) });
  const pool = fc.nat({ max: 5 });
  const token = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("t1", "t2", "t3") });
  const dryRun = fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant("alloc" as const), pool, length: s.lengths, allowed: restriction, disallowed: restriction, token, dryRun }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant("allocCidr" as const), pool, cidr: block, token, dryRun }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("preview" as const), pool, length: s.lengths, allowed: restriction, disallowed: restriction, thenAllocate: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant("release" as const), pick: fc.nat(), how: fc.constantFrom("own" as const, "own" as const, "otherPool" as const, "unknown" as const), dryRun }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("eip" as const), pool, address: fc.option(at, { nil: undefined }), token, dryRun }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("eipRelease" as const), pick: fc.nat(), dryRun }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("child" as const), source: fc.nat(), length: fc.option(s.childLengths, { nil: undefined }), cidr: block, rules: fc.nat({ max: s.childRules.length - 1 }), strategy: fc.constantFrom<Strategy>("first-fit", "best-fit"), dryRun }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("deleteChild" as const), pick: fc.nat(), dryRun }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("again" as const), dryRun }) },
  );
}

const align = (o: Oracle, r: RawBlock): OBlock => {
  const size = o.size(r.prefix);
  return { off: Math.floor(r.at / size) * size, prefix: r.prefix };
};

type Result<T> = { ok: T } | { code: string };

async function attempt<T>(call: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: await call() };
  } catch (e) {
    if (e instanceof IpamError) return { code: e.code };
    throw e;
  }
}

const ruleInput = (r: Rules) => ({ allocationMinNetmaskLength: r.min, allocationMaxNetmaskLength: r.max, allocationDefaultNetmaskLength: r.def });

/** Runs `commands` on a fresh `ipam`, checking it against the oracle after each. */
export async function runAgainstOracle(ipam: Ipam, s: Setup, parentStrategy: Strategy, commands: Command[]): Promise<void> {
  const o = new Oracle(s.u);
  const family = s.u.family;
  const created = await ipam.createPool({ addressFamily: family, cidrs: s.parentCidrs, ...ruleInput(s.parentRules), allocationStrategy: parentStrategy });
  const parent = o.addPool(created.ipamPoolId, s.parentCidrs.map((c) => parseOut(s.u, c)), s.parentRules, parentStrategy);
  const children: OPool[] = [];
  const tokens = new Map<string, { fp: string; result: unknown }>();
  const pools = () => [parent, ...children];
  await agree(ipam, o);

  let lastWithToken: Command | undefined;
  for (const next of commands) {
    const cmd = next.t === "again" ? lastWithToken && { ...lastWithToken, dryRun: next.dryRun } : next;
    if (!cmd) continue;
    if ("token" in cmd && cmd.token !== undefined) lastWithToken = cmd;
    const before = await snapshot(ipam);
    /**
     * Compares a call's result with the oracle's and returns it when both
     * succeeded; a failure must leave the store as it was. With dryRun, a call
     * the oracle says succeeds must fail with DryRunOperation instead.
     */
    const judge = async <T>(outcome: Outcome, call: () => Promise<T>, dryRun = false): Promise<T | undefined> => {
      const expected: Outcome = dryRun && !("code" in outcome) ? { code: "DryRunOperation" } : outcome;
      const got = await attempt(call);
      if ("code" in expected) {
        expect({ cmd, result: "code" in got ? got.code : "succeeded" }).toEqual({ cmd, result: expected.code });
        expect(await snapshot(ipam)).toEqual(before);
        return undefined;
      }
      if ("code" in got) throw new Error(`${JSON.stringify(cmd)} failed with ${got.code}; the oracle expected success`);
      return got.ok;
    };
    /** The allocator's answer is the oracle's block, written canonically. */
    const expectBlock = (text: string, expected: Outcome) => {
      expect({ cmd, got: parseOut(s.u, text) }).toEqual({ cmd, got: (expected as { block: OBlock }).block });
      expect(isCanonical(s.u, text.split("/")[0])).toBe(true);
    };

    /**
     * A ClientToken seen before (checked after the request's own validation):
     * the same parameters get the first result back and change nothing; other
     * parameters are IdempotentParameterMismatch. Returns false for a new token.
     */
    const replayed = async (op: string, token: string | undefined, fp: unknown, call: () => Promise<unknown>, dryRun: boolean): Promise<boolean> => {
      const seen = token === undefined ? undefined : tokens.get(`${op}:${token}`);
      if (!seen) return false;
      if (seen.fp !== JSON.stringify(fp)) await judge({ code: "IdempotentParameterMismatch" }, call);
      else if (dryRun) await judge({ code: "DryRunOperation" }, call);
      else {
        expect(await call()).toEqual(seen.result);
        expect(await snapshot(ipam)).toEqual(before);
      }
      return true;
    };
    const remember = (op: string, token: string | undefined, fp: unknown, result: unknown) => {
      if (token !== undefined) tokens.set(`${op}:${token}`, { fp: JSON.stringify(fp), result });
    };

    switch (cmd.t) {
      case "alloc":
      case "preview": {
        const pool = pools()[cmd.pool % pools().length];
        const allowed = cmd.allowed.map((b) => align(o, b)), disallowed = cmd.disallowed.map((b) => align(o, b));
        const input = {
          ipamPoolId: pool.id, netmaskLength: cmd.length,
          allowedCidrs: allowed.length ? allowed.map((b) => cidrText(s.u, b)) : undefined,
          disallowedCidrs: disallowed.length ? disallowed.map((b) => cidrText(s.u, b)) : undefined,
        };
        const expected = o.fit(pool, cmd.length, allowed, disallowed);
        if (cmd.t === "preview") {
          const preview = await judge(expected, () => ipam.previewNextCidr(input));
          if (preview === undefined) break;
          expectBlock(preview, expected);
          expect(await snapshot(ipam)).toEqual(before);
          if (!cmd.thenAllocate) break;
        }
        const token = cmd.t === "alloc" ? cmd.token : undefined, dryRun = cmd.t === "alloc" && cmd.dryRun;
        const call = () => ipam.allocate({ ...input, clientToken: token, dryRun });
        if (!o.precheck(pool, cmd.length) && (await replayed("AllocateIpamPoolCidr", token, input, call, dryRun))) break;
        const a = await judge(expected, call, dryRun);
        if (!a) break;
        expectBlock(a.cidr, expected);
        o.allocate(pool, a.ipamPoolAllocationId, parseOut(s.u, a.cidr), "custom");
        remember("AllocateIpamPoolCidr", token, input, a);
        break;
      }
      case "allocCidr": {
        const pool = pools()[cmd.pool % pools().length];
        const b = align(o, cmd.cidr);
        const expected = o.explicit(pool, b);
        const input = { ipamPoolId: pool.id, cidr: cidrText(s.u, b) };
        const call = () => ipam.allocate({ ...input, clientToken: cmd.token, dryRun: cmd.dryRun });
        if (await replayed("AllocateIpamPoolCidr", cmd.token, input, call, cmd.dryRun)) break;
        const a = await judge(expected, call, cmd.dryRun);
        if (!a) break;
        expectBlock(a.cidr, expected);
        o.allocate(pool, a.ipamPoolAllocationId, b, "custom");
        remember("AllocateIpamPoolCidr", cmd.token, input, a);
        break;
      }
      case "release": {
        const all = [...o.allocs.values()];
        if (cmd.how === "unknown" || all.length === 0) {
          await judge({ code: "InvalidIpamPoolAllocationId.NotFound" }, () => ipam.release({ ipamPoolId: parent.id, ipamPoolAllocationId: "ipam-pool-alloc-00000000000000000000000000000000" }));
          break;
        }
        const a = all[cmd.pick % all.length];
        const others = pools().filter((p) => p.id !== a.poolId);
        if (cmd.how === "otherPool" && others.length) {
          await judge({ code: "InvalidIpamPoolAllocationId.NotFound" }, () => ipam.release({ ipamPoolId: others[cmd.pick % others.length].id, ipamPoolAllocationId: a.id }));
          break;
        }
        const expected: Outcome = a.kind === "custom" ? { block: a.block } : { code: "OperationDenied.ResourceTypeIsNotCustom" };
        const done = await judge(expected, () => ipam.release({ ipamPoolId: a.poolId, ipamPoolAllocationId: a.id, dryRun: cmd.dryRun }).then(() => true), cmd.dryRun);
        if (done) o.release(a.id);
        break;
      }
      case "eip": {
        const pool = pools()[cmd.pool % pools().length];
        const expected: Outcome = family === "ipv6"
          ? { code: "InvalidParameterCombination" }
          : cmd.address === undefined ? o.fit(pool, 32, [], [], false) : o.explicit(pool, { off: cmd.address, prefix: 32 }, false);
        const input = { ipamPoolId: pool.id, address: cmd.address === undefined ? undefined : addressText(s.u, cmd.address) };
        const call = () => ipam.allocateAddress({ ...input, clientToken: cmd.token, dryRun: cmd.dryRun });
        if (family === "ipv4" && (await replayed("AllocateAddress", cmd.token, input, call, cmd.dryRun))) break;
        const eip = await judge(expected, call, cmd.dryRun);
        if (!eip) break;
        expectBlock(`${eip.publicIp}/32`, expected);
        o.allocate(pool, eip.ipamPoolAllocationId, parseOut(s.u, eip.publicIp), "eip", eip.allocationId);
        remember("AllocateAddress", cmd.token, input, eip);
        break;
      }
      case "eipRelease": {
        const eips = [...o.allocs.values()].filter((a) => a.kind === "eip");
        if (eips.length === 0) {
          await judge({ code: "InvalidAllocationID.NotFound" }, () => ipam.releaseAddress({ allocationId: "eipalloc-00000000000000000" }));
          break;
        }
        const a = eips[cmd.pick % eips.length];
        if (await judge({ block: a.block }, () => ipam.releaseAddress({ allocationId: a.owner!, dryRun: cmd.dryRun }).then(() => true), cmd.dryRun)) o.release(a.id);
        break;
      }
      case "child": {
        if (children.length >= 3) break;
        const source = pools()[cmd.source % pools().length];
        const rules = s.childRules[cmd.rules];
        const b = cmd.cidr && cmd.length === undefined ? align(o, cmd.cidr) : undefined;
        const expected = b ? o.explicit(source, b) : o.fit(source, cmd.length);
        const child = await judge(expected, () => ipam.createPool({
          addressFamily: family, sourceIpamPoolId: source.id, allocationStrategy: cmd.strategy, ...ruleInput(rules),
          ...(b ? { cidrs: [cidrText(s.u, b)] } : { netmaskLength: cmd.length }), dryRun: cmd.dryRun,
        }), cmd.dryRun);
        if (!child) break;
        expect(child.cidrs.length).toBe(1);
        expectBlock(child.cidrs[0], expected);
        const carve = (await ipam.listAllocations(source.id)).find((a) => a.resourceId === child.ipamPoolId)!;
        o.allocate(source, carve.ipamPoolAllocationId, parseOut(s.u, carve.cidr), "ipam-pool", child.ipamPoolId);
        children.push(o.addPool(child.ipamPoolId, [parseOut(s.u, child.cidrs[0])], rules, cmd.strategy));
        break;
      }
      case "again":
        break;
      case "deleteChild": {
        if (children.length === 0) break;
        const child = children[cmd.pick % children.length];
        const busy = o.allocationsOf(child.id).length > 0; // a nested pool of its own is one of them (its carve-out)
        const done = await judge(busy ? { code: "DependencyViolation" } : { block: child.roots[0] }, () => ipam.deletePool({ ipamPoolId: child.id, dryRun: cmd.dryRun }).then(() => true), cmd.dryRun);
        if (!done) break;
        const carve = [...o.allocs.values()].find((a) => a.owner === child.id)!;
        o.release(carve.id);
        o.pools.delete(child.id);
        children.splice(children.indexOf(child), 1);
        break;
      }
    }
    await agree(ipam, o);
  }
}

/** The store and the oracle agree on every pool, allocation, address count and free block. */
async function agree(ipam: Ipam, o: Oracle): Promise<void> {
  const u = o.u;
  expect((await ipam.listPools()).map((p) => p.ipamPoolId).sort()).toEqual([...o.pools.keys()].sort());
  for (const pool of o.pools.values()) {
    const listed = await ipam.listAllocations(pool.id);
    for (const a of listed) expect(isCanonical(u, a.cidr.split("/")[0])).toBe(true);
    const got = listed.map((a) => ({ id: a.ipamPoolAllocationId, block: parseOut(u, a.cidr), kind: a.resourceType }));
    const want = o.allocationsOf(pool.id).map((a) => ({ id: a.id, block: a.block, kind: a.kind }));
    const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
    expect(got.sort(byId)).toEqual(want.sort(byId));
    // Stated directly too: disjoint, each inside one provisioned CIDR, custom ones within the rules.
    const sorted = [...got].sort((x, y) => x.block.off - y.block.off);
    sorted.forEach((a, i) => {
      expect(o.rootOf(pool, a.block)).toBeDefined();
      if (i > 0) expect(sorted[i - 1].block.off + o.size(sorted[i - 1].block.prefix)).toBeLessThanOrEqual(a.block.off);
      if (a.kind === "custom") expect(a.block.prefix).toBeGreaterThanOrEqual(pool.rules.min ?? 0);
      if (a.kind === "custom") expect(a.block.prefix).toBeLessThanOrEqual(pool.rules.max ?? u.bits);
    });
    const util = await ipam.utilization(pool.id);
    const total = o.total(pool), allocated = o.allocated(pool);
    expect([util.total, util.allocated, util.free]).toEqual([String(total), String(allocated), String(total - allocated)]);
    for (const f of util.freeBlocks) expect(isCanonical(u, f.split("/")[0])).toBe(true);
    expect(util.freeBlocks.map((f) => parseOut(u, f))).toEqual(o.freeBlocks(pool));
  }
  for (const a of o.allocs.values()) {
    if (a.kind === "eip") expect(parseOut(u, (await ipam.getAddress(a.owner!)).publicIp)).toEqual(a.block);
  }
}
