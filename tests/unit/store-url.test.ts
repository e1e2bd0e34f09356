/**
 * Store URLs: what openStore accepts, and what its errors may show. A wrong
 * URL is InvalidParameterValue naming what is wrong and what is accepted; no
 * message ever carries a password, raw control characters or a huge input.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IpamError } from "../../provider/core/errors";
import { openStore, parseStoreUrl, redactUrl } from "../../provider/stores";
import { SqliteStore } from "../../provider/stores/sqlite";

/** The IpamError openStore throws for url (fails the test when it opens). */
function refusal(url: unknown): IpamError {
  try {
    openStore(url as string).close();
  } catch (e) {
    if (e instanceof IpamError) return e;
    throw e;
  }
  throw new Error(`expected ${String(url)} to be refused`);
}

describe("store URL schemes", () => {
  test.each([
    "postgress://ipam:secret@db.example.com:5432/ipam",
    "postgre://ipam:secret@db.example.com/ipam?sslmode=require",
    "mysql://ipam:secret@localhost/ipam",
    "ipam:secret@localhost/ipam",
    "POSTGRES://ipam:secret@localhost/ipam",
    "postgress://ipam:p@ss:w0rd/secret@localhost/ipam",
    "host=localhost user=ipam password=secret dbname=ipam",
    "pg://localhost/ipam?password=secret&sslpassword=secret",
    "sqlit:/tmp/x.db?password=secret",
    "",
  ])("%j is InvalidParameterValue naming the accepted schemes, without the password", (url) => {
    const e = refusal(url);
    expect(e.code).toBe("InvalidParameterValue");
    expect(e.message).not.toContain("secret");
    expect(e.message).not.toContain("w0rd");
    for (const scheme of ["sqlite:", "postgres://", "postgresql://", "memory:"]) expect(e.message).toContain(scheme);
  });

  test("the redacted URL still shows what to fix: scheme, user, host", () => {
    const e = refusal("postgress://ipam:secret@db.example.com:5432/ipam");
    expect(e.message).toContain('"postgress://ipam:***@db.example.com:5432/ipam"');
    expect(e.message).toContain('"postgress:"');
  });

  test("control characters in a URL are escaped in the message, and a huge one is cut", () => {
    const e = refusal("bad\nERROR: forged line\u001b[31m");
    expect(e.message).not.toMatch(/[\u0000-\u001f]/);
    expect(e.message).toContain("\\n");
    expect(e.message).toContain("\\u001b");
    const long = refusal(`nope://${"x".repeat(100_000)}`);
    expect(long.message.length).toBeLessThan(600);
  });

  test("a URL that is not a string is InvalidParameterValue", () => {
    for (const v of [5, null, undefined, { url: "memory:" }, ["memory:"]]) expect(refusal(v).code).toBe("InvalidParameterValue");
  });

  test("the accepted forms parse to their store", () => {
    expect(parseStoreUrl("memory:")).toEqual({ kind: "memory" });
    expect(parseStoreUrl("postgres://u:p@h:5432/db?sslmode=require")).toEqual({ kind: "postgres", url: "postgres://u:p@h:5432/db?sslmode=require" });
    expect(parseStoreUrl("postgresql://h/db")).toEqual({ kind: "postgres", url: "postgresql://h/db" });
    expect(parseStoreUrl("sqlite:./x.db")).toEqual({ kind: "sqlite", file: "./x.db", options: {} });
    expect(parseStoreUrl("sqlite:///abs/x.db")).toEqual({ kind: "sqlite", file: "/abs/x.db", options: {} });
    expect(parseStoreUrl("sqlite:/a.db?synchronous=full&busyTimeoutMs=5000")).toEqual({ kind: "sqlite", file: "/a.db", options: { synchronous: "full", busyTimeoutMs: 5000 } });
    expect(parseStoreUrl("sqlite:/a.db?busyTimeoutMs=0")).toEqual({ kind: "sqlite", file: "/a.db", options: { busyTimeoutMs: 0 } });
  });
});

