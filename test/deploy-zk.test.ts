// The ZooKeeper client (src/deploy/_zk.ts) against real servers: one standalone server shared by the file's
// request tests, its own server for session loss, and a three-node ensemble for leader failover.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectZk, isZkConnectionError, ZkNodeError } from "../src/deploy/_zk.ts";
import type { Zk } from "../src/deploy/_types.ts";
import { freePort, startEnsemble, startWithClient, startZk, stopWithClient, TICK_MS, type ZkCluster, zkRejection } from "./_zk.ts";

/** The bound of a test that starts its own servers or waits out a session (bun's default is 5 s). */
const SLOW = 30_000;
let server: ZkCluster;
let zk: Zk & AsyncDisposable;
let n = 0;
/** A fresh root per test, so tests sharing the server never see each other's nodes. */
const root = async () => {
  const path = `/t${++n}`;
  await zk.create(path);
  return path;
};
/** A promise and its resolver: what a watch or a callback settles. */
function signal<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
/** Rejects with `what` if `p` does not settle within `ms`: every wait is bounded. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

beforeAll(async () => void ({ server, zk } = await startWithClient()), SLOW);
afterAll(() => stopWithClient(server, zk));

describe("requests", () => {
  test("get, children, exists, and the errors name code and path", async () => {
    const r = await root();
    expect(await zk.get(`${r}/none`)).toBeUndefined();
    expect(await zk.children(`${r}/none`)).toBeUndefined();
    expect(await zk.exists(`${r}/none`)).toBe(false);
    expect(await zk.create(`${r}/a`, "héllo ✓")).toBe(`${r}/a`);
    await zk.create(`${r}/b`);
    expect(await zk.get(`${r}/a`)).toEqual({ data: "héllo ✓", version: 0 });
    expect(await zk.get(`${r}/b`)).toEqual({ data: "", version: 0 });
    expect(await zk.children(r)).toEqual(["a", "b"]);
    expect(await zk.exists(`${r}/a`)).toBe(true);

    const exists = await zkRejection(zk.create(`${r}/a`));
    expect(exists).toBeInstanceOf(ZkNodeError);
    expect(exists.zkCode).toBe("NODE_EXISTS");
    expect(exists.path).toBe(`${r}/a`);
    expect(exists.message).toContain(`"${r}/a"`);
    expect(exists.exitCode).toBe(1);
    expect(isZkConnectionError(exists)).toBe(false);
    expect((await zkRejection(zk.create(`${r}/x/y`))).zkCode).toBe("NO_NODE");
    expect((await zkRejection(zk.set(`${r}/none`, "v"))).zkCode).toBe("NO_NODE");
    expect((await zkRejection(zk.remove(r))).zkCode).toBe("NOT_EMPTY");
    const bad = await zkRejection(zk.get("relative/path"));
    expect(bad.zkCode).toBe("BAD_ARGUMENTS");
    expect(bad.message).toStartWith('cannot read "relative/path": ');
    expect((await zkRejection(zk.create(`${r}/big`, "x".repeat(1_100_000)))).zkCode).toBe("BAD_ARGUMENTS");
  });

  test("create modes: sequential suffixes; an ephemeral node vanishes when its session closes", async () => {
    const r = await root();
    const s1 = await zk.create(`${r}/job-`, "", "persistent-sequential");
    const s2 = await zk.create(`${r}/job-`, "", "persistent-sequential");
    expect(s1).toMatch(new RegExp(`^${r}/job-\\d{10}$`));
    expect(Number(s2.slice(-10))).toBe(Number(s1.slice(-10)) + 1);

    const other = await connectZk({ hosts: server.connectString });
    await other.create(`${r}/eph`, "pid", "ephemeral");
    const seq = await other.create(`${r}/lock-`, "", "ephemeral-sequential");
    expect(seq).toMatch(/lock-\d{10}$/);
    expect((await zkRejection(other.create(`${r}/eph/child`))).zkCode).toBe("NO_CHILDREN_FOR_EPHEMERALS");
    const gone = signal();
    expect(await zk.exists(`${r}/eph`, gone.resolve)).toBe(true);
    await other.close();
    await within(gone.promise, 5000, "the ephemeral node to go");
    expect(await zk.exists(`${r}/eph`)).toBe(false);
    expect(await zk.exists(seq)).toBe(false);
  });

  test("set with a version; a stale version is BAD_VERSION and changes nothing", async () => {
    const r = await root();
    await zk.create(`${r}/n`, "a");
    expect(await zk.set(`${r}/n`, "b", 0)).toBe(1);
    const stale = await zkRejection(zk.set(`${r}/n`, "c", 0));
    expect(stale.zkCode).toBe("BAD_VERSION");
    expect(stale.exitCode).toBe(1);
    expect(await zk.get(`${r}/n`)).toEqual({ data: "b", version: 1 });
    expect(await zk.set(`${r}/n`, "d")).toBe(2);
    expect((await zkRejection(zk.remove(`${r}/n`, 1))).zkCode).toBe("BAD_VERSION");
    await zk.remove(`${r}/n`, 2);
    expect(await zk.exists(`${r}/n`)).toBe(false);
  });

  test("update: 2 sessions x 50 concurrent increments of one counter lose no update; it creates a missing node", async () => {
    const r = await root();
    const a = await connectZk({ hosts: server.connectString });
    const b = await connectZk({ hosts: server.connectString });
    try {
      const inc = (c: Zk) => c.update(`${r}/counter`, (cur) => String(Number(cur ?? "0") + 1));
      const results = await Promise.all([...Array.from({ length: 50 }, () => inc(a)), ...Array.from({ length: 50 }, () => inc(b))]);
      expect((await zk.get(`${r}/counter`))?.data).toBe("100");
      // every increment saw a distinct value: each write was a compare-and-set of what it read
      expect(new Set(results).size).toBe(100);
      expect(await zk.update(`${r}/counter`, () => undefined)).toBe("100");
      expect((await zk.get(`${r}/counter`))?.version).toBe(99);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("transaction: all or nothing, and the error names the failing op", async () => {
    const r = await root();
    await zk.create(`${r}/existing`, "x");
    await zk.transaction([
      { op: "create", path: `${r}/svc` },
      { op: "create", path: `${r}/svc/type`, data: "bun" },
      { op: "check", path: `${r}/existing`, version: 0 },
      { op: "set", path: `${r}/existing`, data: "y", version: 0 },
    ]);
    expect(await zk.get(`${r}/svc/type`)).toEqual({ data: "bun", version: 0 });
    expect(await zk.get(`${r}/existing`)).toEqual({ data: "y", version: 1 });

    const e = await zkRejection(
      zk.transaction([
        { op: "create", path: `${r}/new1` },
        { op: "set", path: `${r}/existing`, data: "z" },
        { op: "check", path: `${r}/svc`, version: 0 },
        { op: "create", path: `${r}/svc/type` },
        { op: "create", path: `${r}/new2` },
      ]),
    );
    expect(e).toBeInstanceOf(ZkNodeError);
    expect(e.zkCode).toBe("NODE_EXISTS");
    expect(e.path).toBe(`${r}/svc/type`);
    expect((e as ZkNodeError).opIndex).toBe(3);
    expect(e.message).toBe(`transaction op 4 of 5 failed, so nothing was written: cannot create "${r}/svc/type": the node already exists (NODE_EXISTS)`);
    expect(await zk.exists(`${r}/new1`)).toBe(false);
    expect(await zk.exists(`${r}/new2`)).toBe(false);
    expect((await zk.get(`${r}/existing`))?.data).toBe("y");

    // a check of version 0 is a real check (the library alone would turn 0 into "any version")
    const check = await zkRejection(
      zk.transaction([
        { op: "check", path: `${r}/existing`, version: 0 },
        { op: "remove", path: `${r}/existing` },
      ]),
    );
    expect(check.zkCode).toBe("BAD_VERSION");
    expect((check as ZkNodeError).opIndex).toBe(0);
    expect(await zk.exists(`${r}/existing`)).toBe(true);
  });

  test("removeTree deletes a 3-level tree depth first; mkdirp creates each missing parent", async () => {
    const r = await root();
    await zk.mkdirp(`${r}/a/b/c`);
    await zk.mkdirp(`${r}/a/b/c`);
    for (const p of [`${r}/a/b/c/d1`, `${r}/a/b/c/d2`, `${r}/a/b2`, `${r}/a/b2/c2`]) await zk.create(p, "x");
    await zk.removeTree(`${r}/a`);
    expect(await zk.children(r)).toEqual([]);
    await zk.removeTree(`${r}/a`); // missing: a no-op
  });

  test("watches fire once: data, children, and the creation of a missing node", async () => {
    const r = await root();
    await zk.create(`${r}/w`, "1");
    let dataCalls = 0;
    const data = signal();
    await zk.get(`${r}/w`, () => {
      dataCalls++;
      data.resolve();
    });
    await zk.set(`${r}/w`, "2");
    await within(data.promise, 5000, "the data watch");
    await zk.set(`${r}/w`, "3");

    let childCalls = 0;
    const kids = signal();
    expect(await zk.children(r, () => (childCalls++, kids.resolve()))).toEqual(["w"]);
    await zk.create(`${r}/k1`);
    await within(kids.promise, 5000, "the children watch");
    await zk.create(`${r}/k2`);

    const created = signal();
    expect(await zk.get(`${r}/later`, created.resolve)).toBeUndefined();
    await zk.create(`${r}/later`);
    await within(created.promise, 5000, "the watch on a missing node");

    // a round trip after the second changes: any second notification would have arrived before its answer
    await zk.get(`${r}/w`);
    expect(dataCalls).toBe(1);
    expect(childCalls).toBe(1);
  });

  test("digest auth: pop's nodes are world-readable, but only their creator may change them", async () => {
    const r = await root();
    const owner = await connectZk({ hosts: server.connectString, auth: "pop:s3cret" });
    const anon = await connectZk({ hosts: server.connectString });
    const intruder = await connectZk({ hosts: server.connectString, auth: "mallory:guess" });
    try {
      await owner.mkdirp(`${r}/secure/svc`);
      await owner.create(`${r}/secure/svc/settings`, '{"port":1}');
      await owner.transaction([{ op: "create", path: `${r}/secure/svc/type`, data: "bun" }]);
      expect((await anon.get(`${r}/secure/svc/settings`))?.data).toBe('{"port":1}');
      expect((await anon.get(`${r}/secure/svc/type`))?.data).toBe("bun");
      for (const c of [anon, intruder]) {
        const e = await zkRejection(c.set(`${r}/secure/svc/settings`, "{}"));
        expect(e.zkCode).toBe("NO_AUTH");
        expect(isZkConnectionError(e)).toBe(false);
        expect((await zkRejection(c.create(`${r}/secure/svc/x`))).zkCode).toBe("NO_AUTH");
        expect((await zkRejection(c.remove(`${r}/secure/svc/type`))).zkCode).toBe("NO_AUTH");
      }
      await owner.set(`${r}/secure/svc/settings`, '{"port":2}');
      await owner.removeTree(`${r}/secure`);
      expect(await anon.exists(`${r}/secure`)).toBe(false);
    } finally {
      await Promise.all([owner.close(), anon.close(), intruder.close()]);
    }
  });

  test("after close every request rejects, and nothing is left running", async () => {
    const c = await connectZk({ hosts: server.connectString });
    await c.close();
    const e = await zkRejection(c.get("/"));
    expect(e.zkCode).toBe("CLOSED");
    await c.close();
  });
});

describe("connection trouble", () => {
  test(
    "an unreachable address rejects within the timeout, naming it (exit 3)",
    async () => {
      const port = freePort();
      const e = await zkRejection(within(connectZk({ hosts: `127.0.0.1:${port}`, timeoutMs: 1000 }), 10_000, "connectZk to reject"));
      expect(e.exitCode).toBe(3);
      expect(isZkConnectionError(e)).toBe(true);
      expect(e.message).toBe(`cannot reach ZooKeeper at 127.0.0.1:${port} within 1000 ms: is it running? set --zk HOSTS or POP_ZK`);
    },
    SLOW,
  );

  test(
    "the server stopped while connected: onSessionLost fires after about the session timeout, requests reject (exit 3)",
    async () => {
      await using own = await startZk();
      const c = await connectZk({ hosts: own.connectString, sessionTimeoutMs: 4 * TICK_MS, timeoutMs: 2000 });
      const states: string[] = [];
      c.onState((s) => states.push(s));
      const lost = signal();
      c.onSessionLost(lost.resolve);
      await c.create("/eph", "", "ephemeral");
      await own.stop();
      await within(lost.promise, 10_000, "onSessionLost");
      expect(states).toEqual(["disconnected", "expired"]);
      const e = await zkRejection(c.get("/eph"));
      expect(e.zkCode).toBe("SESSION_EXPIRED");
      expect(isZkConnectionError(e)).toBe(true);
      expect(e.exitCode).toBe(3);
      await c.close();
    },
    SLOW,
  );

  test(
    "an idle session outlives its session timeout: pop's own heartbeat keeps it",
    async () => {
      const c = await connectZk({ hosts: server.connectString, sessionTimeoutMs: 2 * TICK_MS });
      try {
        let lost = false;
        c.onSessionLost(() => (lost = true));
        const path = await c.create("/idle-", "", "ephemeral-sequential");
        await Bun.sleep(8 * TICK_MS); // the time itself is what is tested: four session timeouts without a request
        expect(lost).toBe(false);
        expect(await zk.exists(path)).toBe(true);
      } finally {
        await c.close();
      }
    },
    SLOW,
  );

  test(
    "a silent server (SIGSTOP: the connection stays open) loses the session by our own timer",
    async () => {
      await using own = await startZk();
      const c = await connectZk({ hosts: own.connectString, sessionTimeoutMs: 4 * TICK_MS, timeoutMs: 2000 });
      const lost = signal();
      c.onSessionLost(lost.resolve);
      const pending = c.get("/").catch((e: unknown) => e);
      own.pause(0);
      try {
        await within(lost.promise, 10_000, "onSessionLost during a silent partition");
        const e = await pending;
        if (e instanceof Error) expect(isZkConnectionError(e)).toBe(true);
      } finally {
        own.resume(0);
        await c.close();
      }
    },
    SLOW,
  );

  test(
    "three-node ensemble: kill the leader while writing; the client fails over and no acknowledged write is lost",
    async () => {
      await using ens = await startEnsemble(3);
      const c = await connectZk({ hosts: ens.connectString, sessionTimeoutMs: 10 * TICK_MS, timeoutMs: 4000 });
      try {
        await c.create("/log");
        const states: string[] = [];
        c.onState((s) => states.push(s));
        let lost = false;
        c.onSessionLost(() => (lost = true));
        const session = c.sessionId;
        const acked: string[] = [];
        let failures = 0;
        let stop = false;
        let wanted = { count: 0, reached: () => {} };
        const until = (count: number) => {
          const s = signal();
          wanted = { count, reached: s.resolve };
          return within(s.promise, 20_000, `${count} acknowledged writes`);
        };
        const writer = (async () => {
          for (let i = 0; !stop; i++) {
            const path = `/log/w${String(i).padStart(5, "0")}`;
            // a write whose answer was lost may have been applied: retry it; NODE_EXISTS then means it was
            for (;;) {
              try {
                await c.create(path, String(i));
                break;
              } catch (e) {
                if (e instanceof ZkNodeError && e.zkCode === "NODE_EXISTS") break;
                if (!isZkConnectionError(e)) throw e;
                failures++;
              }
            }
            acked.push(path);
            if (acked.length >= wanted.count) wanted.reached();
          }
        })();
        await until(20);
        const leader = await ens.leader();
        await ens.kill(leader);
        await until(acked.length + 50);
        stop = true;
        await writer;
        expect(await ens.leader()).not.toBe(leader);
        const stored = new Set(await c.children("/log"));
        expect(acked.filter((p) => !stored.has(p.slice("/log/".length)))).toEqual([]);
        expect(stored.size).toBe(acked.length);
        expect(failures).toBeLessThan(20);
        // the same session throughout: at most a disconnect and a reconnect, never a loss
        expect(lost).toBe(false);
        expect(c.sessionId).toBe(session);
        expect(states.filter((s) => s === "expired")).toEqual([]);
      } finally {
        await c.close();
      }
    },
    SLOW,
  );
});
