/**
 * IPv6: the same command sequences on a /120 and a /121 (a bitmap of 512
 * addresses covers both and the gap between), with no default netmask on the
 * top-level pool and Elastic IPs refused.
 */
import fc from "fast-check";
import { universe } from "../support/oracle";
import { commandArb, runAgainstOracle, Setup } from "./commands";
import { PROPERTY_STORES } from "./stores";

const setup: Setup = {
  u: universe("ipv6", "2001:db8::/119"),
  parentCidrs: ["2001:db8::/120", "2001:db8::180/121"],
  parentRules: {},
  childRules: [{}, { min: 122, max: 128, def: 126 }, { def: 128 }, { min: 124, max: 127 }],
  lengths: fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 118, max: 128 }) },
    { weight: 1, arbitrary: fc.constant(129) },
    { weight: 2, arbitrary: fc.constant(undefined) },
  ),
  childLengths: fc.integer({ min: 120, max: 127 }),
};

describe.each(PROPERTY_STORES)("IPv6 command sequences on $name", (store) => {
  test("agree with the bitmap oracle at every step", async () => {
    const strategy = fc.constantFrom("first-fit" as const, "best-fit" as const);
    const commands = fc.array(commandArb(setup), { minLength: 1, maxLength: 40, size: "max" });
    await fc.assert(
      fc.asyncProperty(strategy, commands, (s, cmds) => store.withIpam((ipam) => runAgainstOracle(ipam, setup, s, cmds))),
      { numRuns: store.numRuns },
    );
  });
});
