// The hub's lifecycle in-process (only the API can show these): __shutdown__ and closeHub, sub.remove, sub.reload,
// load timeouts, process.exit at load, the call monitor, and the sub.add options POP's own tests pin down.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PluginLoadError, RefError, ShutdownError, UsageError } from "../src/errors.ts";
import { addSub, closeHub, createHub, onHubClose } from "../src/hub/index.ts";
import { tmp, writeTree } from "./helpers.ts";

/** A hub over `files` (a sub "s" unless the paths say otherwise), its warnings collected. */
async function hubOf(files: Record<string, string>, opts: { load?: "lazy" | "eager"; strict?: boolean; loadTimeout?: number; shutdownTimeout?: number } = {}) {
  const dir = writeTree(tmp(), files);
  const warnings: string[] = [];
  const hub = createHub({
    warn: (m) => warnings.push(m),
    ...(opts.strict ? { strict: true } : {}),
    ...(opts.loadTimeout !== undefined ? { loadTimeout: opts.loadTimeout } : {}),
    ...(opts.shutdownTimeout !== undefined ? { shutdownTimeout: opts.shutdownTimeout } : {}),
  });
  await addSub(hub, { path: join(dir, "s"), name: "s", load: opts.load ?? "eager" });
  return { hub, dir, warnings };
}

/** A module that records its life in hub.LOG (a list on the hub's OPT-free namespace). */
const recorder = (name: string, extra = "") =>
  `export function __init__(hub) { (globalThis.POP_LOG ??= []).push("init ${name}"); }\n` +
  `export function __shutdown__(hub) { globalThis.POP_LOG.push("shutdown ${name}"); }\n` +
  `export function who(hub) { return "${name}"; }\n${extra}`;

describe("__shutdown__ and closeHub", () => {
  test("hooks run in reverse load order; errors and timeouts are collected and thrown together after every hook ran", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub } = await hubOf(
      {
        "s/a.ts": recorder("a"),
        "s/b.ts":
          "export function __shutdown__(hub) { globalThis.POP_LOG.push('shutdown b'); throw new Error('b would not stop'); }\nexport function f(hub) {}",
        "s/c.ts": "export function __shutdown__(hub) { globalThis.POP_LOG.push('shutdown c'); return new Promise(() => {}); }\nexport function f(hub) {}",
        "s/d.ts": recorder("d"),
      },
      { shutdownTimeout: 50 },
    );
    expect((globalThis as any).POP_LOG).toEqual(["init a", "init d"]);
    const err = await closeHub(hub).catch((e) => e);
    expect((globalThis as any).POP_LOG).toEqual(["init a", "init d", "shutdown d", "shutdown c", "shutdown b", "shutdown a"]);
    expect(err).toBeInstanceOf(ShutdownError);
    const errors = (err as ShutdownError).errors.map((e) => e.message);
    expect(errors).toEqual([
      expect.stringMatching(/s\/c\.ts: module "s\.c": __shutdown__ timed out after 50 ms$/),
      expect.stringMatching(/s\/b\.ts:1:\d+: module "s\.b": __shutdown__ threw Error: b would not stop$/),
    ]);
    expect((err as ShutdownError).code).toBe("POP_SHUTDOWN");
    expect((err as ShutdownError).exitCode).toBe(1);
  });

  test("closing twice closes once; a module shut down is off the hub and says so when reached", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub } = await hubOf({ "s/a.ts": recorder("a") });
    expect(hub.s.a.who()).toBe("a");
    const first = closeHub(hub);
    expect(closeHub(hub)).toBe(first);
    await first;
    expect((globalThis as any).POP_LOG).toEqual(["init a", "shutdown a"]);
    expect(Object.hasOwn(hub.s, "a")).toBe(false);
    expect(() => hub.s.a).toThrow(/module "s\.a" not loaded: it was shut down/);
  });
});

