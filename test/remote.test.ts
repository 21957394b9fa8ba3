// Remote subs: hub.calc.math.fn(...) answered by a `pop serve --sub calc` in another process, the same results and
// errors as the merged app. In-process hubs (remoteSub) and through the binary (pop call --remote).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ConfigError, ContractError, RefError, RemoteError, TimeoutError, UsageError } from "../src/errors.ts";
import { closeHub, type Hub, inspectHub, loadHub } from "../src/hub/index.ts";
import { addMonitor } from "../src/hub/_trace.ts";
import { callRemote, remoteFailure, remoteSub } from "../src/remote/index.ts";
import { pop } from "./helpers.ts";
import { CALC, FRONT, post, serve } from "./fixtures/serve/_harness.ts";

const T = 30_000;
const quiet = { env: {}, cwd: process.cwd(), packages: false, warn: () => {} };

async function hubOf(plugins: string[]): Promise<Hub> {
  return loadHub({ ...quiet, plugins });
}

const fibCalls = async (url: string) => Number(/pop_serve_calls_total\{ref="math.fib"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())![1]);

describe("remote subs, in-process", () => {
  test(
    "an app split across two processes gives the same results as merged",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const merged = await hubOf([CALC, FRONT]);
      const split = await hubOf([FRONT]);
      expect(split.calc).toBeUndefined();
      await remoteSub(split, "calc", { url: calc.url, source: "test" });
      try {
        const args = { items: [1, 2, 3.5], num: 9 };
        expect(await split.front.shop.total(args)).toEqual(await merged.front.shop.total(args));
        expect(await split.front.shop.total(args)).toEqual({ sum: 6.5, fee: 34 });
        expect(await split.front.shop.broken()).toBe(await merged.front.shop.broken());
        expect(await split.front.shop.broken()).toBe("TypeError: boom: the input was bad");
        expect(await split.calc.math.nothing()).toBeUndefined();
        expect(await fibCalls(calc.url)).toBe(2); // the split hub's fib calls went to the server
        // A remote sub is a sub like any other: pop tree lists its functions with their parameters and docs.
        const view = inspectHub(split).subs.find((s) => s.name === "calc")!;
        const add = view.modules.find((m) => m.name === "math")!.functions.find((f) => f.name === "add")!;
        expect({ params: add.params, doc: add.doc }).toEqual({ params: "a: number, b: number", doc: "a + b, two positional arguments." });
      } finally {
        await closeHub(merged);
        await closeHub(split);
      }
    },
    T,
  );

  test(
    "remote calls are seen by the hub's call monitor",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const hub = await hubOf([]);
      await remoteSub(hub, "calc", { url: calc.url, source: "test" });
      const seen: string[] = [];
      const undo = addMonitor(hub, { after: (c) => seen.push(`${c.ref} ${c.outcome}`) });
      await hub.calc.math.fib({ num: 3 });
      await hub.calc.math.fail().catch(() => {});
      undo();
      expect(seen).toEqual(["calc.math.fib ok", "calc.math.fail error"]);
      await closeHub(hub);
    },
    T,
  );

  test(
    "errors: remote 400 a ContractError, 500 the function's error, 404 a RefError, 504 and a slow answer a TimeoutError",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc", "--timeout", "20000"]);
      const hub = await hubOf([]);
      await remoteSub(hub, "calc", { url: calc.url, source: "test" });
      const invalid = await hub.calc.math.square({ n: 0.5 }).catch((e: any) => e);
      expect(invalid).toBeInstanceOf(ContractError);
      expect(invalid.field).toBe("n");
      expect(invalid.message).toStartWith('Invalid argument "n" for "calc.math.square"');
      const threw = await hub.calc.math.fail().catch((e: any) => e);
      expect([threw.name, threw.message, threw.remote]).toEqual(["TypeError", "boom: the input was bad", calc.url]);
      const conn = { name: "calc", url: calc.url };
      const missing: any = await callRemote(conn, "math.nope", []).catch((e: any) => e);
      expect(missing).toBeInstanceOf(RefError);
      expect(missing.message).toBe(`no function "math.nope" in sub "calc"; GET /refs lists the functions served (remote sub "calc" at ${calc.url})`);
      const big: any = await callRemote(conn, "math.big", []).catch((e: any) => e);
      expect(big.message).toContain("cannot be sent as JSON");
      const unsendable = await hub.calc.math.add(1n, 2).catch((e: any) => e);
      expect(unsendable).toBeInstanceOf(UsageError);
      expect(unsendable.message).toStartWith('the arguments of "calc.math.add" cannot be sent to remote sub "calc"');
      // The client's own timeout: the held call never answers in time.
      const slow: any = await callRemote({ ...conn, timeout: 200 }, "math.hold", [], "calc.math.hold").catch((e: any) => e);
      expect(slow).toBeInstanceOf(TimeoutError);
      expect(slow.message).toBe(
        `call "calc.math.hold" timed out after 200 ms; its result is abandoned (remote sub "calc" at ${calc.url}; raise the limit with --timeout MS, or 0 for none)`,
      );
      calc.proc.kill("SIGUSR2");
      await closeHub(hub);
    },
    T,
  );

  test(
    "the server's --timeout answers 504, a TimeoutError on this side",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc", "--timeout", "100"]);
      const direct = await post(calc.url, { ref: "math.hold" });
      expect(direct.status).toBe(504);
      expect(direct.json.error).toMatchObject({ code: "POP_TIMEOUT", name: "TimeoutError" });
      const hub = await hubOf([]);
      await remoteSub(hub, "calc", { url: calc.url, source: "test" });
      const e = await hub.calc.math.hold().catch((x: any) => x);
      expect(e).toBeInstanceOf(TimeoutError);
      expect(e.message).toContain('"calc.math.hold"');
      expect(e.message).toContain("100 ms");
      await closeHub(hub);
    },
    T,
  );

  test(
    "a token: sent from the options, refused without it",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc", "--token", "t0ken"]);
      const hub = await hubOf([]);
      const refused = await remoteSub(hub, "calc", { url: calc.url, source: "--remote calc" }).catch((e: any) => e);
      expect(refused).toBeInstanceOf(ConfigError);
      expect(refused.message).toBe(`remote sub "calc" at ${calc.url} refused the call (401): set the token it expects in POP_TOKEN`);
      expect(hub.calc).toBeUndefined(); // nothing half-added
      await remoteSub(hub, "calc", { url: calc.url, source: "--remote calc", token: "t0ken" });
      expect(await hub.calc.math.fib({ num: 11 })).toBe(89);
      await closeHub(hub);
    },
    T,
  );

  test(
    "a server of every sub (no --sub) serves a remote sub too",
    async () => {
      await using all = await serve(["--plugins", CALC]);
      const hub = await hubOf([]);
      await remoteSub(hub, "calc", { url: `${all.url}/`, source: "test" });
      expect(await hub.calc.math.add(40, 2)).toBe(42);
      await closeHub(hub);
    },
    T,
  );

  test("nothing listening: a RemoteError naming the URL and the fix; a local sub of that name is refused", async () => {
    const probe = Bun.serve({ port: 0, fetch: () => new Response("") });
    const url = `http://127.0.0.1:${probe.port}`;
    probe.stop(true);
    const hub = await hubOf([CALC]);
    const e = await remoteSub(hub, "other", { url, source: "test" }).catch((x: any) => x);
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.message).toBe(
      `cannot reach remote sub "other" at ${url} (connection refused); start "pop serve --sub other" there, or fix the URL given to --remote`,
    );
    const clash = await remoteSub(hub, "calc", { url, source: "--remote calc=x" }).catch((x: any) => x);
    expect(clash).toBeInstanceOf(UsageError);
    expect(clash.message).toStartWith('--remote calc=x: sub "calc" is already on the hub');
    await closeHub(hub);
  });

  test("a server that is not a pop serve: a RemoteError saying so", async () => {
    const other = Bun.serve({ port: 0, fetch: () => new Response("<html>hello</html>") });
    try {
      const hub = await hubOf([]);
      const e = await remoteSub(hub, "calc", { url: `http://127.0.0.1:${other.port}`, source: "test" }).catch((x: any) => x);
      expect(e).toBeInstanceOf(RemoteError);
      expect(e.message).toContain("a body that is not JSON");
      await closeHub(hub);
    } finally {
      other.stop(true);
    }
  });
});

