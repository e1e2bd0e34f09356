/**
 * Counting wrappers for the cost tests: a Store whose transactions hand the
 * core a proxy that records every StoreTx call, and hooks on the real
 * SQLite / PostgreSQL stores that record every SQL statement they execute.
 * Nothing is stubbed: every call goes through to the real store.
 */
import type { Pool, PoolClient } from "pg";
import type { Store, StoreTx } from "../../provider/core/store";
import type { PostgresStore } from "../../provider/stores/postgres";
import type { SqliteStore } from "../../provider/stores/sqlite";

export class Recorder {
  on = false;
  txCalls: string[] = [];
  sql: string[] = [];

  /** Runs fn with recording on and returns what it recorded. */
  async measure(fn: () => Promise<unknown>): Promise<{ txCalls: string[]; sql: string[] }> {
    this.txCalls = [];
    this.sql = [];
    this.on = true;
    try {
      await fn();
    } finally {
      this.on = false;
    }
    return { txCalls: this.txCalls, sql: this.sql };
  }
}

export class CountingStore implements Store {
  readonly kind: string;
  constructor(readonly inner: Store, readonly rec: Recorder) {
    this.kind = inner.kind;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(this.counted(tx)));
  }

  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.inner.read((tx) => fn(this.counted(tx)));
  }

  private counted(tx: StoreTx): StoreTx {
    const rec = this.rec;
    return new Proxy(tx, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          if (rec.on) rec.txCalls.push(String(prop));
          return v.apply(target, args);
        };
      },
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const EXEC = new Set(["run", "get", "all", "iterate"]);

/** Records each statement the SQLite store executes through its statement cache (all StoreTx work does). */
export function recordSqliteStatements(store: SqliteStore, rec: Recorder): void {
  const original = store.stmt.bind(store);
  store.stmt = (sql: string) => {
    const st = original(sql);
    return new Proxy(st, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        if (!EXEC.has(String(prop))) return v.bind(target);
        return (...args: unknown[]) => {
          if (rec.on) rec.sql.push(sql);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  };
}

const CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK)\b/i;
const wrapped = Symbol("counted");

/** Records each statement (not BEGIN/COMMIT/ROLLBACK) the PostgreSQL store sends, on whichever pooled client. */
export function recordPostgresStatements(store: PostgresStore, rec: Recorder): void {
  const pool = (store as unknown as { pool: Pool }).pool;
  pool.on("acquire", (client: PoolClient) => {
    const c = client as PoolClient & { [wrapped]?: true };
    if (c[wrapped]) return;
    c[wrapped] = true;
    const original = c.query.bind(c) as (...a: unknown[]) => unknown;
    (c as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text: string; ipamStatements?: string[] };
      const text = typeof first === "string" ? first : first.text;
      // A batch of held writes (sent with the next read or the COMMIT) names its statements' parameterized texts.
      const held = typeof first === "string" ? undefined : first.ipamStatements;
      if (rec.on && held) rec.sql.push(...held);
      else if (rec.on && !CONTROL.test(text)) rec.sql.push(text);
      return original(...args);
    };
  });
}
