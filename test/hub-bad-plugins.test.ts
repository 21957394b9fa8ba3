// Bad plugins never take the hub down: each is left out with its file, line and reason, in `pop tree` and the log; --strict makes it fatal.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, tmp, writeTree } from "./helpers.ts";

const BAD = {
  "s/good.ts": "export function f(hub) { return 'good'; }",
  "s/syntax.ts": "export function f(hub) {\n  return 1 +;\n}\n",
  "s/throws.ts": "export const a = 1;\n\nthrow new Error('boom at import');\n",
  "s/initthrow.ts": "export function __init__(hub) {\n  throw new TypeError('init failed\\non two lines');\n}\nexport function f(hub) { return 1; }\n",
  "s/asyncinit.ts": "export async function __init__(hub) {\n  await null;\n  throw new Error('async init failed');\n}\nexport function f(hub) { return 1; }\n",
  "s/virt.ts": "export function __virtual__(hub) { return 'needs the foo service'; }\nexport function f(hub) { return 1; }\n",
  "s/virtfalse.ts": "export const __virtual__ = () => false;\nexport function f(hub) { return 1; }\n",
  "s/missing.ts": "import pad from 'no-such-package-for-pop-tests';\nexport function f(hub) { return pad; }\n",
  "probe/p.ts": [
    "/** Reach a module from another plugin; a failed one throws its load error. */",
    "export function reach(hub, { name }) {",
    "  try { return typeof hub.s[name].f; } catch (e) { return `${e.name}: ${e.message}`; }",
    "}",
    "/** What failed so far. */",
    "export async function failures(hub) { await hub.pop.sub.load('s'); return hub.pop.sub.failures().map((f) => `${f.ref} ${f.line}`); }",
  ].join("\n"),
};

const lines = (s: string) => s.split("\n").filter(Boolean);

function badRoot(): string {
  return writeTree(tmp(), BAD);
}

describe("pop tree with bad plugins", () => {
  test("every bad module is listed not loaded with file, line and reason; the rest load; exit 0", async () => {
    const dir = badRoot();
    const r = await pop(["tree", "--plugins", dir], { cwd: dir });
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain("  good  s/good.ts\n    f()\n");
    expect(out).toContain("✗ syntax  s/syntax.ts:2:13  not loaded (failed): syntax error: Unexpected ;");
    expect(out).toContain("✗ throws  s/throws.ts:3:");
    expect(out).toContain("not loaded (failed): threw Error: boom at import");
    expect(out).toContain("✗ initthrow  s/initthrow.ts:2:");
    expect(out).toContain("not loaded (failed): __init__ threw TypeError: init failed on two lines");
    expect(out).toContain("✗ asyncinit  s/asyncinit.ts:3:");
    expect(out).toContain("__init__ threw Error: async init failed");
    expect(out).toContain("✗ virt  s/virt.ts  not loaded (virtual): needs the foo service");
    expect(out).toContain("✗ virtfalse  s/virtfalse.ts  not loaded (virtual): __virtual__ returned false");
    expect(out).toContain("✗ missing  s/missing.ts:1:");
    expect(out).toContain("cannot resolve import: Cannot find package 'no-such-package-for-pop-tests'");
  });

  test("the log (stderr) says the same, one line per failed module, with the absolute file and line", async () => {
    const dir = badRoot();
    const r = await pop(["tree", "--plugins", dir]);
    const log = lines(r.stderr);
    // Five failures; the two modules that turned themselves off through __virtual__ are working as meant: no warning.
    expect(log).toHaveLength(5);
    for (const l of log) expect(l).toStartWith(`pop: warning: ${join(dir, "s")}/`);
    expect(log).toContain(`pop: warning: ${join(dir, "s/syntax.ts")}:2:13: module "s.syntax" not loaded: syntax error: Unexpected ;`);
    expect(log).toContain(
      `pop: warning: ${join(dir, "s/initthrow.ts")}:2:13: module "s.initthrow" not loaded: __init__ threw TypeError: init failed on two lines`,
    );
    expect(r.stderr).not.toContain("disabled itself");
  });

  test("--json lists the failures with ref, file, line and reason", async () => {
    const dir = badRoot();
    const r = await pop(["tree", "--plugins", dir, "--json"], { cwd: dir });
    const failures = JSON.parse(r.stdout).failures as Array<{ ref: string; file: string; line?: number; reason: string }>;
    expect(failures.map((f) => f.ref).sort()).toEqual(["s.asyncinit", "s.initthrow", "s.missing", "s.syntax", "s.throws"]);
    expect(failures.find((f) => f.ref === "s.throws")).toMatchObject({ file: "s/throws.ts", line: 3, reason: "threw Error: boom at import" });
  });
});