describe("remote subs through the binary", () => {
  test(
    "pop call --remote calc=URL gives what the merged app gives, computed by the server",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const args = ["--args", '[{"items": [1, 2, 3.5], "num": 9}]', "--plugins", CALC, "--plugins", FRONT, "--json"];
      // The merged app's calc module runs its __shutdown__ (a line on stderr) in this process; the split one's runs on the server.
      const call = async (a: string[]) => {
        const r = await pop(a);
        return { ...r, stderr: r.stderr.replace("calc.math shut down\n", "") };
      };
      const merged = await call(["call", "front.shop.total", ...args]);
      const split = await call(["call", "front.shop.total", ...args, "--remote", `calc=${calc.url}`]);
      expect(merged).toEqual({ code: 0, stdout: '{\n  "sum": 6.5,\n  "fee": 34\n}\n', stderr: "" });
      expect(split).toEqual(merged);
      expect(await fibCalls(calc.url)).toBe(1);
      const failMerged = await call(["call", "calc.math.fail", "--plugins", CALC]);
      const failSplit = await call(["call", "calc.math.fail", "--plugins", CALC, "--remote", `calc=${calc.url}`]);
      // The merged app names the plugin's line; the server's line stays on the server.
      expect(failMerged.stderr).toStartWith("pop: test/fixtures/serve/calc-root/calc/math.ts:22:13: ");
      expect(failSplit).toEqual({ ...failMerged, stderr: failMerged.stderr.replace(/^pop: \S+:\d+:\d+: /, "pop: ") });
      expect(failSplit.code).toBe(1);
      expect(failSplit.stderr).toContain('"calc.math.fail" failed: boom: the input was bad');
    },
    T,
  );

  test(
    "three services: a caller of two remote subs, one of which calls the third, answers as the merged app",
    async () => {
      const DUO = join(import.meta.dir, "fixtures/serve/duo-root");
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      await using front = await serve(["--plugins", FRONT, "--sub", "front", "--remote", `calc=${calc.url}`]);
      const merged = await pop(["call", "duo.both.both", "--plugins", CALC, "--plugins", FRONT, "--plugins", DUO, "--json"]);
      const split = await pop(["call", "duo.both.both", "--plugins", DUO, "--remote", `calc=${calc.url}`, "--remote", `front=${front.url}`, "--json"]);
      expect(merged.code).toBe(0);
      expect(JSON.parse(merged.stdout)).toEqual({ square: 81, total: { sum: 3, fee: 34 }, broken: "TypeError: boom: the input was bad" });
      expect({ ...split, stderr: "" }).toEqual({ ...merged, stderr: "" }); // the merged app's calc prints its __shutdown__ line here
      expect(split.stderr).toBe("");
      expect(await fibCalls(calc.url)).toBe(1); // front's fee, asked by the front server of the calc server
    },
    T,
  );

  test(
    "pop call --timeout on a remote sub: the in-process timeout's words and code plus the server's URL, exit 1",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const args = ["call", "calc.math.hold", "--remote", `calc=${calc.url}`, "--timeout", "100"];
      expect(await pop(args)).toEqual({
        code: 1,
        stdout: "",
        stderr: `pop: call "calc.math.hold" timed out after 100 ms; its result is abandoned (remote sub "calc" at ${calc.url}; raise the limit with --timeout MS, or 0 for none)\n`,
      });
      const json = await pop(args, { env: { POP_LOG_FORMAT: "json" } });
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stderr)).toMatchObject({ level: "error", code: "POP_TIMEOUT", exitCode: 1 });
      calc.proc.kill("SIGUSR2");
    },
    T,
  );

  test(
    "an isolated sub calling into a remote sub on the same hub: the isolated side's call goes to the host, then to the server",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const args = ["front.shop.total", "--args", '[{"items": [1, 2, 3.5], "num": 9}]', "--plugins", FRONT, "--remote", `calc=${calc.url}`, "--json"];
      for (const mode of ["worker", "process"])
        expect(await pop(["call", ...args, "--isolate", `front=${mode}`])).toEqual({ code: 0, stdout: '{\n  "sum": 6.5,\n  "fee": 34\n}\n', stderr: "" });
      expect(await fibCalls(calc.url)).toBe(2);
      const tree = await pop(["tree", "--plugins", FRONT, "--remote", `calc=${calc.url}`, "--isolate", "front=process"]);
      expect(tree.stdout).toContain(`\ncalc  remote ${calc.url}\n`);
      expect(tree.stdout).toContain("\nfront  isolated (process): test/fixtures/serve/front-root/front\n");
    },
    T,
  );

  test(
    "a --remote URL whose server serves another sub is refused naming both, not mounted under the wrong name",
    async () => {
      await using front = await serve(["--plugins", CALC, "--plugins", FRONT, "--sub", "front"]);
      for (const cmd of [["call", "calc.math.fib"], ["tree"]])
        expect(await pop([...cmd, "--remote", `calc=${front.url}`])).toEqual({
          code: 2,
          stdout: "",
          stderr: `pop: --remote calc=${front.url}: ${front.url} serves sub "front", not "calc"; point it at a "pop serve --sub calc" (or at one serving every sub)\n`,
        });
    },
    T,
  );

  test(
    "a --remote URL whose server of every sub has no such sub is refused naming what it serves (even without --strict)",
    async () => {
      await using all = await serve(["--plugins", CALC, "--plugins", FRONT]);
      expect(await pop(["tree", "--remote", `zzz=${all.url}`])).toEqual({
        code: 2,
        stdout: "",
        stderr: `pop: --remote zzz=${all.url}: ${all.url} serves no sub "zzz" (it serves calc, front); point it at a pop serve whose roots hold "zzz", or name one of those\n`,
      });
    },
    T,
  );

  test(
    "an app split across two pop serve processes answers as the merged one does",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      await using merged = await serve(["--plugins", CALC, "--plugins", FRONT, "--sub", "front"]);
      await using split = await serve(["--plugins", CALC, "--plugins", FRONT, "--sub", "front", "--remote", `calc=${calc.url}`]);
      for (const body of [{ ref: "shop.total", kwargs: { items: [1, 2, 3.5], num: 9 } }, { ref: "shop.total" }, { ref: "shop.broken" }, { ref: "shop.nope" }]) {
        const [m, s] = [await post(merged.url, body), await post(split.url, body)];
        expect({ status: s.status, json: s.json }).toEqual({ status: m.status, json: m.json });
      }
      expect((await post(split.url, { ref: "shop.total", kwargs: { items: [1, 2, 3.5], num: 9 } })).json).toEqual({
        ref: "shop.total",
        result: { sum: 6.5, fee: 34 },
      });
      expect(await fibCalls(calc.url)).toBe(3); // the split front's fib calls were answered by the calc server
    },
    T,
  );
});

