/**
 * The storage contract: plain reads and writes, no allocation logic.
 * Free space is kept as the set of maximal aligned free blocks of each pool
 * (buddy decomposition), so every allocator step is a handful of indexed
 * look-ups whatever the pool's size.
 *
 * Results may be values or promises: the memory and SQLite stores answer
 * synchronously, PostgreSQL asynchronously; the core awaits either.
 */
import type { Block } from "./cidr";
import type { AddressRecord, AllocationRecord, PoolRecord, ReservationHold, ReservationRecord, ReservedSegment, TokenRecord } from "./model";

type R<T> = T | Promise<T>;

export interface StoreTx {
  /**
   * Locks the named pools until the transaction ends (no-op where the whole store is locked). An id that
   * starts with ipam-scope- names a scope (core/scopes.ts), which has no row: its lock is the store's own.
   */
  lockPools(ids: string[]): R<void>;

  getPool(id: string): R<PoolRecord | undefined>;
  putPool(pool: PoolRecord): R<void>;
  deletePool(id: string): R<void>;
  countChildPools(id: string): R<number>;
  listPools(): R<PoolRecord[]>;

  /** Lowest-start free block of the pool with minPrefix <= prefix <= maxPrefix and from <= start <= to. */
  lowestFree(poolId: string, minPrefix: number, maxPrefix: number, from: bigint, to: bigint): R<Block | undefined>;
  hasFree(poolId: string, block: Block): R<boolean>;
  addFree(poolId: string, block: Block): R<void>;
  removeFree(poolId: string, block: Block): R<void>;
  listFree(poolId: string): R<Block[]>;

  getAllocation(id: string): R<AllocationRecord | undefined>;
  putAllocation(a: AllocationRecord): R<void>;
  deleteAllocation(id: string): R<void>;
  listAllocations(poolId: string): R<AllocationRecord[]>;
  countAllocations(poolId: string): R<number>;

  getAddress(allocationId: string): R<AddressRecord | undefined>;
  putAddress(a: AddressRecord): R<void>;
  deleteAddress(allocationId: string): R<void>;

  getToken(key: string): R<TokenRecord | undefined>;
  putToken(t: TokenRecord): R<void>;

  getReservation(key: string): R<ReservationRecord | undefined>;
  putReservation(r: ReservationRecord): R<void>;
  deleteReservation(key: string): R<void>;
  /** Reservations holding space in the given pool. */
  listReservations(spacePoolId: string): R<ReservationRecord[]>;
  /** The same reservations but the held ones (expiresAt 0), only key, CIDRs and expiry, in any order. */
  listReservationHolds(spacePoolId: string): R<ReservationHold[]>;
  /** The planned reservations of the space whose expiry has passed (0 < expiresAt <= now), in any order. */
  listExpiredReservations(spacePoolId: string, now: number): R<ReservationRecord[]>;
  /** The reservation of a planned (maybe not yet created) pool, by the pool's id. */
  getPoolReservation(ipamPoolId: string): R<ReservationRecord | undefined>;

  /*
   * The index of reserved blocks (core/reserved.ts): per space, disjoint
   * segments keyed by their last address. The core keeps it; stores only
   * read and write segments.
   */
  /** Locks the space's reserved-block index until the transaction ends (no-op where the whole store is locked). */
  lockReservations(spacePoolId: string): R<void>;
  /** Up to `limit` segments of the space whose last address is >= from, ascending. */
  reservedFrom(spacePoolId: string, from: bigint, limit: number): R<ReservedSegment[]>;
  /** Writes a segment, replacing the one with the same last address. */
  putReserved(spacePoolId: string, s: ReservedSegment): R<void>;
  deleteReserved(spacePoolId: string, last: bigint): R<void>;
  /** True once for a space whose index a store migrated from before it must still be built (and clears that). */
  takeReservedPending(spacePoolId: string): R<boolean>;
}

export interface Store {
  /** "memory", "sqlite" or "postgres". */
  readonly kind: string;
  /**
   * Runs fn in one transaction: all of its writes commit together, or none
   * when fn throws. Retries fn when the database reports a serialization
   * conflict, so fn must do nothing but store calls.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Runs fn without taking a write lock, so it never waits for another
   * process's writer (SQLite: a deferred BEGIN, one WAL snapshot; PostgreSQL:
   * MVCC reads). Any write or lockPools call in fn throws.
   */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The StoreTx methods a read-only transaction refuses: every write, and lockPools (a lock is taken only to write). */
export const WRITE_METHODS = [
  "lockPools", "putPool", "deletePool", "addFree", "removeFree", "putAllocation", "deleteAllocation",
  "putAddress", "deleteAddress", "putToken", "putReservation", "deleteReservation",
  "lockReservations", "putReserved", "deleteReserved", "takeReservedPending",
] as const satisfies readonly (keyof StoreTx)[];

/** tx with every write replaced by one that throws: a read-only transaction's fn that writes fails loudly, before the store sees it. */
export function readOnlyTx(tx: StoreTx): StoreTx {
  const writes = new Set<PropertyKey>(WRITE_METHODS);
  return new Proxy(tx, {
    get(target, prop) {
      if (writes.has(prop)) {
        return () => {
          throw new Error(`internal: ${String(prop)} called in a read-only transaction; use Store.transaction for work that writes.`);
        };
      }
      const v = Reflect.get(target, prop, target);
      // Bound to the real tx, so its own state (caches, flags) stays on it.
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