describe("pop call with bad plugins", () => {
  test("a good module still works; lazy loading never touches the bad ones", async () => {
    const dir = badRoot();
    expect(await pop(["call", "s.good.f", "--plugins", dir])).toEqual({ code: 0, stdout: "good\n", stderr: "" });
  });

  test.each([
    ["syntax", /syntax\.ts:2:13: module "s\.syntax" not loaded: syntax error: Unexpected ;$/],
    ["throws", /throws\.ts:3:\d+: module "s\.throws" not loaded: threw Error: boom at import$/],
    ["initthrow", /initthrow\.ts:2:\d+: module "s\.initthrow" not loaded: __init__ threw TypeError: init failed on two lines$/],
    ["asyncinit", /asyncinit\.ts:3:\d+: module "s\.asyncinit" not loaded: __init__ threw Error: async init failed$/],
    ["virt", /virt\.ts: module "s\.virt" not loaded: __virtual__ disabled it: needs the foo service$/],
    ["missing", /missing\.ts:1:\d+: module "s\.missing" not loaded: cannot resolve import: .*npm install no-such-package-for-pop-tests\)$/],
  ])("calling into %s exits 1 with one line naming file, line and reason", async (name, re) => {
    const dir = badRoot();
    const r = await pop(["call", `s.${name}.f`, "--plugins", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(re);
  });

  test("from another plugin, a failed module throws its load error when reached (not a stored placeholder)", async () => {
    const dir = badRoot();
    const r = await pop(["call", "probe.p.reach", "name=throws", "--plugins", dir]);
    expect(r.stdout).toContain("PluginLoadError: ");
    expect(r.stdout).toContain("throws.ts:3:");
    expect(r.stdout).toContain('module "s.throws" not loaded: threw Error: boom at import');
    expect((await pop(["call", "probe.p.reach", "name=good", "--plugins", dir])).stdout).toBe("function\n");
  });

  test("hub.pop.sub.failures() lists each failure with its line", async () => {
    const dir = badRoot();
    const r = await pop(["call", "probe.p.failures", "--plugins", dir, "--json"]);
    expect(JSON.parse(r.stdout).sort()).toEqual(["s.asyncinit 3", "s.initthrow 2", "s.missing 1", "s.syntax 2", "s.throws 3"]);
  });
});

describe("errors in files a plugin imports", () => {
  test("a helper that throws or does not parse is named with its own line", async () => {
    const dir = writeTree(tmp(), {
      "s/_throws.ts": "export const x = 1;\n\nthrow new Error('helper boom');\n",
      "s/_syntax.ts": "export const y = ;\n",
      "s/a.ts": "import { x } from './_throws.ts';\nexport function f(hub) { return x; }\n",
      "s/b.ts": "import { y } from './_syntax.ts';\nexport function f(hub) { return y; }\n",
    });
    const r = await pop(["tree", "--plugins", dir], { cwd: dir });
    expect(r.stdout).toContain("✗ a  s/_throws.ts:3:11  not loaded (failed): threw Error: helper boom");
    expect(r.stdout).toContain("✗ b  s/_syntax.ts:1:");
    const c = await pop(["call", "s.a.f", "--plugins", dir]);
    expect(c.stderr).toBe(`pop: ${join(dir, "s/_throws.ts")}:3:11: module "s.a" not loaded: threw Error: helper boom\n`);
  });

  test("POP_DEBUG adds the original error's stack", async () => {
    const dir = writeTree(tmp(), { "s/_throws.ts": "throw new Error('helper boom');\n", "s/a.ts": "import './_throws.ts';\nexport function f(hub) {}\n" });
    const r = await pop(["call", "s.a.f", "--plugins", dir], { env: { POP_DEBUG: "1" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`caused by: Error: helper boom\n    at ${join(dir, "s/_throws.ts")}:1:`);
  });

  test("a contract that does not load takes its modules out, naming the contract's file and line", async () => {
    const dir = writeTree(tmp(), {
      "s/contracts/init.ts": "export function pre(hub, ctx) {}\nthrow new Error('contract boom');\n",
      "s/a.ts": "export function f(hub) { return 1; }",
    });
    const r = await pop(["call", "s.a.f", "--plugins", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `pop: ${join(dir, "s/contracts/init.ts")}:2:11: module "s.a" not loaded: contract ${join(dir, "s/contracts/init.ts")} failed to load: threw Error: contract boom\n`,
    );
  });
});

describe("--strict", () => {
  test("pop tree --strict: exit 1, the same message as the warning, nothing on stdout", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "export function f(hub) { return 1; }", "s/syntax.ts": BAD["s/syntax.ts"] });
    const loose = await pop(["tree", "--plugins", dir]);
    const strict = await pop(["tree", "--plugins", dir, "--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe("");
    expect(strict.stderr).toBe(loose.stderr.replace("pop: warning: ", "pop: "));
    expect(strict.stderr).toBe(`pop: ${join(dir, "s/syntax.ts")}:2:13: module "s.syntax" not loaded: syntax error: Unexpected ;\n`);
  });

  test("pop call --strict: exit 1 even when the function called is fine", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "export function f(hub) { return 1; }", "s/throws.ts": BAD["s/throws.ts"] });
    expect((await pop(["call", "s.a.f", "--plugins", dir])).code).toBe(0);
    const r = await pop(["call", "s.a.f", "--plugins", dir, "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^pop: .*throws\.ts:3:\d+: module "s\.throws" not loaded: threw Error: boom at import\n$/);
  });

  test("a module that disables itself through __virtual__ is not a failure, even under --strict", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "export function f(hub) { return 1; }", "s/virt.ts": BAD["s/virt.ts"] });
    const r = await pop(["call", "s.a.f", "--plugins", dir, "--strict"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("1\n");
  });

  test("a plugin that throws in a sub's init.ts under --strict", async () => {
    const dir = writeTree(tmp(), { "s/init.ts": "export function __init__(hub) { throw new Error('no config'); }" });
    const r = await pop(["call", "s.init.x", "--plugins", dir, "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('module "s.init" not loaded: __init__ threw Error: no config');
  });
});

describe("name clashes", () => {
  test("a module and a sub folder with the same name: the module is left out with the reason", async () => {
    const dir = writeTree(tmp(), { "s/x.ts": "export function f(hub) { return 'module'; }", "s/x/y.ts": "export function f(hub) { return 'sub'; }" });
    const r = await pop(["tree", "--plugins", dir, "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout).subs.find((x: { name: string }) => x.name === "s");
    expect(s.subs.map((x: { ref: string }) => x.ref)).toEqual(["s.x"]);
    expect(JSON.parse(r.stdout).failures[0].reason).toContain("module name clashes with the sub folder");
    expect((await pop(["call", "s.x.y.f", "--plugins", dir])).stdout).toBe("sub\n");
  });

  test("a root folder named like pop's own sub is skipped with a warning, not fatal (unless --strict)", async () => {
    const dir = writeTree(tmp(), { "pop/x.ts": "export function f(hub) { return 1; }", "rpc/x.ts": "export function f(hub) { return 'rpc'; }" });
    const message = `${join(dir, "pop")}: a sub cannot be named "pop" (reserved by pop); rename the folder`;
    expect(await pop(["call", "rpc.x.f", "--plugins", dir])).toEqual({ code: 0, stdout: "rpc\n", stderr: `pop: warning: ${message}\n` });
    expect(await pop(["call", "rpc.x.f", "--plugins", dir, "--strict"])).toEqual({ code: 1, stdout: "", stderr: `pop: ${message}\n` });
  });

  test("two __virtualname__ claiming one name: the second is left out naming the first file", async () => {
    const dir = writeTree(tmp(), {
      "s/a.ts": "export const __virtualname__ = 'same';\nexport function f(hub) { return 'a'; }",
      "s/b.ts": "export const __virtualname__ = 'same';\nexport function f(hub) { return 'b'; }",
    });
    const r = await pop(["tree", "--plugins", dir, "--json"]);
    const failures = JSON.parse(r.stdout).failures;
    expect(failures).toHaveLength(1);
    expect(failures[0].reason).toContain('__virtualname__ "same" clashes with module');
  });
});