describe("remote answers mapped to errors", () => {
  const conn = { name: "calc", url: "http://10.0.0.5:8888" };
  test("413, 503 and other statuses; a PopError's code is kept on the function's error", () => {
    const tooBig = remoteFailure(conn, "calc.math.fib", 413, { code: "POP_USAGE", name: "UsageError", message: "request body of 9 bytes is over the limit" });
    expect(tooBig).toBeInstanceOf(UsageError);
    expect(tooBig.message).toBe(
      'the arguments of "calc.math.fib" are too large for remote sub "calc" at http://10.0.0.5:8888: request body of 9 bytes is over the limit',
    );
    const draining = remoteFailure(conn, "calc.math.fib", 503, { code: "POP_USAGE", name: "UsageError", message: "the server is shutting down" });
    expect(draining).toBeInstanceOf(RemoteError);
    expect(draining.message).toBe('remote sub "calc" at http://10.0.0.5:8888 is shutting down and took no new call: the server is shutting down');
    const threw = remoteFailure(conn, "calc.math.fib", 500, { code: "POP_CONFIG", name: "ConfigError", message: "bad value" }) as Error & { code?: string };
    expect([threw.name, threw.message, threw.code]).toEqual(["ConfigError", "bad value", "POP_CONFIG"]);
    const odd = remoteFailure(conn, "calc.math.fib", 502, undefined);
    expect(odd).toBeInstanceOf(RemoteError);
    expect(odd.message).toBe('remote sub "calc" at http://10.0.0.5:8888 answered status 502: status 502 without an error');
  });
});