describe("sqlite: URL parameters", () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-url-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("?busyTimeoutMs= and ?synchronous= together open a store with both", async () => {
    const store = openStore(`sqlite:${path.join(dir, "a.db")}?busyTimeoutMs=5000&synchronous=full`) as SqliteStore;
    try {
      expect(store).toBeInstanceOf(SqliteStore);
      expect(store.busyTimeoutMs).toBe(5000);
    } finally {
      await store.close();
    }
    const dflt = openStore(`sqlite:${path.join(dir, "b.db")}`) as SqliteStore;
    expect(dflt.busyTimeoutMs).toBe(30000);
    await dflt.close();
  });

  test.each([
    ["busyTimeoutMs=", "busyTimeoutMs"],
    ["busyTimeoutMs=-1", "busyTimeoutMs"],
    ["busyTimeoutMs=1.5", "busyTimeoutMs"],
    ["busyTimeoutMs=5s", "busyTimeoutMs"],
    ["busyTimeoutMs=1e3", "busyTimeoutMs"],
    ["busyTimeoutMs=NaN", "busyTimeoutMs"],
    ["busyTimeoutMs=99999999999", "busyTimeoutMs"],
    ["busyTimeoutMs=10&busyTimeoutMs=20", "busyTimeoutMs"],
    ["synchronous=off", "synchronous"],
    ["synchronous=FULL", "synchronous"],
    ["busytimeoutms=10", "busytimeoutms"],
    ["journal_mode=delete", "journal_mode"],
    ["password=secret", "password"],
  ])("?%s is InvalidParameterValue naming %s", (query, name) => {
    const file = path.join(dir, "never.db");
    const e = refusal(`sqlite:${file}?${query}`);
    expect(e.code).toBe("InvalidParameterValue");
    expect(e.message).toContain(name);
    expect(e.message).not.toContain("secret");
    // Refused before anything was opened or created.
    expect(fs.existsSync(file)).toBe(false);
  });

  test("an unknown parameter's message lists the ones a sqlite: URL takes", () => {
    const e = refusal(`sqlite:${path.join(dir, "never.db")}?timeout=5`);
    expect(e.message).toContain("?synchronous=");
    expect(e.message).toContain("?busyTimeoutMs=");
  });

  test("sqlite: without a file is InvalidParameterValue", () => {
    expect(refusal("sqlite:").code).toBe("InvalidParameterValue");
    expect(refusal("sqlite:?busyTimeoutMs=5").code).toBe("InvalidParameterValue");
  });

  test("SqliteStore refuses a busyTimeoutMs that is not a whole number of ms", () => {
    for (const ms of [NaN, -1, 0.5, Infinity, 2 ** 31]) {
      expect(() => new SqliteStore(path.join(dir, "never.db"), { busyTimeoutMs: ms })).toThrow(expect.objectContaining({ code: "InvalidParameterValue" }));
    }
    expect(fs.existsSync(path.join(dir, "never.db"))).toBe(false);
  });
});

describe("redactUrl", () => {
  test.each([
    ["postgres://ipam:secret@h:5432/db", "postgres://ipam:***@h:5432/db"],
    ["postgres://ipam@h/db", "postgres://ipam@h/db"],
    ["postgres://h/db?user=a@b", "postgres://h/db?user=a@b"],
    ["postgres://u:s@cr@t@h/db", "postgres://u:***@h/db"],
    ["postgres://h/db?sslmode=require&password=secret", "postgres://h/db?sslmode=require&password=***"],
    ["postgres://h/db?PASSWORD=secret&x=1", "postgres://h/db?PASSWORD=***&x=1"],
    ["host=h password='se cret' dbname=d", "host=h password=*** dbname=d"],
    ["sqlite:/tmp/a@b:c.db", "sqlite:/tmp/a@b:c.db"],
  ])("%s → %s", (url, want) => {
    expect(redactUrl(url)).toBe(want);
  });
});
