// Atomic activation: adding a sub either succeeds or leaves the hub as it was (its loaded modules shut down, last
// first, the sub off the hub); adding the same sub twice is a no-op; a failed reload leaves the old module serving.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PluginLoadError } from "../src/errors.ts";
import { addSub, createHub, hubFailures, subNames } from "../src/hub/index.ts";
import { pop, tmp, writeTree } from "./helpers.ts";

/** A module that logs its __init__ and __shutdown__ to globalThis.POP_ATOMIC. */
const logged = (name: string, extra = "") =>
  `export function __init__(hub) { (globalThis.POP_ATOMIC ??= []).push("init ${name}"); }\n` +
  `export function __shutdown__(hub) { globalThis.POP_ATOMIC.push("shutdown ${name}"); }\n` +
  `export function who(hub) { return "${name}"; }\n${extra}`;
const log = () => (globalThis as any).POP_ATOMIC as string[];

describe("adding a sub is atomic", () => {
  test("its init module's __init__ throws: the modules it loaded are shut down, last first, and the sub is off the hub", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), {
      "s/a.ts": logged("a"),
      "s/b.ts": logged("b"),
      "s/init.ts": "export function __init__(hub) { hub.s.a.who(); hub.s.b.who(); throw new Error('no database'); }",
    });
    const hub = createHub({ warn: () => {} });
    const before = subNames(hub);
    const err = await addSub(hub, { path: join(dir, "s"), name: "s" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginLoadError);
    expect((err as Error).message).toContain('module "s.init" not loaded: __init__ threw Error: no database');
    expect(log()).toEqual(["init a", "init b", "shutdown b", "shutdown a"]);
    expect(subNames(hub)).toEqual(before);
    expect(hub.s).toBeUndefined();
  });

  test("a sub-sub's init failing undoes the whole sub", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), {
      "s/a.ts": logged("a"),
      "s/init.ts": logged("init"),
      "s/inner/init.ts": "export function __init__(hub) { throw new Error('inner refused'); }",
    });
    const hub = createHub({ warn: () => {} });
    await expect(addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" })).rejects.toThrow(
      /module "s\.inner\.init" not loaded: __init__ threw Error: inner refused/,
    );
    expect(log()).toEqual(["init init", "init a", "shutdown a", "shutdown init"]);
    expect(hub.s).toBeUndefined();
  });

  test("strict: any module's __init__ throwing undoes the sub; the other subs stay", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), {
      "keep/k.ts": logged("k"),
      "s/a.ts": logged("a"),
      "s/b.ts": "export function __init__(hub) { throw new Error('b refused'); }",
      "s/c.ts": logged("c"),
    });
    const hub = createHub({ warn: () => {}, strict: true });
    await addSub(hub, { path: join(dir, "keep"), name: "keep", load: "eager" });
    await expect(addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" })).rejects.toThrow(/module "s\.b" not loaded: __init__ threw Error: b refused/);
    expect(log()).toEqual(["init k", "init a", "shutdown a"]);
    expect(subNames(hub)).toEqual(["pop", "keep"]);
    expect(hub.keep.k.who()).toBe("k");
  });

  test("not strict, a module other than init failing is a load failure of that module only: the sub stays", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), { "s/a.ts": logged("a"), "s/b.ts": "export function __init__(hub) { throw new Error('b refused'); }" });
    const hub = createHub({ warn: () => {} });
    await addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" });
    expect(hub.s.a.who()).toBe("a");
    expect(hubFailures(hub).map((f) => f.ref)).toEqual(["s.b"]);
  });

  test("adding the same sub twice is a no-op: its inits run once, the same sub object comes back", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), { "s/init.ts": logged("init"), "s/a.ts": logged("a") });
    const hub = createHub({ warn: () => {} });
    const first = await addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" });
    const second = await addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" });
    const byPop = await hub.pop.sub.add({ path: join(dir, "s"), name: "s" });
    expect(second).toBe(first);
    expect(byPop).toBe(first);
    expect(log()).toEqual(["init init", "init a"]);
  });

  test("the subs its init added (poppy's __init__ adding rpc) are undone with it, last added first; subs there before stay", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), {
      "keep/init.ts": logged("keep"),
      "o/init.ts": logged("o"),
      "o/m.ts": logged("o.m"),
      "q/init.ts": logged("q"),
      "p/init.ts":
        "export async function __init__(hub) {\n" +
        "  await hub.pop.sub.add({ path: globalThis.POP_DIR + '/keep' });\n" +
        "  await hub.pop.sub.add({ path: globalThis.POP_DIR + '/o', load: 'eager' });\n" +
        "  await null;\n" +
        "  await hub.pop.sub.add({ path: globalThis.POP_DIR + '/q' });\n" +
        "  throw new Error('p refused');\n" +
        "}",
    });
    (globalThis as any).POP_DIR = dir;
    const hub = createHub({ warn: () => {} });
    await addSub(hub, { path: join(dir, "keep") });
    const before = subNames(hub);
    await expect(addSub(hub, { path: join(dir, "p") })).rejects.toThrow(/p refused/);
    delete (globalThis as any).POP_DIR;
    expect(subNames(hub)).toEqual(before);
    expect(hub.o).toBeUndefined();
    expect(log()).toEqual(["init keep", "init o", "init o.m", "init q", "shutdown q", "shutdown o.m", "shutdown o"]);
  });

  test("so are the subs added by the inits of the subs it added, at any depth", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), {
      "deep/init.ts": logged("deep"),
      "mid/init.ts": "export async function __init__(hub) { await hub.pop.sub.add({ path: globalThis.POP_DIR + '/deep' }); }",
      "top/init.ts": "export async function __init__(hub) { await hub.pop.sub.add({ path: globalThis.POP_DIR + '/mid' }); throw new Error('top refused'); }",
    });
    (globalThis as any).POP_DIR = dir;
    const hub = createHub({ warn: () => {} });
    const before = subNames(hub);
    await expect(addSub(hub, { path: join(dir, "top") })).rejects.toThrow(/top refused/);
    delete (globalThis as any).POP_DIR;
    expect(subNames(hub)).toEqual(before);
    expect(log()).toEqual(["init deep", "shutdown deep"]);
  });

  test("two adds of the same sub at once: the second resolves once the first's inits ran, or rejects with the first's error", async () => {
    const dir = writeTree(tmp(), {
      "r/init.ts": "export async function __init__(hub) { await new Promise((r) => setTimeout(r, 20)); hub.r.READY = true; }",
      "bad/init.ts": "export async function __init__(hub) { await new Promise((r) => setTimeout(r, 20)); throw new Error('bad refused'); }",
      "self/init.ts": "export async function __init__(hub) { hub.self.AGAIN = await hub.pop.sub.add({ path: globalThis.POP_DIR + '/self' }); }",
    });
    const hub = createHub({ warn: () => {} });
    const [a, b] = await Promise.all([addSub(hub, { path: join(dir, "r") }), addSub(hub, { path: join(dir, "r") })]);
    expect(b).toBe(a);
    expect(b.READY).toBe(true);
    const both = await Promise.allSettled([addSub(hub, { path: join(dir, "bad") }), addSub(hub, { path: join(dir, "bad") })]);
    expect(both.map((r) => (r.status === "rejected" ? String(r.reason) : r.status))).toEqual([
      expect.stringContaining("bad refused"),
      expect.stringContaining("bad refused"),
    ]);
    expect(hub.bad).toBeUndefined();
    // A sub whose init adds itself again gets itself back at once (no waiting on its own activation).
    (globalThis as any).POP_DIR = dir;
    const self = await addSub(hub, { path: join(dir, "self") });
    delete (globalThis as any).POP_DIR;
    expect(self.AGAIN).toBe(self);
  });

  test("a fixed sub can be added after a failed attempt", async () => {
    (globalThis as any).POP_ATOMIC = [];
    const dir = writeTree(tmp(), {
      "s/init.ts": "export function __init__(hub) { if (!globalThis.POP_READY) throw new Error('not ready'); }",
      "s/a.ts": logged("a"),
    });
    const hub = createHub({ warn: () => {} });
    await expect(addSub(hub, { path: join(dir, "s"), name: "s" })).rejects.toThrow(/not ready/);
    (globalThis as any).POP_READY = true;
    const s = await addSub(hub, { path: join(dir, "s"), name: "s" });
    expect(s.a.who()).toBe("a");
    delete (globalThis as any).POP_READY;
  });
});

