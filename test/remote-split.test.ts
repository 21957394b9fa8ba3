// A split machine: the front's plugin root only, calc's code nowhere on this side. --remote (or a conf's REMOTE, a
// manifest's remote) puts calc on the hub from its server alone; an isolated sub still needs a local folder.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pop, tmp } from "./helpers.ts";
import { CALC, FRONT, post, serve } from "./fixtures/serve/_harness.ts";

const T = 30_000;
const ARGS = ["--args", '[{"items": [1, 2, 3.5], "num": 9}]'];
const NO_TOKEN = { POP_TOKEN: undefined };
const fibCalls = async (url: string) => Number(/pop_serve_calls_total\{ref="math.fib"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())![1]);

/** A plugin root holding a copy of the front sub, with `files` (conf.ts, pop.json) next to it. */
function frontRoot(files: Record<string, string>): string {
  const dir = tmp("pop-split-");
  mkdirSync(join(dir, "front"));
  writeFileSync(join(dir, "front/shop.ts"), readFileSync(join(FRONT, "front/shop.ts")));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("a remote sub no local root provides", () => {
  test(
    "pop call --remote calc=URL with only the front root answers as the merged app does",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const merged = await pop(["call", "front.shop.total", ...ARGS, "--plugins", CALC, "--plugins", FRONT, "--json"], { env: NO_TOKEN });
      const split = await pop(["call", "front.shop.total", ...ARGS, "--plugins", FRONT, "--remote", `calc=${calc.url}`, "--json"], { env: NO_TOKEN });
      expect(split).toEqual({ code: 0, stdout: '{\n  "sum": 6.5,\n  "fee": 34\n}\n', stderr: "" });
      expect(merged.stdout).toBe(split.stdout);
      expect(await fibCalls(calc.url)).toBe(1); // computed by the server: this side has no calc code
      // The remote sub itself is callable, and its errors are the function's own.
      const fail = await pop(["call", "calc.math.fail", "--plugins", FRONT, "--remote", `calc=${calc.url}`], { env: NO_TOKEN });
      expect(fail.code).toBe(1);
      expect(fail.stderr).toContain('"calc.math.fail" failed: boom: the input was bad');
      // Without --remote the front alone cannot reach calc: the split really is what made it work.
      const alone = await pop(["call", "front.shop.total", ...ARGS, "--plugins", FRONT], { env: NO_TOKEN });
      expect(alone.code).toBe(1);
    },
    T,
  );

  test(
    "pop serve of the front alone, its calc remote, answers as the merged one does",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      await using merged = await serve(["--plugins", CALC, "--plugins", FRONT, "--sub", "front"]);
      await using split = await serve(["--plugins", FRONT, "--sub", "front", "--remote", `calc=${calc.url}`]);
      for (const body of [{ ref: "shop.total", kwargs: { items: [1, 2, 3.5], num: 9 } }, { ref: "shop.broken" }]) {
        const [m, s] = [await post(merged.url, body), await post(split.url, body)];
        expect({ status: s.status, json: s.json }).toEqual({ status: m.status, json: m.json });
      }
      expect((await post(split.url, { ref: "shop.total", kwargs: { items: [1, 2, 3.5], num: 9 } })).json).toEqual({
        ref: "shop.total",
        result: { sum: 6.5, fee: 34 },
      });
      expect(await fibCalls(calc.url)).toBe(2);
    },
    T,
  );

  test(
    "pop tree --remote lists the remote sub's functions, marked remote",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const text = await pop(["tree", "--plugins", FRONT, "--remote", `calc=${calc.url}`], { env: NO_TOKEN });
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`\ncalc  remote ${calc.url}\n  math  ${calc.url} (remote sub "calc", module math)\n    add(a: number, b: number)  a + b`);
      const json = await pop(["tree", "--plugins", FRONT, "--remote", `calc=${calc.url}`, "--json"], { env: NO_TOKEN });
      const sub = JSON.parse(json.stdout).subs.find((s: { name: string }) => s.name === "calc");
      expect(sub.placed).toBe(`remote ${calc.url}`);
      expect(sub.dirs).toEqual([]);
      expect(sub.modules.map((m: { name: string }) => m.name)).toEqual(["math"]);
      expect(JSON.parse(json.stdout).subs.map((s: { name: string }) => s.name)).toEqual(["pop", "calc", "front"]);
    },
    T,
  );

  test(
    "a conf.ts REMOTE and a manifest's remote place it too, with POP_TOKEN when they give no token",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc", "--token", "s3cret"]);
      const conf = frontRoot({ "conf.ts": `export const REMOTE = { calc: ${JSON.stringify(calc.url)} };\n` });
      const manifest = frontRoot({ "pop.json": JSON.stringify({ name: "front", version: "1.0.0", remote: { calc: calc.url } }) });
      for (const root of [conf, manifest]) {
        const ok = await pop(["call", "front.shop.total", ...ARGS, "--plugins", root, "--json"], { env: { POP_TOKEN: "s3cret" } });
        expect(ok).toEqual({ code: 0, stdout: '{\n  "sum": 6.5,\n  "fee": 34\n}\n', stderr: "" });
        const refused = await pop(["call", "front.shop.total", ...ARGS, "--plugins", root], { env: NO_TOKEN });
        expect(refused.code).toBe(2);
        expect(refused.stderr).toBe(`pop: remote sub "calc" at ${calc.url} refused the call (401): set the token it expects in POP_TOKEN\n`);
      }
      // A token of the manifest's own wins over POP_TOKEN.
      const own = frontRoot({ "pop.json": JSON.stringify({ remote: { calc: { url: calc.url, token: "s3cret" } } }) });
      const r = await pop(["call", "front.shop.total", ...ARGS, "--plugins", own, "--json"], { env: { POP_TOKEN: "wrong" } });
      expect(r.code).toBe(0);
    },
    T,
  );

  test(
    "a front pop serve with a token of its own (POP_TOKEN) calls a back-end with another, given by its conf.ts REMOTE",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc", "--token", "back-secret"]);
      const root = frontRoot({ "conf.ts": `export const REMOTE = { calc: { url: ${JSON.stringify(calc.url)}, token: process.env.CALC_TOKEN } };\n` });
      await using front = await serve(["--plugins", root, "--sub", "front"], { env: { POP_TOKEN: "front-secret", CALC_TOKEN: "back-secret" } });
      const body = { ref: "shop.total", kwargs: { items: [1, 2, 3.5], num: 9 } };
      expect((await post(front.url, body)).status).toBe(401); // the front asks its own clients for POP_TOKEN
      expect(await post(front.url, body, { authorization: "Bearer front-secret" })).toMatchObject({ status: 200, json: { result: { sum: 6.5, fee: 34 } } });
      const metrics = await (await fetch(`${calc.url}/metrics`, { headers: { authorization: "Bearer back-secret" } })).text();
      expect(metrics).toContain('pop_serve_calls_total{ref="math.fib"} 1\n'); // and sent the back-end its own token
      // Without CALC_TOKEN the conf's entry has no token: POP_TOKEN goes to the back-end, which refuses it.
      const shared = await pop(["call", "front.shop.total", ...ARGS, "--plugins", root], { env: { POP_TOKEN: "front-secret", CALC_TOKEN: undefined } });
      expect(shared.code).toBe(2);
      expect(shared.stderr).toBe(`pop: remote sub "calc" at ${calc.url} refused the call (401): set the token it expects in POP_TOKEN\n`);
    },
    T,
  );

  test(
    "pop app: a project adding a sub only a --remote provides gets the remote one",
    async () => {
      await using calc = await serve(["--plugins", CALC, "--sub", "calc"]);
      const dir = join(tmp("pop-split-app-"), "shop"); // the project's name is its folder's
      mkdirSync(join(dir, "shop"), { recursive: true });
      writeFileSync(
        join(dir, "shop/init.ts"),
        'export async function cli(hub: any) {\n  await hub.pop.sub.add({ dyneName: "calc" });\n  console.log(await hub.calc.math.add(40, 2));\n}\n',
      );
      const r = await pop(["app", "--remote", `calc=${calc.url}`, dir], { env: NO_TOKEN });
      expect(r).toEqual({ code: 0, stdout: "42\n", stderr: "" });
      const missing = await pop(["app", dir], { env: NO_TOKEN });
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('no dyne "calc"');
    },
    T,
  );
});

