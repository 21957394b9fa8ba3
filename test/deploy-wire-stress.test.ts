// ZooKeeper sessions (the one-shot one of src/deploy/_zkwire.ts, and the full client where noted) under what a real
// server does: concurrent deploys of one service (compare-and-set, no lost update), a server that takes the connection
// and never answers (or answers not as ZooKeeper), a member frozen in an ensemble, large and non-ASCII data framed over
// many TCP reads, a wrong digest password, the session ended on exit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ZooKeeperError } from "../src/errors.ts";
import { connectOnce } from "../src/deploy/_zkwire.ts";
import type { Zk } from "../src/deploy/_types.ts";
import { pop, tmp } from "./helpers.ts";
import { sessionCount, startEnsemble, startWithClient, stopWithClient, type ZkCluster } from "./_zk.ts";

const SLOW = 60_000;
let server: ZkCluster;
let zk: Zk & AsyncDisposable;
let n = 0;
const root = async () => {
  const path = `/s${++n}`;
  await zk.create(path);
  return path;
};
/** A TCP server that accepts connections and never writes a byte. */
function silent() {
  return Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
}

beforeAll(async () => void ({ server, zk } = await startWithClient()), SLOW);
afterAll(() => stopWithClient(server, zk));

describe("one-shot session under stress", () => {
  test(
    "concurrent pop deploys of one service to different machines: every machine ends up in the list",
    async () => {
      const r = await root();
      const flags = ["--zk", `${server.connectString}${r}`, "--root", "/pop"];
      const cwd = tmp();
      expect((await pop(["init", ...flags], { cwd })).code).toBe(0);
      expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", ...flags], { cwd })).code).toBe(0);
      const ids = Array.from({ length: 8 }, (_, i) => `m${i}`);
      const runs = await Promise.all(ids.map((id) => pop(["deploy", "web", id, ...flags], { cwd })));
      for (const [i, run] of runs.entries()) expect(run).toEqual({ code: 0, stdout: `deployed web to m${i}\n`, stderr: "" });
      expect(JSON.parse((await zk.get(`${r}/pop/services/web/machines`))!.data).sort()).toEqual(ids);
      const downs = await Promise.all(ids.slice(0, 4).map((id) => pop(["undeploy", "web", id, ...flags], { cwd })));
      for (const run of downs) expect(run.code).toBe(0);
      expect(JSON.parse((await zk.get(`${r}/pop/services/web/machines`))!.data).sort()).toEqual(ids.slice(4));
    },
    SLOW,
  );

  test(
    "a server that accepts the connection and never answers: the next server in the list is tried within the timeout, whichever comes first",
    async () => {
      const hole = silent();
      try {
        for (let i = 0; i < 6; i++) {
          const c = await connectOnce({ hosts: `127.0.0.1:${hole.port},${server.connectString}`, timeoutMs: 2000 }, { pipeline: i % 2 === 0 });
          expect(await c.exists("/")).toBe(true);
          expect(await c.create(`/hole${i}`, "", "ephemeral")).toBe(`/hole${i}`);
          await c.close();
        }
      } finally {
        hole.stop(true);
      }
    },
    SLOW,
  );

  test(
    "only a silent server: pop deploy exits 3 within its timeout, naming the server that did not answer",
    async () => {
      const hole = silent();
      try {
        const addr = `127.0.0.1:${hole.port}`;
        const r = await pop(["deploy", "web", "--zk", addr, "--zk-timeout", "600", "--machine-id", "m1"], { cwd: tmp() });
        expect(r.code).toBe(3);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(
          `pop: cannot reach ZooKeeper at ${addr} within 600 ms: ${addr} accepted the connection but never answered; is it a ZooKeeper server? set --zk HOSTS or POP_ZK\n`,
        );
      } finally {
        hole.stop(true);
      }
    },
    SLOW,
  );

  test(
    "a server that answers, but not as ZooKeeper does (an HTTP server): exit 3 naming it and asking whether it is the client port",
    async () => {
      const http = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: { data: (s) => void s.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") },
      });
      try {
        const addr = `127.0.0.1:${http.port}`;
        const r = await pop(["undeploy", "web", "--zk", addr, "--zk-timeout", "600", "--machine-id", "m1"], { cwd: tmp() });
        expect(r).toEqual({
          code: 3,
          stdout: "",
          stderr: `pop: cannot reach ZooKeeper at ${addr} within 600 ms: ${addr} answered, but not as ZooKeeper does; is it ZooKeeper's client port? set --zk HOSTS or POP_ZK\n`,
        });
      } finally {
        http.stop(true);
      }
    },
    SLOW,
  );

  test(
    "a server that goes silent mid-session: each request rejects within the timeout (exit 3, naming the node and the address); close does not hang",
    async () => {
      const c = await connectOnce({ hosts: server.connectString, timeoutMs: 600 });
      server.pause(0);
      try {
        const read = await c.get("/x").catch((e: ZooKeeperError) => e);
        expect(read).toBeInstanceOf(ZooKeeperError);
        expect([(read as ZooKeeperError).exitCode, (read as ZooKeeperError).message]).toEqual([
          3,
          `cannot read "/x": no answer from ZooKeeper at ${server.connectString} within 600 ms`,
        ]);
        const write = await c.set("/x", "v").catch((e: ZooKeeperError) => e);
        expect((write as ZooKeeperError).message).toBe(
          `cannot set "/x": no answer from ZooKeeper at ${server.connectString} within 600 ms (it may still be applied)`,
        );
        await c.close();
      } finally {
        server.resume(0);
      }
      expect(await zk.exists("/")).toBe(true);
    },
    SLOW,
  );

  test("large and non-ASCII data round-trips, framed over many TCP reads", async () => {
    const r = await root();
    const big = "é✓🚀".repeat(60_000) + "x".repeat(300_000); // ~900 KB of UTF-8, under jute.maxbuffer
    const c = await connectOnce({ hosts: server.connectString, timeoutMs: 5000 }, { pipeline: true });
    try {
      await c.create(`${r}/big`, big);
      const got = await c.get(`${r}/big`);
      expect(got?.data.length).toBe(big.length);
      expect(got?.data === big).toBe(true);
      expect(await c.set(`${r}/big`, `${big}ü`, 0)).toBe(1);
      expect((await zk.get(`${r}/big`))!.data === `${big}ü`).toBe(true);
      const [a, b] = await Promise.all([c.get(`${r}/big`), c.get(`${r}/big`)]);
      expect(a?.data === `${big}ü` && b?.data === `${big}ü`).toBe(true);
    } finally {
      await c.close();
    }
  });

  test("data over a node's 1 MB: both clients refuse it before sending (exit 1, naming the node and the size), and the session carries on", async () => {
    const r = await root();
    const huge = "ü".repeat(600_000); // 1.2 MB of UTF-8
    const c = await connectOnce({ hosts: server.connectString, timeoutMs: 5000 });
    try {
      for (const client of [c, zk]) {
        for (const e of [await client.create(`${r}/h`, huge).catch((x: ZooKeeperError) => x), await client.set(r, huge).catch((x: ZooKeeperError) => x)]) {
          expect(e).toBeInstanceOf(ZooKeeperError);
          expect((e as ZooKeeperError).exitCode).toBe(1);
          expect((e as ZooKeeperError).message).toMatch(
            /^cannot (create|set) "\/s\d+(\/h)?": its data is 1200000 bytes, more than the 1048576 a ZooKeeper node holds/,
          );
        }
        expect(await client.exists(r)).toBe(true);
      }
      await expect(zk.transaction([{ op: "create", path: `${r}/t`, data: huge }])).rejects.toMatchObject({ exitCode: 1, zkCode: "BAD_ARGUMENTS" });
    } finally {
      await c.close();
    }
  });

  test("a wrong digest password: pop deploy is exit 1 naming the node and how to fix it", async () => {
    const r = await root();
    const flags = ["--zk", `${server.connectString}${r}`, "--root", "/pop", "--machine-id", "m1"];
    const cwd = tmp();
    expect((await pop(["init", ...flags, "--zk-auth", "ops:right"], { cwd })).code).toBe(0);
    expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", ...flags, "--zk-auth", "ops:right"], { cwd })).code).toBe(0);
    expect((await pop(["deploy", "web", ...flags, "--zk-auth", "ops:right"], { cwd })).code).toBe(0);
    const wrong = await pop(["undeploy", "web", ...flags, "--zk-auth", "ops:wrong"], { cwd });
    expect(wrong).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: cannot set "/pop/services/web/machines": not allowed by the node's ACL: connect with the credentials that created it (--zk-auth) (NO_AUTH)\n`,
    });
  });

  test("pop deploy and undeploy end their session (close request) whether they succeed or fail: the server holds none after them", async () => {
    const r = await root();
    const flags = ["--zk", `${server.connectString}${r}`, "--root", "/pop", "--machine-id", "m1"];
    const cwd = tmp();
    expect((await pop(["init", ...flags], { cwd })).code).toBe(0);
    expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", ...flags], { cwd })).code).toBe(0);
    const before = await sessionCount(server);
    expect((await pop(["deploy", "web", ...flags], { cwd })).code).toBe(0);
    expect(await sessionCount(server)).toBe(before);
    const missing = await pop(["undeploy", "nosuch", ...flags], { cwd });
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('"nosuch"')]);
    expect(await sessionCount(server)).toBe(before);
    const noLayout = await pop(["deploy", "web", "--zk", `${server.connectString}${r}`, "--root", "/elsewhere", "--machine-id", "m1"], { cwd });
    expect([noLayout.code, noLayout.stderr]).toEqual([2, expect.stringContaining('run "pop init" first')]);
    expect(await sessionCount(server)).toBe(before);
  });

  test(
    "three-node ensemble with one member frozen (SIGSTOP: it takes connections, answers nothing): pop deploy still deploys, pop set still sets, every time",
    async () => {
      await using ens = await startEnsemble(3);
      const frozen = ((await ens.leader()) + 1) % 3;
      const flags = ["--zk", `${ens.connectString}`, "--root", "/pop"];
      const cwd = tmp();
      expect((await pop(["init", ...flags], { cwd })).code).toBe(0);
      expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", ...flags], { cwd })).code).toBe(0);
      ens.pause(frozen);
      try {
        for (let i = 0; i < 5; i++)
          expect(await pop(["deploy", "web", `m${i}`, ...flags], { cwd })).toEqual({ code: 0, stdout: `deployed web to m${i}\n`, stderr: "" });
        // the full client (every other command) too
        for (let i = 0; i < 5; i++) {
          const set = await pop(["set", "web", `command=sleep ${i}`, ...flags], { cwd });
          expect([set.code, set.stderr]).toEqual([0, ""]);
        }
      } finally {
        ens.resume(frozen);
      }
      const c = await connectOnce({ hosts: ens.connectString, timeoutMs: 5000 });
      expect(JSON.parse((await c.get("/pop/services/web/machines"))!.data)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
      await c.close();
    },
    SLOW,
  );

  test(
    "a service with big non-ASCII settings (~230 KB): pop add writes them, pop status --json reads them back whole, pop deploy still deploys it",
    async () => {
      const r = await root();
      const flags = ["--zk", `${server.connectString}${r}`, "--root", "/pop", "--machine-id", "m1"];
      const cwd = tmp();
      expect((await pop(["init", ...flags], { cwd })).code).toBe(0);
      // one argument may be at most 128 KB: ~115 KB of command, ~115 KB of environment
      const command = `sleep 60 # ${"é✓🚀".repeat(11_000)}`;
      const env = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`BIG${i}`, `${i}ü`.repeat(9_000)]));
      const add = await pop(["add", "process", "--name", "big", "--set", `command=${command}`, "--set", `env=${JSON.stringify(env)}`, ...flags], { cwd });
      expect([add.code, add.stderr]).toEqual([0, ""]);
      expect(await pop(["deploy", "big", ...flags], { cwd })).toEqual({ code: 0, stdout: "deployed big to m1\n", stderr: "" });
      const status = await pop(["status", "big", "--json", ...flags], { cwd });
      expect([status.code, status.stderr]).toEqual([0, ""]);
      const text = JSON.stringify(JSON.parse(status.stdout));
      expect(text.includes(JSON.stringify(command))).toBe(true);
      expect(text.includes(JSON.stringify(env))).toBe(true);
    },
    SLOW,
  );
});