describe("through dist/pop", () => {
  const shutdownMarker = (marker: string, name: string) =>
    `import { appendFileSync } from "node:fs";\nexport function __init__(hub) {}\nexport function __shutdown__(hub) { appendFileSync(${JSON.stringify(marker)}, "${name}\\n"); }\nexport function f(hub) { return "${name}"; }\n`;

  test("pop call --strict: a module's __init__ throws, the modules initialised before it are shut down (last first), exit 1", async () => {
    const marker = join(tmp(), "marker");
    const dir = writeTree(tmp(), {
      "s/a.ts": shutdownMarker(marker, "a"),
      "s/b.ts": shutdownMarker(marker, "b"),
      "s/c.ts": "export function __init__(hub) { throw new Error('c refused'); }\nexport function f(hub) {}",
    });
    const r = await pop(["call", "s.a.f", "--plugins", dir, "--strict"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`pop: ${dir}/s/c.ts:1:43: module "s.c" not loaded: __init__ threw Error: c refused\n`);
    expect(readFileSync(marker, "utf8")).toBe("b\na\n");
  });

  test("pop app: a sub whose init fails is undone before the add rejects: its modules shut down, the sub gone, the app goes on", async () => {
    const marker = join(tmp(), "marker");
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "proj";\nexport const DYNE = { proj: ["proj"], flaky: ["flaky"] };',
      "flaky/tools.ts": shutdownMarker(marker, "tools"),
      "flaky/init.ts": "export function __init__(hub) { hub.flaky.tools.f(); throw new Error('bad config'); }",
      "proj/init.ts": `import { readFileSync } from "node:fs";
export async function cli(hub) {
  const err = await hub.pop.sub.add({ dyneName: "flaky" }).then(() => "added", (e) => e.message);
  console.log(JSON.stringify({ err, flaky: hub.flaky === undefined ? "gone" : "there", shutdown: readFileSync(${JSON.stringify(marker)}, "utf8") }));
}`,
    });
    const r = await pop(["app", dir]);
    expect(r.stderr).toBe(`pop: warning: ${dir}/flaky/init.ts:1:64: module "flaky.init" not loaded: __init__ threw Error: bad config\n`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      err: `${dir}/flaky/init.ts:1:64: module "flaky.init" not loaded: __init__ threw Error: bad config`,
      flaky: "gone",
      shutdown: "tools\n",
    });
  });
});