describe("an isolated sub still needs its folder here", () => {
  test("--isolate naming a sub no root provides is a usage error saying what to do", async () => {
    const r = await pop(["call", "front.shop.total", "--plugins", FRONT, "--isolate", "calc=worker"]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'pop: --isolate calc=worker: no plugin root provides sub "calc", and an isolated sub runs its modules from a folder on this side; add the root holding "calc" (--plugins DIR), or serve it elsewhere and give --remote calc=URL\n',
    });
  });

  test("a conf.ts ISOLATE naming a sub no root provides is a warning (it may belong to a root not in this run)", async () => {
    const root = frontRoot({ "conf.ts": 'export const ISOLATE = { calc: "worker" };\n' });
    const r = await pop(["call", "front.shop.broken", "--plugins", root]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `pop: warning: ${join(root, "conf.ts")}: no plugin root provides sub "calc", and an isolated sub runs its modules from a folder on this side; add the root holding "calc" (--plugins DIR), or serve it elsewhere and give --remote calc=URL\n`,
    );
    expect(r.stdout).toStartWith("TypeError: ");
  });

  test(
    "pop tree --isolate shows the sub as isolated, with its functions",
    async () => {
      const r = await pop(["tree", "--plugins", CALC, "--isolate", "calc=worker", "--json"]);
      expect(r.code).toBe(0);
      const sub = JSON.parse(r.stdout).subs.find((s: { name: string }) => s.name === "calc");
      expect(sub.placed).toBe("isolated (worker)");
      expect(sub.modules.find((m: { name: string }) => m.name === "math").functions.map((f: { name: string }) => f.name)).toContain("fib");
    },
    T,
  );
});