describe("hub.pop.sub.remove", () => {
  test("shuts the sub's modules down (sub-subs too, last loaded first) and takes it off the hub", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub } = await hubOf({ "s/a.ts": recorder("a"), "s/inner/b.ts": recorder("b"), "s/z.ts": recorder("z") });
    await hub.pop.sub.remove("s");
    expect((globalThis as any).POP_LOG).toEqual(["init a", "init z", "init b", "shutdown b", "shutdown z", "shutdown a"]);
    expect(hub.s).toBeUndefined();
    expect(hub.pop.sub.list()).toEqual(["pop"]);
    await expect(hub.pop.sub.remove("s")).rejects.toThrow(RefError);
    await expect(hub.pop.sub.remove("pop")).rejects.toThrow(UsageError);
  });

  test("a sub-sub alone: rpc.admin", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub } = await hubOf({ "s/a.ts": recorder("a"), "s/inner/b.ts": recorder("b") });
    await hub.pop.sub.remove("s.inner");
    expect((globalThis as any).POP_LOG).toEqual(["init a", "init b", "shutdown b"]);
    expect(hub.s.inner).toBeUndefined();
    expect(hub.s.a.who()).toBe("a");
  });
});

describe("hub.pop.sub.reload", () => {
  test("a fresh copy of the file is imported and initialised, then the old module shuts down", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub, dir } = await hubOf({ "s/a.ts": recorder("a") });
    await Bun.write(join(dir, "s/a.ts"), recorder("a2"));
    const mod = await hub.pop.sub.reload("s.a");
    expect(hub.s.a.who()).toBe("a2");
    expect(mod).toBe(hub.s.a);
    expect((globalThis as any).POP_LOG).toEqual(["init a", "init a2", "shutdown a"]);
  });

  test("a new version that does not load leaves the old one serving, and says why", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub, dir } = await hubOf({ "s/a.ts": recorder("a") });
    for (const broken of [
      "export function who(hub) { return ;; (",
      "throw new Error('not today');\nexport function who(hub) {}",
      "export const __virtual__ = () => 'off today';\nexport function who(hub) {}",
    ]) {
      await Bun.write(join(dir, "s/a.ts"), broken);
      const err = await hub.pop.sub.reload("s.a").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PluginLoadError);
      expect(hub.s.a.who()).toBe("a");
    }
    expect((globalThis as any).POP_LOG).toEqual(["init a"]);
  });

  test("a new version whose __init__ throws: the old one keeps serving, never shut down", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub, dir } = await hubOf({ "s/a.ts": recorder("a") });
    await Bun.write(join(dir, "s/a.ts"), "export function __init__(hub) { throw new Error('init refused'); }\nexport function who(hub) { return 'new'; }");
    await expect(hub.pop.sub.reload("s.a")).rejects.toThrow(/__init__ threw Error: init refused/);
    expect(hub.s.a.who()).toBe("a");
    expect((globalThis as any).POP_LOG).toEqual(["init a"]);
  });

  test("a call in flight finishes on the old module", async () => {
    const { hub, dir } = await hubOf({
      "s/a.ts":
        "let release;\nexport async function slow(hub) { await new Promise((r) => (release = r)); return 'old'; }\nexport function go(hub) { release(); }\nexport function who(hub) { return 'old'; }",
    });
    const inFlight = hub.s.a.slow();
    const go = hub.s.a.go;
    await Bun.write(join(dir, "s/a.ts"), "export function who(hub) { return 'new'; }");
    await hub.pop.sub.reload("s.a");
    go();
    expect(await inFlight).toBe("old");
    expect(hub.s.a.who()).toBe("new");
  });

  test("an unknown module is a RefError", async () => {
    const { hub } = await hubOf({ "s/a.ts": recorder("a") });
    await expect(hub.pop.sub.reload("s.nope")).rejects.toThrow(RefError);
  });
});

