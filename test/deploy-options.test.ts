// Where pop deploy and undeploy take their ZooKeeper servers, root and credentials from (a pop.config.json, POP_ZK,
// POP_ROOT, --root, POP_ZK_AUTH: the config integrator's precedence), and that an option refused before any write
// (exit 2) leaves no session behind on the server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Zk } from "../src/deploy/_types.ts";
import { pop, tmp } from "./helpers.ts";
import { sessionCount, startWithClient, stopWithClient, type ZkCluster } from "./_zk.ts";

const SLOW = 60_000;
let server: ZkCluster;
let zk: Zk;
let n = 0;
/** A chroot of its own for each test. */
const chroot = async () => {
  const path = `/e${++n}`;
  await zk.create(path);
  return path;
};
const targets = async (path: string) => JSON.parse((await zk.get(path))!.data) as string[];

beforeAll(async () => void ({ server, zk } = await startWithClient()), SLOW);
afterAll(() => stopWithClient(server, zk));

describe("pop deploy and undeploy: where the servers, root and credentials come from", () => {
  test(
    "a root from pop.config.json: the deploy reads and writes that root, not the default /pop",
    async () => {
      const r = await chroot();
      const hosts = `${server.connectString}${r}`;
      const cwd = tmp();
      for (const root of ["/pop", "/other"]) {
        expect((await pop(["init", "--zk", hosts, "--root", root], { cwd })).code).toBe(0);
        expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", "--zk", hosts, "--root", root], { cwd })).code).toBe(0);
      }
      writeFileSync(join(cwd, "pop.config.json"), JSON.stringify({ root: "/other" }));
      expect(await pop(["deploy", "web", "m1", "--zk", hosts], { cwd })).toEqual({ code: 0, stdout: "deployed web to m1\n", stderr: "" });
      expect(await targets(`${r}/other/services/web/machines`)).toEqual(["m1"]);
      expect(await targets(`${r}/pop/services/web/machines`)).toEqual([]);
      // POP_ROOT outranks the file, --root outranks both.
      expect((await pop(["deploy", "web", "m2", "--zk", hosts], { cwd, env: { POP_ROOT: "/pop" } })).code).toBe(0);
      expect(await targets(`${r}/pop/services/web/machines`)).toEqual(["m2"]);
      expect((await pop(["undeploy", "web", "m2", "--zk", hosts, "--root", "/pop"], { cwd, env: { POP_ROOT: "/other" } })).code).toBe(0);
      expect(await targets(`${r}/pop/services/web/machines`)).toEqual([]);
      expect(await targets(`${r}/other/services/web/machines`)).toEqual(["m1"]);
    },
    SLOW,
  );

  test(
    "the servers from POP_ZK, over a pop.config.json naming a dead one; without --zk or POP_ZK the file's servers are used",
    async () => {
      const r = await chroot();
      const hosts = `${server.connectString}${r}`;
      const cwd = tmp();
      expect((await pop(["init", "--zk", hosts], { cwd })).code).toBe(0);
      expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", "--zk", hosts], { cwd })).code).toBe(0);
      writeFileSync(join(cwd, "pop.config.json"), JSON.stringify({ zk: "127.0.0.1:1", zk_timeout: 300 }));
      expect(await pop(["deploy", "web", "m1"], { cwd, env: { POP_ZK: hosts } })).toEqual({ code: 0, stdout: "deployed web to m1\n", stderr: "" });
      const dead = await pop(["deploy", "web", "m2"], { cwd, env: { POP_ZK: undefined } });
      expect([dead.code, dead.stderr]).toEqual([3, expect.stringContaining("cannot reach ZooKeeper at 127.0.0.1:1 within 300 ms")]);
      expect(await targets(`${r}/pop/services/web/machines`)).toEqual(["m1"]);
    },
    SLOW,
  );

  test(
    "a refused option (exit 2, nothing written): the server holds no session of it afterwards",
    async () => {
      const r = await chroot();
      const hosts = `${server.connectString}${r}`;
      const cwd = tmp();
      expect((await pop(["init", "--zk", hosts], { cwd })).code).toBe(0);
      expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", "--zk", hosts], { cwd })).code).toBe(0);
      const before = await sessionCount(server);
      const bad = await pop(["deploy", "web", "m1", "--zk", hosts, "--zk-timeout", "soon"], { cwd });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('"soon" is not a number');
      const badRoot = await pop(["deploy", "web", "m1", "--zk", hosts, "--root", "pop/"], { cwd });
      expect([badRoot.code, badRoot.stderr]).toEqual([2, expect.stringContaining("is not a ZooKeeper path like /pop")]);
      const badId = await pop(["undeploy", "web", "--zk", hosts, "--machine-id", "no/slash"], { cwd });
      expect([badId.code, badId.stderr]).toEqual([2, expect.stringContaining("is not a name ZooKeeper paths can hold")]);
      expect(await sessionCount(server)).toBe(before);
      expect(await targets(`${r}/pop/services/web/machines`)).toEqual([]);
    },
    SLOW,
  );

  test(
    "credentials from the environment: a digest-protected list is changed with them, refused without",
    async () => {
      const r = await chroot();
      const hosts = `${server.connectString}${r}`;
      const cwd = tmp();
      const auth = { POP_ZK_AUTH: "ops:right" };
      expect((await pop(["init", "--zk", hosts], { cwd, env: auth })).code).toBe(0);
      expect((await pop(["add", "process", "--name", "web", "--set", "command=sleep 60", "--zk", hosts], { cwd, env: auth })).code).toBe(0);
      expect((await pop(["deploy", "web", "m1", "--zk", hosts], { cwd, env: auth })).code).toBe(0);
      const without = await pop(["deploy", "web", "m2", "--zk", hosts], { cwd });
      expect([without.code, without.stderr]).toEqual([1, expect.stringContaining("(NO_AUTH)")]);
      expect(await targets(`${r}/pop/services/web/machines`)).toEqual(["m1"]);
    },
    SLOW,
  );
});

describe("bad ZooKeeper options are usage errors (exit 2) naming the option, before any connection", () => {
  for (const [flags, says] of [
    [
      ["--zk", "127.0.0.1:abc"],
      'ZooKeeper address "127.0.0.1:abc" (--zk or POP_ZK): "127.0.0.1:abc" has no port from 1 to 65535; expected HOST:PORT[,HOST:PORT...][/chroot], e.g. 127.0.0.1:2181',
    ],
    [["--zk", ""], 'ZooKeeper address "" (--zk or POP_ZK): no host given; expected HOST:PORT[,HOST:PORT...][/chroot], e.g. 127.0.0.1:2181'],
    [["--zk", ":2181"], 'ZooKeeper address ":2181" (--zk or POP_ZK): ":2181" has no host; expected HOST:PORT[,HOST:PORT...][/chroot], e.g. 127.0.0.1:2181'],
    [["--zk-timeout", "0"], "--zk-timeout 0 (or POP_ZK_TIMEOUT) must be more than 0 milliseconds, e.g. 5000"],
  ] as const)
    test(`pop status ${flags.join(" ")}`, async () => {
      expect(await pop(["status", ...flags])).toEqual({ code: 2, stdout: "", stderr: `pop: ${says}\n` });
    });
});
