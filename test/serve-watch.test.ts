// pop serve --watch: a changed plugin file is reloaded without a restart; a broken one leaves the old version serving.
import { expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmp, writeTree } from "./helpers.ts";
import { CALC, post, serve } from "./fixtures/serve/_harness.ts";

test("a changed module answers with its new code, a broken one is reported and the old one keeps serving", async () => {
  const root = tmp("pop-serve-watch-");
  cpSync(CALC, root, { recursive: true });
  const file = join(root, "calc", "math.ts");
  await using s = await serve(["--plugins", root, "--sub", "calc", "--watch"]);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 5 } });

  // A call in flight when the file changes finishes on the version it started on.
  const held = post(s.url, { ref: "math.hold", kwargs: { value: "v1" } });
  await s.waitFor("stderr", /holding/);
  writeFileSync(file, readFileSync(file, "utf8").replace("return a + b;", "return a * b;").replace("resolve(value)", "resolve(`v2 ${value}`)"));
  await s.waitFor("stderr", /pop: reloaded calc\.math from /);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 6 } });
  s.proc.kill("SIGUSR2");
  expect(await held).toMatchObject({ status: 200, json: { result: "v1" } });

  writeFileSync(file, "export function add(hub, a, b) { return a - ; }\n");
  await s.waitFor("stderr", /reload of "calc\.math" failed, the old version keeps running: /);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 6 } });
}, 30_000);

test("an isolated sub's edited file restarts its side: changed and added functions are served, a broken file keeps the old side serving", async () => {
  const root = tmp("pop-serve-watch-iso-");
  const file = join(root, "calc", "math.ts");
  mkdirSync(join(root, "calc"));
  writeFileSync(file, "export function add(hub, a, b) { return a + b; }\n");
  await using s = await serve(["--plugins", root, "--sub", "calc", "--watch", "--isolate", "calc=worker"]);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 5 } });
  writeFileSync(file, "export function add(hub, a, b) { return a * b; }\nexport function neg(hub, a) { return -a; }\n");
  await s.waitFor("stderr", /pop: reloaded calc from \S*calc\/math\.ts\n/);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 6 } });
  expect(await post(s.url, { ref: "math.neg", args: [4] })).toMatchObject({ status: 200, json: { result: -4 } });
  writeFileSync(file, "export function add(hub, a, b) { return a - ; }\n");
  await s.waitFor("stderr", /calc\/math\.ts: reload of isolated sub "calc" failed, the old side keeps running: /);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 6 } });
}, 30_000);

test("a new plugin file is served once written (helpers and tests are not modules); a broken new file is reported, nothing served from it until fixed", async () => {
  const root = tmp("pop-serve-watch-new-");
  mkdirSync(join(root, "calc"));
  writeFileSync(join(root, "calc", "math.ts"), "export function add(hub, a, b) { return a + b; }\n");
  await using s = await serve(["--plugins", root, "--sub", "calc", "--watch"]);
  writeFileSync(join(root, "calc", "_fmt.ts"), "export const fmt = (x) => `${x}`;\n");
  writeFileSync(join(root, "calc", "extra.ts"), "export function neg(hub, a) { return -a; }\n");
  await s.waitFor("stderr", /pop: loaded new module calc\.extra from \S*calc\/extra\.ts\n/);
  expect(await post(s.url, { ref: "extra.neg", args: [4] })).toMatchObject({ status: 200, json: { result: -4 } });
  writeFileSync(join(root, "calc", "bad.ts"), "export function f(hub) { return ; ;( }\n");
  await s.waitFor("stderr", /calc\/bad\.ts:1:\d+: module "calc\.bad" not loaded: syntax error/);
  expect(await post(s.url, { ref: "bad.f", args: [] })).toMatchObject({ status: 404 });
  writeFileSync(join(root, "calc", "bad.ts"), "export function f(hub) { return 'fixed'; }\n");
  await s.waitFor("stderr", /pop: loaded calc\.bad from \S*calc\/bad\.ts \(it had failed to load\)\n/);
  expect(await post(s.url, { ref: "bad.f", args: [] })).toMatchObject({ status: 200, json: { result: "fixed" } });
  expect(s.stderr().match(/module "calc\.bad" not loaded/g)).toHaveLength(1); // said once, not again as "new module failed"
  expect(s.stderr()).not.toContain("_fmt");
  // A new folder is a new sub-sub, served with what is in it.
  writeTree(join(root, "staging"), { "admin/x.ts": "export function f(hub) { return 'admin'; }\n" });
  renameSync(join(root, "staging", "admin"), join(root, "calc", "admin"));
  await s.waitFor("stderr", /pop: loaded new sub calc\.admin from \S*calc\/admin\n/);
  expect(await post(s.url, { ref: "admin.x.f", args: [] })).toMatchObject({ status: 200, json: { result: "admin" } });
}, 30_000);

