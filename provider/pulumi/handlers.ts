/**
 * The provider methods of both faces: loaded by name inside each call of the
 * dynamic resources' serialized trampoline (resources.ts), so a deployment
 * always runs the installed pulumi-ipam, never code frozen into an old
 * state file; and called by the provider plugin (provider/plugin).
 * check() first checks the program's inputs against schema.json.
 */
import { TYPE_TOKENS, validateInputs } from "../schema/validate";
import * as address from "./address";
import * as allocation from "./allocation";
import * as pool from "./pool";

export { configure } from "../runtime/context";

/**
 * Properties the faces add to a resource's inputs themselves: never the user's, so not in the schema
 * (__provider: the dynamic-provider host's serialized provider, in every dynamic resource's inputs).
 */
export const INTERNAL = ["planKey", "planNonce", "requestedCidr", "requestedCidrs", "planNote", "__provider"] as const;

type Props = Record<string, any>;

function validated<K extends keyof typeof TYPE_TOKENS, M extends { check: (olds: Props, news: Props) => Promise<unknown> }>(kind: K, m: M): M {
  return {
    ...m,
    async check(olds: Props, news: Props) {
      const failures = validateInputs(TYPE_TOKENS[kind], news, INTERNAL);
      return failures.length ? { inputs: {}, failures } : m.check(olds, news);
    },
  };
}

export const handlers = {
  IpamPool: validated("IpamPool", pool),
  IpamPoolAllocation: validated("IpamPoolAllocation", allocation),
  ElasticIp: validated("ElasticIp", address),
} as const;
