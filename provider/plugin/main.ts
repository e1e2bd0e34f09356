#!/usr/bin/env node
/**
 * pulumi-resource-ipam: the provider plugin's entry. The engine starts it
 * with the engine's address as an argument and reads the port it prints.
 */
import { serveProvider } from "./server";

serveProvider().catch((e) => {
  process.stderr.write(`pulumi-resource-ipam: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
