// The one-shot ZooKeeper session (src/deploy/_zkwire.ts: the wire protocol over Bun.connect, used by pop deploy and
// pop undeploy) against a real server: the same answers and the same errors as the full client of _zk.ts, a chroot,
// digest ACLs, a dead server in the list, an unreachable address; and pop deploy through it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ZooKeeperError } from "../src/errors.ts";
import { isZkConnectionError, ZkNodeError } from "../src/deploy/_zk.ts";
import { connectOnce, parseHosts } from "../src/deploy/_zkwire.ts";
import type { Zk } from "../src/deploy/_types.ts";
import { pop, tmp } from "./helpers.ts";
import { freePort, startWithClient, stopWithClient, type ZkCluster, zkRejection } from "./_zk.ts";

const SLOW = 30_000;
let server: ZkCluster;
let zk: Zk & AsyncDisposable;
let n = 0;
const root = async () => {
  const path = `/w${++n}`;
  await zk.create(path);
  return path;
};

beforeAll(async () => void ({ server, zk } = await startWithClient()), SLOW);
afterAll(() => stopWithClient(server, zk));

describe("one-shot session", () => {
  test("get, exists, create, set, update answer as the full client does; errors carry the same code, path and message", async () => {
    const r = await root();
    const c = await connectOnce({ hosts: server.connectString, timeoutMs: 5000 });
    try {
      expect(await c.get(`${r}/none`)).toBeUndefined();
      expect(await c.exists(`${r}/none`)).toBe(false);
      expect(await c.create(`${r}/a`, "héllo ✓")).toBe(`${r}/a`);
      expect(await c.get(`${r}/a`)).toEqual(await zk.get(`${r}/a`));
      expect(await c.get(`${r}/a`)).toEqual({ data: "héllo ✓", version: 0 });
      expect(await c.exists(`${r}/a`)).toBe(true);
      expect(await c.set(`${r}/a`, "two", 0)).toBe(1);
      const stale = await zkRejection(c.set(`${r}/a`, "three", 0));
      const full = await zkRejection(zk.set(`${r}/a`, "three", 0));
      expect(stale).toBeInstanceOf(ZkNodeError);
      expect([stale.zkCode, stale.exitCode, stale.message, stale.path]).toEqual([full.zkCode, full.exitCode, full.message, full.path]);
      expect(stale.zkCode).toBe("BAD_VERSION");
      const dup = await zkRejection(c.create(`${r}/a`));
      expect([dup.zkCode, dup.message]).toEqual(["NODE_EXISTS", `cannot create "${r}/a": the node already exists (NODE_EXISTS)`]);
      expect((await zkRejection(c.create(`${r}/no/parent`))).zkCode).toBe("NO_NODE");
      // update: created when missing, compare-and-set otherwise, starting from a node already read
      expect(await c.update(`${r}/list`, (cur) => JSON.stringify([...JSON.parse(cur ?? "[]"), "m1"]))).toBe('["m1"]');
      const node = await c.get(`${r}/list`);
      await zk.set(`${r}/list`, '["m0","m1"]'); // someone else writes after that read: the first set conflicts, the retry reads again
      expect(await c.update(`${r}/list`, (cur) => JSON.stringify([...JSON.parse(cur ?? "[]"), "m2"]), { node })).toBe('["m0","m1","m2"]');
      expect(await c.create(`${r}/e`, "", "ephemeral")).toBe(`${r}/e`);
      expect(await zk.exists(`${r}/e`)).toBe(true);
    } finally {
      await c.close();
    }
    // closing ends the session at once: its ephemeral node is gone
    expect(await zk.exists(`${r}/e`)).toBe(false);
    const after = await zkRejection(c.get(`${r}/a`));
    expect(after.zkCode).toBe("CLOSED");
    expect(isZkConnectionError(after)).toBe(true);
  });

  test("a chroot prefixes every path, and a create answers the path without it", async () => {
    const r = await root();
    const c = await connectOnce({ hosts: `${server.connectString}${r}`, timeoutMs: 5000 });
    try {
      expect(await c.create("/x", "1")).toBe("/x");
      expect(await c.get("/x")).toMatchObject({ data: "1" });
      expect((await zk.get(`${r}/x`))!.data).toBe("1");
      expect(await c.exists("/")).toBe(true);
    } finally {
      await c.close();
    }
  });

  test("with digest auth every node it creates gets the ACL the full client gives: others read, cannot change", async () => {
    const r = await root();
    const c = await connectOnce({ hosts: server.connectString, timeoutMs: 5000, auth: "ops:s3cret" });
    try {
      await c.create(`${r}/mine`, "v");
      expect(await c.set(`${r}/mine`, "w")).toBe(1);
    } finally {
      await c.close();
    }
    expect((await zk.get(`${r}/mine`))!.data).toBe("w");
    expect((await zkRejection(zk.set(`${r}/mine`, "evil"))).zkCode).toBe("NO_AUTH");
    const stranger = await connectOnce({ hosts: server.connectString, timeoutMs: 5000 });
    try {
      const e = await zkRejection(stranger.set(`${r}/mine`, "evil"));
      expect([e.zkCode, e.exitCode]).toEqual(["NO_AUTH", 1]);
    } finally {
      await stranger.close();
    }
  });

  test(
    "a dead server in the list is skipped; an unreachable address rejects within the timeout with the full client's message (exit 3)",
    async () => {
      const dead = `127.0.0.1:${freePort()}`;
      for (let i = 0; i < 4; i++) {
        const c = await connectOnce({ hosts: `${dead},${server.connectString}`, timeoutMs: 5000 });
        expect(await c.exists("/")).toBe(true);
        await c.close();
      }
      const e = await zkRejection(connectOnce({ hosts: dead, timeoutMs: 800 }));
      expect(e.exitCode).toBe(3);
      expect(isZkConnectionError(e)).toBe(true);
      expect(e.message).toBe(`cannot reach ZooKeeper at ${dead} within 800 ms: is it running? set --zk HOSTS or POP_ZK`);
    },
    SLOW,
  );

  test(
    "pipelined: reads issued before the handshake ride on it (also behind auth, and sent again to the next server after a dead one); writes wait for the session; no server: every request rejects with the connect error",
    async () => {
      const r = await root();
      await zk.create(`${r}/n`, "v");
      const dead = `127.0.0.1:${freePort()}`;
      for (const auth of [undefined, "ops:s3cret"]) {
        for (let i = 0; i < 3; i++) {
          const c = await connectOnce({ hosts: `${dead},${server.connectString}`, timeoutMs: 5000, ...(auth ? { auth } : {}) }, { pipeline: true });
          const [a, b, missing] = await Promise.all([c.get(`${r}/n`), c.exists(`${r}/n`), c.get(`${r}/none`)]);
          expect([a, b, missing]).toEqual([{ data: "v", version: 0 }, true, undefined]);
          await c.create(`${r}/p${auth ? "a" : ""}${i}`, "x");
          await c.close();
        }
      }
      expect(await zk.exists(`${r}/pa2`)).toBe(true);
      const gone = await connectOnce({ hosts: dead, timeoutMs: 600 }, { pipeline: true });
      const reads = await Promise.allSettled([gone.get("/"), gone.exists("/"), gone.set("/", "x")]);
      for (const s of reads) {
        expect(s.status).toBe("rejected");
        const e = (s as PromiseRejectedResult).reason as ZooKeeperError;
        expect([e.exitCode, e.message]).toEqual([3, `cannot reach ZooKeeper at ${dead} within 600 ms: is it running? set --zk HOSTS or POP_ZK`]);
      }
      await gone.close();
    },
    SLOW,
  );

  test("connect strings: servers, default port, chroot; a malformed one says what is wrong", async () => {
    expect(parseHosts("a:1,b/pop/x")).toEqual({
      servers: [
        { host: "a", port: 1 },
        { host: "b", port: 2181 },
      ],
      chroot: "/pop/x",
    });
    expect(parseHosts("[::1]:2182/")).toEqual({ servers: [{ host: "::1", port: 2182 }], chroot: "" });
    expect(parseHosts("a:1,,b")).toBe(`empty server in "a:1,,b"`);
    expect(parseHosts("a:99999")).toBe(`bad server "a:99999"`);
    const e = await zkRejection(connectOnce({ hosts: "a:1/x/" }));
    expect([e.zkCode, e.message]).toEqual([
      "BAD_ARGUMENTS",
      `bad ZooKeeper address "a:1/x/": expected HOST:PORT[,HOST:PORT...][/chroot] (--zk or POP_ZK): bad chroot "/x/"`,
    ]);
  });
});