describe("no silent hang: imports and __init__ are bounded by the load timeout", () => {
  test("a top-level await that never settles fails its module, naming the file and what it was doing; the rest load", async () => {
    for (const load of ["eager", "lazy"] as const) {
      const { hub, warnings } = await hubOf(
        { "s/hang.ts": "await new Promise(() => {});\nexport function f(hub) {}", "s/ok.ts": "export function f(hub) { return 'ok'; }" },
        { loadTimeout: 100, load },
      );
      if (load === "lazy") await hub.pop.sub.load("s.hang");
      expect(hub.s.ok.f()).toBe("ok");
      const [f] = hub.pop.sub.failures();
      expect(f).toMatchObject({ ref: "s.hang", file: expect.stringMatching(/s\/hang\.ts$/) });
      expect(f!.reason).toStartWith("timed out after 100 ms importing it");
      expect(warnings.join("\n")).toContain('module "s.hang" not loaded: timed out after 100 ms importing it');
    }
  });

  test("an __init__ that never resolves fails its module", async () => {
    const { hub } = await hubOf(
      { "s/slow.ts": "export function __init__(hub) { return new Promise(() => {}); }\nexport function f(hub) {}" },
      { loadTimeout: 100 },
    );
    expect(hub.pop.sub.failures()[0]!.reason).toStartWith("timed out after 100 ms running __init__");
    expect(() => hub.s.slow).toThrow(PluginLoadError);
  });
});

describe("an eager load where one import fails at once", () => {
  test("the others still loading are waited for, not reported as timed out", async () => {
    const { hub } = await hubOf({
      "s/a.ts": "throw new Error('fails at once');",
      "s/b.ts": "await Bun.sleep(150);\nexport function f(hub) { return 'b'; }",
    });
    expect(hub.pop.sub.failures().map((f: { ref: string }) => f.ref)).toEqual(["s.a"]);
    expect(hub.s.b.f()).toBe("b");
  });
});

describe("process.exit() while a plugin loads", () => {
  test("fails that module (at import and in __init__); once loading is over, process.exit ends the process again", async () => {
    const { hub } = await hubOf({
      "s/a.ts": "process.exit(0);\nexport function f(hub) {}",
      "s/b.ts": "export function __init__(hub) { process.exit(3); }\nexport function f(hub) {}",
      "s/c.ts": "export function f(hub) { return 'c'; }",
    });
    expect(hub.pop.sub.failures().map((f: { ref: string; reason: string }) => [f.ref, f.reason])).toEqual([
      ["s.a", expect.stringContaining("process.exit(0) called while the plugin loaded")],
      ["s.b", expect.stringContaining("process.exit(3) called while the plugin loaded")],
    ]);
    expect(hub.s.c.f()).toBe("c");
  });

  test("a program that loaded a plugin calling process.exit still exits with its own code afterwards", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "process.exit(0);\nexport function f(hub) {}" });
    const script = join(dir, "main.ts");
    await Bun.write(
      script,
      `import { addSub, createHub } from ${JSON.stringify(join(import.meta.dir, "../src/hub/index.ts"))};\n` +
        `const hub = createHub({ warn: () => {} });\nawait addSub(hub, { path: ${JSON.stringify(join(dir, "s"))}, name: "s", load: "eager" });\n` +
        `if (hub.pop.sub.failures().length !== 1) process.exit(9);\nprocess.exit(7);\n`,
    );
    const p = Bun.spawn([process.execPath, script], { stdout: "ignore", stderr: "pipe" });
    expect(await p.exited).toBe(7);
  });

  test("closeOpenHubs (the process is ending) lets process.exit through; a hub created afterwards traps it again", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "process.exit(4);\nexport function f(hub) {}", "t/a.ts": "process.exit(5);\nexport function f(hub) {}" });
    const script = join(dir, "main.ts");
    const hubIndex = JSON.stringify(join(import.meta.dir, "../src/hub/index.ts"));
    await Bun.write(
      script,
      `import { addSub, closeOpenHubs, createHub } from ${hubIndex};\n` +
        `await closeOpenHubs();\n` +
        `const hub = createHub({ warn: () => {} });\nawait addSub(hub, { path: ${JSON.stringify(join(dir, "s"))}, name: "s", load: "eager" });\n` +
        `if (hub.pop.sub.failures().length !== 1) process.exit(9);\n` +
        `await closeOpenHubs();\nawait addSub(hub, { path: ${JSON.stringify(join(dir, "t"))}, name: "t", load: "eager" });\nprocess.exit(8);\n`,
    );
    const p = Bun.spawn([process.execPath, script], { stdout: "ignore", stderr: "pipe" });
    expect(await p.exited).toBe(5);
  });
});