test.each([
  ["in-process", []],
  ["worker-isolated", ["--isolate", "calc=worker"]],
] as const)(
  "GET /refs after a reload (%s) lists each function's new parameters and doc, and an added one's own",
  async (_, place) => {
    const root = tmp("pop-serve-watch-refs-");
    const file = join(root, "calc", "math.ts");
    mkdirSync(join(root, "calc"));
    writeFileSync(file, "/** Add two numbers. */\nexport function add(hub: any, a: number, b: number) { return a + b; }\n");
    await using s = await serve(["--plugins", root, "--sub", "calc", "--watch", ...place]);
    const refs = async () => ((await (await fetch(`${s.url}/refs`)).json()) as { refs: unknown }).refs;
    expect(await refs()).toEqual([{ ref: "math.add", params: "a: number, b: number", doc: "Add two numbers." }]);
    writeFileSync(
      file,
      "/** Add three numbers. */\nexport function add(hub: any, x: number, y: number, z: number) { return x + y + z; }\n/** Negate. */\nexport function neg(hub: any, v: number) { return -v; }\n",
    );
    await s.waitFor("stderr", /pop: reloaded calc(\.math)? from /);
    expect(await refs()).toEqual([
      { ref: "math.add", params: "x: number, y: number, z: number", doc: "Add three numbers." },
      { ref: "math.neg", params: "v: number", doc: "Negate." },
    ]);
  },
  30_000,
);

test("a deleted plugin file takes its module off: its functions are 404 and its __shutdown__ runs; made again, it serves its new code", async () => {
  const root = tmp("pop-serve-watch-del-");
  mkdirSync(join(root, "calc"));
  writeFileSync(join(root, "calc", "math.ts"), "export function add(hub, a, b) { return a + b; }\n");
  const extra = join(root, "calc", "extra.ts");
  writeFileSync(extra, "export function neg(hub, a) { return -a; }\nexport function __shutdown__(hub) { console.error('extra shut down'); }\n");
  await using s = await serve(["--plugins", root, "--sub", "calc", "--watch"]);
  expect(await post(s.url, { ref: "extra.neg", args: [3] })).toMatchObject({ status: 200, json: { result: -3 } });
  rmSync(extra);
  await s.waitFor("stderr", /pop: removed module calc\.extra \(\S*calc\/extra\.ts was deleted\)\n/);
  expect(s.stderr()).toContain("extra shut down\n");
  expect(await post(s.url, { ref: "extra.neg", args: [3] })).toMatchObject({ status: 404 });
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 5 } });
  writeFileSync(extra, "export function neg(hub, a) { return -a * 10; }\n");
  await s.waitFor("stderr", /pop: loaded new module calc\.extra from \S*calc\/extra\.ts\n/);
  expect(await post(s.url, { ref: "extra.neg", args: [3] })).toMatchObject({ status: 200, json: { result: -30 } });
}, 30_000);

test("a contract file added while pop serve --watch runs applies: in a new contracts/ folder, and an init.ts beside it for every module", async () => {
  const root = tmp("pop-serve-watch-contract-");
  mkdirSync(join(root, "calc"));
  writeFileSync(join(root, "calc", "math.ts"), "export function add(hub, a, b) { return a + b; }\n");
  writeFileSync(join(root, "calc", "text.ts"), "export function up(hub, s) { return s.toUpperCase(); }\n");
  await using s = await serve(["--plugins", root, "--sub", "calc", "--watch"]);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 5 } });
  mkdirSync(join(root, "calc", "contracts"));
  writeFileSync(join(root, "calc", "contracts", "math.ts"), "export function post(hub, ctx) { return ctx.ret * 10; }\n");
  await s.waitFor("stderr", /pop: reloaded calc\.math from \S*calc\/math\.ts \(\S*contracts\/math\.ts changed\)\n/);
  expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 50 } });
  writeFileSync(join(root, "calc", "contracts", "init.ts"), "export function post(hub, ctx) { return `[${ctx.ret}]`; }\n");
  await s.waitFor("stderr", /pop: reloaded calc\.text from \S*calc\/text\.ts \(\S*contracts\/init\.ts changed\)\n/);
  expect(await post(s.url, { ref: "text.up", args: ["a"] })).toMatchObject({ status: 200, json: { result: "[A]" } });
}, 30_000);
