/**
 * The IpamPool provider is this module's whole exports object. Pulumi serializes a
 * value that is a module's exports under node_modules as require("<that
 * module>"), so each resource's state carries a one-line require instead of
 * the trampoline's code (see resources.ts).
 */
import { trampoline } from "./trampoline";

export = trampoline("IpamPool");