describe("hub.pop.trace.add: the call monitor", () => {
  test("every call reports ref, arguments, duration and outcome; undo puts the bare functions back", async () => {
    const { hub } = await hubOf({
      "s/m.ts":
        "export function add(hub, a, b) { return a + b; }\nexport async function later(hub, x) { return x; }\nexport function boom(hub) { throw new Error('boom'); }",
    });
    const bare = hub.s.m.add;
    const seen: any[] = [];
    const undo = hub.pop.trace.add({
      before: (c: any) => seen.push(["before", c.ref, c.args]),
      after: (c: any) => seen.push(["after", c.ref, c.outcome, c.result ?? String(c.error), typeof c.duration]),
    });
    expect(hub.s.m.add).not.toBe(bare);
    expect(hub.s.m.add(1, 2)).toBe(3);
    expect(await hub.s.m.later("x")).toBe("x");
    expect(() => hub.s.m.boom()).toThrow("boom");
    expect(seen).toEqual([
      ["before", "s.m.add", [1, 2]],
      ["after", "s.m.add", "ok", 3, "number"],
      ["before", "s.m.later", ["x"]],
      ["after", "s.m.later", "ok", "x", "number"],
      ["before", "s.m.boom", []],
      ["after", "s.m.boom", "error", "Error: boom", "number"],
    ]);
    undo();
    expect(hub.s.m.add).toBe(bare);
    hub.s.m.add(1, 1);
    expect(seen).toHaveLength(6);
  });

  test("modules loaded while a monitor is on are traced too; a monitor that throws never breaks the call", async () => {
    const { hub, warnings } = await hubOf({ "s/m.ts": "export function f(hub) { return 1; }" }, { load: "lazy" });
    const refs: string[] = [];
    hub.pop.trace.add({ after: (c: any) => refs.push(c.ref) });
    hub.pop.trace.add({
      before: () => {
        throw new Error("bad monitor");
      },
    });
    expect(hub.s.m.f()).toBe(1);
    expect(hub.s.m.f()).toBe(1);
    expect(refs).toEqual(["pop.trace.add", "s.m.f", "s.m.f"]); // built-in functions are hub calls too
    expect(warnings).toEqual(["a call monitor threw (the call went on): bad monitor"]);
    // @ts-expect-error: a monitor that is not one, on purpose
    expect(() => hub.pop.trace.add({ before: 1 })).toThrow(UsageError);
  });
});

