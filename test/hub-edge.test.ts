// Edge cases found in review, each reproduced through dist/pop before it was fixed.
import { expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { pop, tmp, writeTree } from "./helpers.ts";

test("a module named like a probed property (then, toString) is an ordinary module, also for invoke.map", async () => {
  const dir = writeTree(tmp(), {
    "r/s/then.ts": 'export function f(hub: any) { return "then"; }\n',
    "r/s/user.ts": "export function useThen(hub: any) { return hub.s.then.f(); }\n",
    "r/n/email.ts": 'export function send(hub: any, m: string) { return "email: " + m; }\n',
    "r/n/toString.ts": 'export function send(hub: any, m: string) { return "toString: " + m; }\n',
  });
  const a = await pop(["call", "s.user.useThen", "--plugins", "r"], { cwd: dir });
  expect(a).toEqual({ code: 0, stdout: "then\n", stderr: "" });
  const b = await pop(["call", "pop.invoke.map", "--args", '[{"sub":"n","func":"send","args":["hi"]}]', "--plugins", "r", "--json"], { cwd: dir });
  expect(b.stderr).toBe("");
  expect(JSON.parse(b.stdout)).toEqual([
    { module: "email", ok: true, value: "email: hi" },
    { module: "toString", ok: true, value: "toString: hi" },
  ]);
});

test("a link from a sub back to an enclosing folder is skipped with a warning; a dangling link loop is ignored", async () => {
  const dir = writeTree(tmp(), { "r/s/a.ts": 'export function g(hub: any) { return "g"; }\n' });
  symlinkSync(".", join(dir, "r/s/loop"));
  symlinkSync("selfloop", join(dir, "r/selfloop"));
  const call = await pop(["call", "s.a.g", "--plugins", "r"], { cwd: dir });
  expect(call).toEqual({ code: 0, stdout: "g\n", stderr: "" });
  const tree = await pop(["tree", "--plugins", "r"], { cwd: dir });
  expect(tree.code).toBe(0);
  expect(tree.stderr).toBe(
    `pop: warning: ${join(dir, "r/s/loop")}: a link back to an enclosing folder of sub "s"; it is not a sub-sub (remove the link, or point it elsewhere)\n`,
  );
  expect(tree.stdout).toContain("    g()");
});

test("a sub-sub reached lazily from plugin code: its modules wait for its async init", async () => {
  const dir = writeTree(tmp(), {
    "r/top/x/y/init.ts": "export async function __init__(hub: any) { await new Promise((r) => setTimeout(r, 30)); hub.top.x.y.DB = { ready: true }; }\n",
    "r/top/x/y/q.ts": 'export function read(hub: any) { return hub.top.x.y.DB?.ready ?? "init not finished"; }\n',
    "r/top/caller.ts": "export async function go(hub: any) { return await hub.top.x.y.q.read(); }\n",
  });
  expect(await pop(["call", "top.caller.go", "--plugins", "r"], { cwd: dir })).toEqual({ code: 0, stdout: "true\n", stderr: "" });
});

test("lazy: a module next to a folder of the same name is reported, not silently dropped", async () => {
  const dir = writeTree(tmp(), {
    "r/s/dup.ts": "export function f(hub: any) { return 1; }\n",
    "r/s/dup/x.ts": "export function g(hub: any) { return 2; }\n",
  });
  const r = await pop(["call", "s.dup.x.g", "--plugins", "r"], { cwd: dir });
  expect(r.stdout).toBe("2\n");
  expect(r.stderr).toBe(
    `pop: warning: ${join(dir, "r/s/dup.ts")}: module "s.dup" not loaded: module name clashes with the sub folder ${join(dir, "r/s/dup")}; rename one of them\n`,
  );
});

test("several syntax errors in one file: the first, with its line, and how many more", async () => {
  const dir = writeTree(tmp(), { "r/s/bad.ts": 'export function f(hub: any{return "x"}\n' });
  const r = await pop(["call", "s.bad.f", "--plugins", "r"], { cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^pop: ${join(dir, "r/s/bad.ts")}:1:\\d+: module "s.bad" not loaded: syntax error: .+ \\(and \\d+ more errors?\\)\\n$`));
});

test("--disable takes the name the hub shows for a __virtualname__'d module", async () => {
  const dir = writeTree(tmp(), { "r/s/file.ts": 'export const __virtualname__ = "virt";\nexport function f(hub: any) { return 1; }\n' });
  expect(await pop(["call", "s.virt.f", "--plugins", "r"], { cwd: dir })).toEqual({ code: 0, stdout: "1\n", stderr: "" });
  const r = await pop(["call", "s.virt.f", "--plugins", "r", "--disable", "s.virt"], { cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain("disabled by --disable");
});

test("a result that cannot be printed as JSON: exit 1 naming the ref and the fix", async () => {
  const dir = writeTree(tmp(), { "r/e/odd.ts": "export function circ(hub: any) { const a: any = {}; a.a = a; return a; }\n" });
  const r = await pop(["call", "e.odd.circ", "--plugins", "r"], { cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toStartWith('pop: "e.odd.circ" returned a value that cannot be printed as JSON: ');
  expect(r.stderr).toEndWith("; return plain data (no cycles) from it\n");
  expect(r.stderr).not.toContain(".;");
});

test("a result JSON would change without a word: NaN or Infinity refused (text prints them as they are), typed arrays as arrays", async () => {
  const dir = writeTree(tmp(), {
    "r/e/v.ts":
      "export function nan(hub: any) { return NaN; }\nexport function obj(hub: any) { return { a: 1, b: -Infinity }; }\nexport function bytes(hub: any) { return new Uint8Array([1, 2]); }\n",
  });
  const call = (ref: string, ...more: string[]) => pop(["call", ref, "--plugins", "r", ...more], { cwd: dir });
  expect(await call("e.v.nan")).toEqual({ code: 0, stdout: "NaN\n", stderr: "" });
  expect(await call("e.v.nan", "--json")).toMatchObject({ code: 1, stdout: "" });
  expect((await call("e.v.nan", "--json")).stderr).toContain(
    'returned a value that cannot be printed as JSON: NaN has no JSON form; return a finite number, a string or null"',
  );
  expect(await call("e.v.obj")).toEqual({
    code: 1,
    stdout: "",
    stderr:
      'pop: "e.v.obj" returned a value that cannot be printed as JSON: -Infinity (at key "b") has no JSON form; return a finite number, a string or null\n',
  });
  expect(await call("e.v.bytes", "--json")).toEqual({ code: 0, stdout: "[\n  1,\n  2\n]\n", stderr: "" });
});

test("pop tree --json always has doc (null without a doc comment); pop config schema accepts --json", async () => {
  const dir = writeTree(tmp(), { "r/s/m.ts": "export function f(hub: any) { return 1; }\n" });
  const t = await pop(["tree", "--plugins", "r", "--json"], { cwd: dir });
  const s = JSON.parse(t.stdout).subs.find((x: { name: string }) => x.name === "s");
  expect(s.modules[0].functions[0]).toMatchObject({ name: "f", doc: null });
  const schema = await pop(["config", "schema", "examples/poppy", "--json"]);
  expect(schema.code).toBe(0);
  expect(JSON.parse(schema.stdout).title).toBe("poppy config file");
});
