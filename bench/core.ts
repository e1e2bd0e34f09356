/**
 * core-vs-ip-num-pool (and the "ours" side of core-vs-go-ipam): /24
 * allocations per second from 10.0.0.0/8 already holding PREFILL (50,000)
 * /24s, in memory.
 *
 * ours:   Ipam.allocate({ netmaskLength: 24 }) on openStore("memory:"); every
 *         call is a full transaction (validation, free-block index update,
 *         an allocation record with a random id).
 * ip-num: Pool.fromCidrRanges([10.0.0.0/8]).getCidrRange(IPv4Prefix 24),
 *         ip-num's own pool allocator (free ranges only, no records).
 *
 * Both are prefilled with real calls to the same fill level, then measured
 * in alternating windows (ours, ip-num, ours, ...) so that a neighbour
 * stealing the CPU hurts both alike; each side's rate is its median window
 * (wall clock; CPU-time rates are recorded too).
 * Both hand out the same CIDRs (checked).
 */
import { IPv4CidrRange, IPv4Prefix, Pool } from "ip-num";
import { Ipam } from "../provider/core/ipam";
import { openStore } from "../provider/stores";
import { emit, int, log, measure, Measurement, measureSync, merge } from "./lib";

const PREFILL = int("BENCH_CORE_PREFILL", 50_000);
const OPS = int("BENCH_CORE_OPS", 10_000);
const WINDOWS = int("BENCH_CORE_WINDOWS", 10);
/** Cap on each side's measured time (the brief: ip-num's measurement stays under 60 s). */
const MAX_SECONDS = int("BENCH_CORE_MAX_SECONDS", 50);

async function main(): Promise<void> {
  if (PREFILL + OPS > 65_536) throw new Error("a /8 holds 65,536 /24s: PREFILL + OPS must not exceed that");
  // ours
  const ipam = new Ipam(openStore("memory:"));
  const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] });
  const alloc = () => ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 });
  let t = performance.now();
  for (let i = 0; i < PREFILL; i++) await alloc();
  const oursPrefillSeconds = (performance.now() - t) / 1000;
  log(`core: ours prefilled ${PREFILL} /24s in ${oursPrefillSeconds.toFixed(1)} s`);

  // ip-num
  const ipnum = Pool.fromCidrRanges([IPv4CidrRange.fromCidr("10.0.0.0/8")]);
  const p24 = IPv4Prefix.fromNumber(24n);
  t = performance.now();
  for (let i = 0; i < PREFILL; i++) ipnum.getCidrRange(p24);
  const ipnumPrefillSeconds = (performance.now() - t) / 1000;
  log(`core: ip-num prefilled ${PREFILL} /24s in ${ipnumPrefillSeconds.toFixed(1)} s`);

  const firstOurs = await alloc();
  const firstIpnum = ipnum.getCidrRange(p24).toCidrString();
  if (firstOurs.cidr !== firstIpnum) throw new Error(`ours and ip-num disagree: ${firstOurs.cidr} vs ${firstIpnum}`);

  const per = Math.floor(OPS / WINDOWS);
  const ours: Measurement[] = [];
  const theirs: Measurement[] = [];
  let lastOurs = "";
  let lastIpnum = "";
  for (let w = 0; w < WINDOWS; w++) {
    ours.push(await measure(async () => { lastOurs = (await alloc()).cidr; }, per, 1, MAX_SECONDS / WINDOWS));
    theirs.push(measureSync(() => { lastIpnum = ipnum.getCidrRange(p24).toCidrString(); }, per, 1, MAX_SECONDS / WINDOWS));
  }
  const o = merge(ours);
  const b = merge(theirs);
  log(`core: ours ${o.rate.toFixed(0)}/s, ip-num ${b.rate.toFixed(0)}/s (last ${lastOurs} / ${lastIpnum})`);
  emit({
    workload: `/24 allocations from 10.0.0.0/8 holding ${PREFILL} /24s (plus 1 checked), measured over the next ${OPS} in ${WINDOWS} alternating windows`,
    ours: { ...o, prefill: PREFILL, prefillSeconds: oursPrefillSeconds, firstCidr: firstOurs.cidr, lastCidr: lastOurs, store: "memory:" },
    ipnum: { ...b, prefill: PREFILL, prefillSeconds: ipnumPrefillSeconds, firstCidr: firstIpnum, lastCidr: lastIpnum,
      version: require("ip-num/package.json").version as string, api: "Pool.getCidrRange(IPv4Prefix.fromNumber(24n))" },
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