describe("hub.pop.sub.add options (POP's sub.add)", () => {
  test("sub: nests the new sub under another one", async () => {
    const { hub } = await hubOf({ "s/a.ts": "export function f(hub) { return 'a'; }" });
    const dir = writeTree(tmp(), { "extra/e.ts": "export function f(hub) { return 'e'; }" });
    await hub.pop.sub.add({ path: join(dir, "extra"), sub: hub.s });
    expect(hub.s.extra.e.f()).toBe("e");
    expect(hub.pop.ref.last("s.extra.e.f")()).toBe("e");
  });

  test("an option sub.add does not know is an error naming it", async () => {
    const hub = createHub();
    // @ts-expect-error: a misspelt option, on purpose
    await expect(hub.pop.sub.add({ path: "/tmp", lod: "eager" })).rejects.toThrow(/unknown option "lod"/);
    // @ts-expect-error: a load mode that does not exist, on purpose
    await expect(hub.pop.sub.add({ path: "/tmp", load: "later" })).rejects.toThrow(/load must be "lazy" or "eager"/);
  });

  test("init: false skips the init module's __init__; virtual: false skips __virtual__", async () => {
    const dir = writeTree(tmp(), {
      "s/init.ts": "export function __init__(hub) { hub.s.READY = true; }",
      "s/v.ts": "export function __virtual__(hub) { return 'not here'; }\nexport function f(hub) { return 'v'; }",
    });
    const hub = createHub({ warn: () => {} });
    await hub.pop.sub.add({ path: join(dir, "s"), init: false, virtual: false });
    expect(hub.s.READY).toBeUndefined();
    expect(hub.s.v.f()).toBe("v");
  });

  test("stopOnFailures makes the sub's load failures throw, as --strict does for the hub", async () => {
    const dir = writeTree(tmp(), { "s/bad.ts": "throw new Error('bad');" });
    const hub = createHub({ warn: () => {} });
    await expect(hub.pop.sub.add({ path: join(dir, "s"), load: "eager", stopOnFailures: true })).rejects.toThrow(PluginLoadError);
  });

  test("iter lists a sub's modules and sub-subs without loading them; loadAll loads them", async () => {
    const { hub } = await hubOf(
      { "s/a.ts": "export function f(hub) {}", "s/b.ts": "export function f(hub) {}", "s/inner/c.ts": "export function f(hub) {}" },
      { load: "lazy" },
    );
    expect(hub.pop.sub.iter("s")).toEqual([
      { name: "a", ref: "s.a", kind: "module", state: "pending", file: expect.stringMatching(/a\.ts$/) },
      { name: "b", ref: "s.b", kind: "module", state: "pending", file: expect.stringMatching(/b\.ts$/) },
      { name: "inner", ref: "s.inner", kind: "sub" },
    ]);
    expect(hub.pop.sub.iter().map((x: { name: string }) => x.name)).toEqual(["pop", "s"]);
    await hub.pop.sub.loadAll("s");
    expect(hub.pop.sub.iter("s").map((x: { state?: string }) => x.state)).toEqual(["loaded", "loaded", undefined]);
    expect(hub.pop.sub.iter("s.inner")[0]!.state).toBe("loaded");
  });
});

describe("modules that are not on the hub", () => {
  test("reaching a refused or disabled module throws an error carrying the reason, not a TypeError on undefined", async () => {
    const { hub } = await hubOf({ "s/v.ts": "export function __virtual__(hub) { return 'needs the foo service'; }\nexport function f(hub) {}" });
    let err: unknown;
    try {
      hub.s.v.f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginLoadError);
    expect((err as Error).message).toContain("needs the foo service");
    const off = createHub({ disable: [{ ref: "s.v", source: "--disable" }] });
    await addSub(off, { path: join(writeTree(tmp(), { "s/v.ts": "export function f(hub) {}" }), "s"), name: "s" });
    expect(() => off.s.v.f()).toThrow(/disabled by --disable/);
  });

  test("two files share one __virtualname__, one refuses: the one that loads is the module, whichever comes first (strict too)", async () => {
    for (const strict of [false, true]) {
      for (const [a, b] of [
        ["yes", "no"],
        ["no", "yes"],
      ]) {
        const body = (v: string) =>
          `export const __virtualname__ = "test";\nexport function __virtual__(hub) { return ${v === "yes" ? "true" : "'refused'"}; }\nexport function who(hub) { return "${v}"; }`;
        const { hub } = await hubOf({ "s/a.ts": body(a!), "s/b.ts": body(b!) }, { strict });
        expect(hub.s.test.who()).toBe("yes");
      }
    }
  });

  test("two files that both load under one __virtualname__ clash", async () => {
    const body = "export const __virtualname__ = 'test';\nexport function who(hub) {}";
    const { hub } = await hubOf({ "s/a.ts": body, "s/b.ts": body });
    expect(hub.pop.sub.failures()[0]!.reason).toContain('__virtualname__ "test" clashes with module');
  });
});

