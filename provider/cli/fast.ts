/**
 * Fast mode (`pulumi-ipam run <dir> up --fast`): the update saves only its
 * final checkpoint (PULUMI_SKIP_CHECKPOINTS=true, pulumi/pulumi#10668), so
 * the file backend no longer rewrites the whole state after every step,
 * which made `up` quadratic in the number of resources.
 *
 * That is safe only for resources a re-run after a crash gets back as they
 * were: ours. Each keeps its plan reservation in the store and allocates
 * with a ClientToken made from it, so a re-run replays the same allocation
 * instead of making a second one. Any other custom resource (a VPC, a
 * bucket) created between two skipped checkpoints would be created again,
 * and leak. So fast mode is allowed only when every resource is one of ours,
 * a provider (it holds no cloud object), the stack, or a component (not
 * custom: it owns nothing); otherwise it refuses before anything changes.
 */
import type * as auto from "@pulumi/pulumi/automation";
import { TYPE_TOKENS } from "../schema/validate";

/** The engine's switch for saving only the final checkpoint of an update. */
export const SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS";

const KINDS = Object.keys(TYPE_TOKENS) as (keyof typeof TYPE_TOKENS)[];
/** Both faces' type tokens: the dynamic resources and the provider plugin's. */
export const OUR_TYPES: ReadonlySet<string> = new Set([...KINDS.map((k) => `pulumi-nodejs:dynamic/ipam:${k}`), ...Object.values(TYPE_TOKENS)]);

export interface Registered { urn: string; type: string; custom: boolean }

/** Whether a resource is safe to leave out of intermediate checkpoints. */
export function isOurs(r: Registered): boolean {
  return OUR_TYPES.has(r.type) || r.type === "pulumi:pulumi:Stack" || r.type.startsWith("pulumi:providers:") || !r.custom;
}

/** The resources of a preview's steps (every one the program registers, and those it would delete). */
export function stepResources(events: auto.EngineEvent[]): Registered[] {
  const out = new Map<string, Registered>();
  for (const e of events) {
    const m = e.resourcePreEvent?.metadata;
    if (!m) continue;
    const state = m.new ?? m.old;
    // Custom when marked so, or when a provider performs its step (fail closed: a component has neither).
    out.set(m.urn, { urn: m.urn, type: m.type, custom: state?.custom === true || !!m.provider });
  }
  return [...out.values()];
}

/** The resources of a stack's current state (what a destroy would delete). */
export function stateResources(deployment: auto.Deployment): Registered[] {
  const resources = ((deployment.deployment as { resources?: (Registered & { provider?: string })[] } | undefined)?.resources ?? []);
  return resources.map((r) => ({ urn: r.urn, type: r.type, custom: r.custom === true || !!r.provider }));
}

/** The refusal when some resources are not ours; undefined when fast mode is safe. */
export function refusal(resources: Registered[], what: string): string | undefined {
  const foreign = resources.filter((r) => !isOurs(r));
  if (!foreign.length) return undefined;
  const shown = foreign.slice(0, 10).map((r) => `  ${r.urn}`).join("\n");
  const more = foreign.length > 10 ? `\n  ... and ${foreign.length - 10} more` : "";
  return `--fast refused: ${what} ${foreign.length} resource(s) that are not pulumi-ipam's, which a crash between skipped checkpoints could leak:\n${shown}${more}\nNothing was changed. Run without --fast.`;
}
