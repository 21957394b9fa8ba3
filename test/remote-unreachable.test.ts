// A remote sub whose server is down, or accepts connections and never answers: a load failure of that sub only.
// Calls that never reach it run; a call into it fails naming the URL; pop tree lists it as failed; --strict stops.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PluginLoadError, RemoteError, TimeoutError, UsageError } from "../src/errors.ts";
import { closeHub, hubFailures, loadHub } from "../src/hub/index.ts";
import { remoteSub } from "../src/remote/index.ts";
import { pop, tmp } from "./helpers.ts";

const ENV = { POP_TOKEN: undefined, POP_LOAD_TIMEOUT: undefined };

/** A root with one sub that has nothing to do with calc. */
function otherRoot(): string {
  const dir = tmp("pop-unreach-");
  mkdirSync(join(dir, "other"));
  writeFileSync(join(dir, "other/m.ts"), 'export function hi(hub: any) {\n  return "hi";\n}\n');
  return dir;
}

/** A URL nothing listens on (a port just freed). */
function refusedUrl(): string {
  const probe = Bun.serve({ port: 0, fetch: () => new Response("") });
  const url = `http://127.0.0.1:${probe.port}`;
  probe.stop(true);
  return url;
}

const refused = (url: string) =>
  `cannot reach remote sub "calc" at ${url} (connection refused); start "pop serve --sub calc" there, or fix the URL given to --remote`;
const warning = (why: string) =>
  `pop: warning: ${why}; calls into sub "calc" fail until pop is started again with its server up (under --watch: until the server answers)\n`;

describe("a remote sub whose server is down", () => {
  const root = otherRoot();
  const url = refusedUrl();
  const remote = ["--plugins", root, "--remote", `calc=${url}`];

  test("a call that never reaches it runs, with one warning naming the URL", async () => {
    const r = await pop(["call", "other.m.hi", ...remote], { env: ENV });
    expect(r).toEqual({ code: 0, stdout: "hi\n", stderr: warning(refused(url)) });
  });

  test("a call into it fails with the error naming the URL, as a sub that failed to load", async () => {
    const r = await pop(["call", "calc.math.add", "a=1", "b=2", ...remote], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    // Once: the error says what the warning would (its first clause), so the warning is not printed too.
    expect(r.stderr).toBe(`pop: ${url}: module "calc.math" not loaded: ${refused(url)}\n`);
  });

  test("pop tree lists it as failed, with the reason", async () => {
    const text = await pop(["tree", ...remote], { env: ENV });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`\ncalc  remote ${url}\n  ✗ *  ${url}  not loaded (failed): ${refused(url)}\n`);
    expect(text.stdout).toContain("\nother  ");
    const json = await pop(["tree", ...remote, "--json"], { env: ENV });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).failures).toEqual([{ ref: "calc.*", file: url, reason: refused(url) }]);
  });

  test("--strict makes it fatal, with the same message", async () => {
    const r = await pop(["call", "other.m.hi", ...remote, "--strict"], { env: ENV });
    expect(r).toEqual({ code: 1, stdout: "", stderr: `pop: ${refused(url)}\n` });
  });

  test("a plugin reaching into it gets the error; the hub's own API adding it explicitly still throws", async () => {
    const hub = await loadHub({ env: {}, cwd: process.cwd(), packages: false, warn: () => {}, plugins: [root], remote: { calc: { url, source: "test" } } });
    try {
      expect(hub.other.m.hi()).toBe("hi");
      let thrown: unknown;
      try {
        hub.calc.math.add(1, 2);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(PluginLoadError);
      expect((thrown as Error).message).toBe(`${url}: module "calc.math" not loaded: ${refused(url)}`);
      expect((thrown as Error).cause).toBeInstanceOf(RemoteError);
      expect(await hub.pop.sub.add({ dyneName: "calc" })).toBe(hub.calc); // awaiting the sub probes "then": no failure
      expect(hubFailures(hub).map((f) => f.ref)).toEqual(["calc.*"]);
      const direct = await remoteSub(hub, "again", { url, source: "test" }).catch((e: unknown) => e);
      expect(direct).toBeInstanceOf(RemoteError);
    } finally {
      await closeHub(hub);
    }
  });
});

describe("a remote sub whose server accepts and never answers", () => {
  let hole: { port: number; stop(closeActive?: boolean): void };
  let url = "";
  const root = otherRoot();
  beforeAll(() => {
    hole = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    url = `http://127.0.0.1:${hole.port}`;
  });
  afterAll(() => hole.stop(true));
  const late = (ms: number) =>
    `remote sub "calc" at ${url} did not answer GET /refs within ${ms} ms (--load-timeout); check that "pop serve --sub calc" runs there and answers, or raise --load-timeout`;

  test("its function list is bounded by --load-timeout: the call that does not need it runs", async () => {
    const r = await pop(["call", "other.m.hi", "--plugins", root, "--remote", `calc=${url}`, "--load-timeout", "300"], { env: ENV });
    expect(r).toEqual({ code: 0, stdout: "hi\n", stderr: warning(late(300)) });
  }, 20_000);

  test("POP_LOAD_TIMEOUT bounds it too; a call into it fails with the timeout", async () => {
    const r = await pop(["call", "calc.math.add", "a=1", "b=2", "--plugins", root, "--remote", `calc=${url}`], { env: { ...ENV, POP_LOAD_TIMEOUT: "200" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`pop: ${url}: module "calc.math" not loaded: ${late(200)}\n`);
  }, 20_000);

  test("in-process: a TimeoutError from remoteSub with the hub's load timeout", async () => {
    const hub = await loadHub({ env: {}, cwd: process.cwd(), packages: false, warn: () => {}, plugins: [], loadTimeout: 150 });
    try {
      const e = await remoteSub(hub, "calc", { url, source: "test" }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TimeoutError);
      expect((e as Error).message).toBe(late(150));
      expect(hub.calc).toBeUndefined(); // nothing half-added
    } finally {
      await closeHub(hub);
    }
  }, 20_000);
});

describe("a --remote URL with a query or a fragment", () => {
  test("is refused before anything runs: the calls would go to URL?query/refs", async () => {
    const root = otherRoot();
    for (const bad of ["http://127.0.0.1:8888?x=1", "http://127.0.0.1:8888/#top"]) {
      const r = await pop(["call", "other.m.hi", "--plugins", root, "--remote", `calc=${bad}`], { env: ENV });
      expect(r).toEqual({
        code: 2,
        stdout: "",
        stderr: `pop: --remote calc=${bad}: "${bad}" has a query or a fragment (?... or #...); give the pop serve's address alone, e.g. http://127.0.0.1:8888\n`,
      });
    }
    const hub = await loadHub({ env: {}, cwd: process.cwd(), packages: false, warn: () => {}, plugins: [] });
    const e = await remoteSub(hub, "calc", { url: "http://h:1/api?k=v", source: "pop.json" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toBe(
      'pop.json: "http://h:1/api?k=v" has a query or a fragment (?... or #...); give the pop serve\'s address alone, e.g. http://h:1/api',
    );
    await closeHub(hub);
  });
});