describe("names checked at load", () => {
  test("__func_alias__ onto another function, onto __proto__ or a dotted name, or two onto one: refused with the reason", async () => {
    const cases: Record<string, RegExp> = {
      "export const __func_alias__ = { a_: 'b' };\nexport function a_(hub) {}\nexport function b(hub) {}": /maps "a_" to "b", but the module also exports "b"/,
      "export const __func_alias__ = { a_: '__proto__' };\nexport function a_(hub) {}": /not a public name/,
      "export const __func_alias__ = { a_: 'x.y' };\nexport function a_(hub) {}": /not a public name/,
      "export const __func_alias__ = { a_: 'x', b_: 'x' };\nexport function a_(hub) {}\nexport function b_(hub) {}": /maps both "a_" and "b_" to "x"/,
    };
    for (const [src, why] of Object.entries(cases)) {
      const { hub } = await hubOf({ "s/m.ts": src });
      expect(hub.pop.sub.failures()[0]!.reason).toMatch(why);
      expect(Object.getPrototypeOf(hub.s)).not.toBeNull();
    }
  });

  test("a file named a.b.ts is refused: its module name has a dot", async () => {
    const { hub } = await hubOf({ "s/a.b.ts": "export function f(hub) {}", "s/ok.ts": "export function f(hub) { return 1; }" });
    expect(hub.pop.sub.failures()[0]).toMatchObject({ ref: "s.a.b", reason: expect.stringContaining('module name "a.b", which holds a dot') });
    expect(hub.s.ok.f()).toBe(1);
  });
});

describe("contracts POP's tests pin down", () => {
  test("an async generator under contracts yields its chunks through the chain: pre once, post per chunk", async () => {
    const { hub } = await hubOf({
      "s/contracts/g.ts": "export function pre(hub, ctx) { hub.s.PRE = (hub.s.PRE ?? 0) + 1; }\nexport function post(hub, ctx) { return ctx.ret * 10; }",
      "s/g.ts":
        "export async function* count(hub, n) { for (let i = 1; i <= n; i++) yield i; }\nexport function* sync(hub, n) { for (let i = 1; i <= n; i++) yield i; }",
    });
    const got: number[] = [];
    for await (const x of hub.s.g.count(3)) got.push(x);
    expect(got).toEqual([10, 20, 30]);
    expect([...hub.s.g.sync(2)]).toEqual([10, 20]);
    expect(hub.s.PRE).toBe(2);
  });

  test("sig functions fix the implementation's parameter names and order; the first mismatch fails the module at load", async () => {
    const { hub } = await hubOf({
      "s/contracts/init.ts": "export function sig_add(hub, item, qty) {}\nexport function sig_put(hub, { key, value }) {}",
      "s/good.ts": "export function add(hub, item, qty = 1) {}\nexport function put(hub, { key, value = '' }) {}",
      "s/swapped.ts": "export function add(hub, qty, item) {}\nexport function put(hub, { key, value }) {}",
      "s/short.ts": "export function add(hub, item) {}\nexport function put(hub, { key, value }) {}",
      "s/keys.ts": "export function add(hub, item, qty) {}\nexport function put(hub, { key }) {}",
    });
    const reasons = Object.fromEntries(hub.pop.sub.failures().map((f: { ref: string; reason: string }) => [f.ref, f.reason]));
    expect(Object.keys(reasons).sort()).toEqual(["s.keys", "s.short", "s.swapped"]);
    expect(reasons["s.swapped"]).toMatch(/^parameter 2 of add \(after the hub\) is "qty", but sig_add in .*contracts\/init\.ts expects "item"/);
    expect(reasons["s.short"]).toMatch(/parameter 3 of add \(after the hub\) is missing: sig_add in .* expects "qty"/);
    expect(reasons["s.keys"]).toMatch(/parameter 2 of put \(after the hub\) is "\{key\}", but sig_put .* expects "\{key,value\}"/);
  });
});

describe("onHubClose", () => {
  test("close hooks run before the modules' __shutdown__, last registered first; undo removes one; errors are collected", async () => {
    (globalThis as any).POP_LOG = [];
    const { hub } = await hubOf({ "s/a.ts": recorder("a") });
    const log = (globalThis as any).POP_LOG as string[];
    onHubClose(hub, () => void log.push("hook 1"));
    const undo = onHubClose(hub, () => void log.push("hook 2"));
    onHubClose(hub, () => {
      log.push("hook 3");
      throw new Error("hook 3 failed");
    });
    undo();
    const err = await closeHub(hub).catch((e: unknown) => e);
    expect(log).toEqual(["init a", "hook 3", "hook 1", "shutdown a"]);
    expect((err as ShutdownError).errors.map((e) => e.message)).toEqual(["hook 3 failed"]);
  });
});