describe("pop deploy through it", () => {
  test(
    "deploy and undeploy under a chroot and with a dead server listed first; an unreachable ZooKeeper is exit 3 naming it",
    async () => {
      const r = await root();
      const dead = `127.0.0.1:${freePort()}`;
      const hosts = `${dead},${server.connectString}${r}`;
      const flags = ["--zk", hosts, "--root", "/pop", "--machine-id", "m1"];
      const cwd = tmp();
      expect((await pop(["init", ...flags], { cwd })).code).toBe(0);
      expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", ...flags], { cwd })).code).toBe(0);
      expect(await pop(["deploy", "web", ...flags], { cwd })).toEqual({ code: 0, stdout: "deployed web to m1\n", stderr: "" });
      expect(JSON.parse((await zk.get(`${r}/pop/services/web/machines`))!.data)).toEqual(["m1"]);
      expect(await pop(["deploy", "web", "m2", ...flags], { cwd })).toEqual({ code: 0, stdout: "deployed web to m2\n", stderr: "" });
      expect(await pop(["undeploy", "web", ...flags], { cwd })).toEqual({ code: 0, stdout: "undeployed web from m1\n", stderr: "" });
      expect(JSON.parse((await zk.get(`${r}/pop/services/web/machines`))!.data)).toEqual(["m2"]);
      const gone = await pop(["deploy", "web", "--zk", dead, "--zk-timeout", "800", "--machine-id", "m1"], { cwd });
      expect(gone).toEqual({
        code: 3,
        stdout: "",
        stderr: `pop: cannot reach ZooKeeper at ${dead} within 800 ms: is it running? set --zk HOSTS or POP_ZK\n`,
      });
    },
    SLOW,
  );
});
