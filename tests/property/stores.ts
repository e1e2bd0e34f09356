/** The stores the property tests run on, and how many random sequences each gets (the suite stays well under a minute). */
import { Ipam } from "../../provider/core/ipam";
import { openStore } from "../../provider/stores";
import { removeSqlite, tmpSqliteUrl } from "../support/backends";

export interface PropertyStore {
  name: string;
  numRuns: number;
  /** Runs fn on a new, empty store and removes the store afterwards. */
  withIpam(fn: (ipam: Ipam) => Promise<void>): Promise<void>;
}

async function on(url: string, fn: (ipam: Ipam) => Promise<void>): Promise<void> {
  const store = openStore(url);
  try {
    await fn(new Ipam(store));
  } finally {
    await store.close();
  }
}

export const PROPERTY_STORES: PropertyStore[] = [
  { name: "memory", numRuns: 200, withIpam: (fn) => on("memory:", fn) },
  {
    name: "sqlite",
    numRuns: 60,
    withIpam: async (fn) => {
      // synchronous=normal: these runs test the SQL, not fsync; the unit suite covers the durable default.
      const url = `${tmpSqliteUrl()}?synchronous=normal`;
      try {
        await on(url, fn);
      } finally {
        removeSqlite(url);
      }
    },
  },
];
