/**
 * IPv4: random sequences of allocations (by netmask, explicit, allowed and
 * disallowed), previews, releases, Elastic IPs and nested pools on a pool of
 * three CIDRs (two of them buddies, which must never merge), checked against
 * the bitmap oracle after every step.
 */
import fc from "fast-check";
import { universe } from "../support/oracle";
import { commandArb, runAgainstOracle, Setup } from "./commands";
import { PROPERTY_STORES } from "./stores";

const setup: Setup = {
  u: universe("ipv4", "10.0.0.0/23"),
  parentCidrs: ["10.0.0.0/25", "10.0.0.128/25", "10.0.1.64/26"],
  parentRules: { min: 24, max: 30, def: 27 },
  childRules: [{}, { min: 26, max: 32 }, { def: 30 }, { min: 27, max: 29, def: 28 }],
  lengths: fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 23, max: 32 }) },
    { weight: 1, arbitrary: fc.constantFrom(33, -1) },
    { weight: 2, arbitrary: fc.constant(undefined) },
  ),
  childLengths: fc.integer({ min: 24, max: 31 }),
};

describe.each(PROPERTY_STORES)("IPv4 command sequences on $name", (store) => {
  test("agree with the bitmap oracle at every step", async () => {
    const strategy = fc.constantFrom("first-fit" as const, "best-fit" as const);
    const commands = fc.array(commandArb(setup), { minLength: 1, maxLength: 40, size: "max" });
    await fc.assert(
      fc.asyncProperty(strategy, commands, (s, cmds) => store.withIpam((ipam) => runAgainstOracle(ipam, setup, s, cmds))),
      { numRuns: store.numRuns },
    );
  });
});
