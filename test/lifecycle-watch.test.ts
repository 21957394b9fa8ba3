// Hot reload in-process: watchHub reloads a changed plugin file, keeps the old version when the new one fails to
// load (and says why), lets calls in flight finish on the old one, and stops when disposed.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { addSub, closeHub, createHub, type Hub, watchHub, type WatchEvent } from "../src/hub/index.ts";
import { tmp, writeTree } from "./helpers.ts";

const stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

/** A hub over a sub "s" of `files`, watched; `next()` resolves with the next reload or failure (bounded). */
async function watched(files: Record<string, string>, opts: { shutdownTimeout?: number; warnings?: string[] } = {}) {
  const dir = writeTree(tmp(), files);
  const warnings = opts.warnings ?? [];
  const hub: Hub = createHub({
    warn: (m: string) => void warnings.push(m),
    ...(opts.shutdownTimeout === undefined ? {} : { shutdownTimeout: opts.shutdownTimeout }),
  });
  await addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" });
  const events: Array<{ kind: "reload" | "error"; event: WatchEvent & { error?: Error } }> = [];
  const waiters: Array<() => void> = [];
  const push = (e: (typeof events)[number]) => {
    events.push(e);
    for (const w of waiters.splice(0)) w();
  };
  const stop = watchHub(hub, { onReload: (event) => push({ kind: "reload", event }), onError: (event) => push({ kind: "error", event }), debounce: 20 });
  stops.push(stop);
  let seen = 0;
  const next = (ms = 5000) =>
    new Promise<(typeof events)[number]>((resolve, reject) => {
      const check = () => {
        if (events.length > seen) return resolve(events[seen++]!);
        waiters.push(check);
      };
      setTimeout(() => reject(new Error(`no reload event within ${ms} ms (events: ${JSON.stringify(events)})`)), ms);
      check();
    });
  return { hub, dir, next, stop, events };
}

describe("watchHub", () => {
  test("a changed file is reloaded: the new version serves", async () => {
    const { hub, dir, next } = await watched({ "s/a.ts": "export function who(hub) { return 'v1'; }" });
    expect(hub.s.a.who()).toBe("v1");
    await Bun.write(join(dir, "s/a.ts"), "export function who(hub) { return 'v2'; }");
    const e = await next();
    expect(e.kind).toBe("reload");
    expect(e.event.ref).toBe("s.a");
    expect(e.event.file).toBe(join(dir, "s/a.ts"));
    expect(hub.s.a.who()).toBe("v2");
    await closeHub(hub);
  });

  test("a file that fails to load leaves the old version running and says why; fixing it reloads it", async () => {
    const { hub, dir, next } = await watched({ "s/a.ts": "export function who(hub) { return 'v1'; }" });
    await Bun.write(join(dir, "s/a.ts"), "export function who(hub) { return ;; (");
    const bad = await next();
    expect(bad.kind).toBe("error");
    expect(bad.event.error?.message).toContain(join(dir, "s/a.ts"));
    expect(bad.event.error?.message).toContain('module "s.a" not loaded');
    expect(hub.s.a.who()).toBe("v1");
    await Bun.write(join(dir, "s/a.ts"), "export function who(hub) { return 'v3'; }");
    expect((await next()).kind).toBe("reload");
    expect(hub.s.a.who()).toBe("v3");
    await closeHub(hub);
  });

  test("a call in flight finishes on the old module; the next call is the new one", async () => {
    const { hub, dir, next } = await watched({
      "s/a.ts":
        "let release;\nexport async function slow(hub) { await new Promise((r) => (release = r)); return 'old'; }\nexport function go(hub) { release(); }",
    });
    const inFlight = hub.s.a.slow();
    const go = hub.s.a.go;
    await Bun.write(join(dir, "s/a.ts"), "export async function slow(hub) { return 'new'; }");
    expect((await next()).kind).toBe("reload");
    go();
    expect(await inFlight).toBe("old");
    expect(await hub.s.a.slow()).toBe("new");
    await closeHub(hub);
  });

  test("the old module is shut down only once its calls in flight have settled: they finish with what it holds", async () => {
    const conn = (v: string) =>
      [
        "let open = true;",
        "export function __shutdown__(hub) { open = false; globalThis.POP_SHUT.push('" + v + "'); }",
        "export async function query(hub) { await globalThis.POP_GATE; if (!open) throw new Error('closed under a call'); return '" + v + "'; }",
      ].join("\n");
    const g = globalThis as any;
    g.POP_SHUT = [];
    let release!: () => void;
    g.POP_GATE = new Promise<void>((r) => (release = r));
    const { hub, dir, next } = await watched({ "s/c.ts": conn("v1") });
    const inFlight = hub.s.c.query();
    await Bun.write(join(dir, "s/c.ts"), conn("v2"));
    expect((await next()).kind).toBe("reload");
    expect(g.POP_SHUT).toEqual([]); // the old copy still holds its connection
    const second = hub.s.c.query(); // a new call goes to the new copy
    release();
    expect(await inFlight).toBe("v1");
    expect(await second).toBe("v2");
    await hub.pop.sub.reload("s.c"); // nothing in flight: the v2 copy is shut down before the reload returns
    expect(g.POP_SHUT).toEqual(["v1", "v2"]);
    await closeHub(hub);
  });

  test("a call on the old module that never settles: it is shut down after the shutdown timeout anyway, with a warning", async () => {
    const warnings: string[] = [];
    const g = globalThis as any;
    g.POP_SHUT = [];
    const { hub, dir, next } = await watched(
      {
        "s/c.ts":
          "export function __shutdown__(hub) { globalThis.POP_SHUT.push('v1'); globalThis.POP_SHUT_DONE(); }\nexport function hang(hub) { return new Promise(() => {}); }",
      },
      { shutdownTimeout: 100, warnings },
    );
    const shut = new Promise<void>((r) => (g.POP_SHUT_DONE = r));
    void hub.s.c.hang();
    await Bun.write(join(dir, "s/c.ts"), "export function hang(hub) { return 'v2'; }");
    expect((await next()).kind).toBe("reload");
    await shut;
    expect(g.POP_SHUT).toEqual(["v1"]);
    expect(warnings).toEqual([`${join(dir, "s/c.ts")}: 1 call still running on the old "s.c" after 100 ms; shutting it down anyway`]);
    await closeHub(hub);
  });

  test("an edited contract applies: the modules it applies to reload with it, the others do not", async () => {
    const { hub, dir, next, events } = await watched({
      "s/m.ts": "export function f(hub, x) { return x; }",
      "s/other.ts": "export function g(hub) { return 'g'; }",
      "s/contracts/m.ts": "export function pre_f(hub, ctx) { if (ctx.args[0] < 0) throw new Error('negative refused'); }",
    });
    expect(hub.s.m.f(5)).toBe(5);
    await Bun.write(join(dir, "s/contracts/m.ts"), "export function pre_f(hub, ctx) { if (ctx.args[0] < 10) throw new Error('under 10 refused'); }");
    const e = await next();
    expect(e).toEqual({ kind: "reload", event: { ref: "s.m", file: join(dir, "s/m.ts"), changed: join(dir, "s/contracts/m.ts") } });
    expect(() => hub.s.m.f(5)).toThrow("under 10 refused");
    expect(hub.s.m.f(12)).toBe(12);
    expect(events.map((x) => x.event.ref)).toEqual(["s.m"]);
    // A later reload of the module itself keeps the new contract.
    await Bun.write(join(dir, "s/m.ts"), "export function f(hub, x) { return x * 2; }");
    expect((await next()).event).toEqual({ ref: "s.m", file: join(dir, "s/m.ts") });
    expect(() => hub.s.m.f(5)).toThrow("under 10 refused");
    expect(hub.s.m.f(12)).toBe(24);
    await closeHub(hub);
  });

  test("an edited helper file: the modules importing it (directly or through another helper) reload with a fresh copy", async () => {
    const { hub, dir, next, events } = await watched({
      "s/_fmt.ts": "export const fmt = (x) => `v1:${x}`;",
      "s/_wrap.ts": 'import { fmt } from "./_fmt.ts";\nexport const wrap = (x) => `[${fmt(x)}]`;',
      "s/m.ts": 'import { fmt } from "./_fmt.ts";\nexport function show(hub) { return fmt(1) + " m1"; }',
      "s/w.ts": 'import { wrap } from "./_wrap.ts";\nexport function show(hub) { return wrap(2); }',
      "s/plain.ts": "export function show(hub) { return 'plain'; }",
    });
    expect(hub.s.m.show()).toBe("v1:1 m1");
    expect(hub.s.w.show()).toBe("[v1:2]");
    await Bun.write(join(dir, "s/_fmt.ts"), "export const fmt = (x) => `v2:${x}`;");
    const a = await next();
    const b = await next();
    expect([a.event.ref, b.event.ref].sort()).toEqual(["s.m", "s.w"]);
    expect(a.event.changed).toBe(join(dir, "s/_fmt.ts"));
    expect(hub.s.m.show()).toBe("v2:1 m1");
    expect(hub.s.w.show()).toBe("[v2:2]");
    // The module's own reload imports the helper as it is now, too.
    await Bun.write(join(dir, "s/m.ts"), 'import { fmt } from "./_fmt.ts";\nexport function show(hub) { return fmt(1) + " m2"; }');
    expect((await next()).event.ref).toBe("s.m");
    expect(hub.s.m.show()).toBe("v2:1 m2");
    expect(events.map((x) => x.event.ref)).not.toContain("s.plain");
    await closeHub(hub);
  });

  test("a watch counts calls through the call monitor: without one (and after its disposer) the functions are the bare ones", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "export function who(hub) { return 'v1'; }" });
    const hub: Hub = createHub({ warn: () => {} });
    await addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" });
    const bare = hub.s.a.who;
    const stopA = watchHub(hub);
    const stopB = watchHub(hub);
    expect(hub.s.a.who).not.toBe(bare);
    stopA();
    expect(hub.s.a.who).not.toBe(bare); // one watch still counts
    stopB();
    expect(hub.s.a.who).toBe(bare);
    expect(hub.s.a.who()).toBe("v1");
    await closeHub(hub);
  });

  test("the same bytes written again reload nothing; after the disposer, changes are ignored", async () => {
    const { hub, dir, next, stop, events } = await watched({ "s/a.ts": "export function who(hub) { return 'v1'; }", "s/b.ts": "export const x = 1;" });
    await Bun.write(join(dir, "s/a.ts"), "export function who(hub) { return 'v1'; }");
    await Bun.write(join(dir, "s/b.ts"), "export const x = 2;");
    const e = await next();
    expect(e.event.ref).toBe("s.b");
    expect(events.map((x) => x.event.ref)).toEqual(["s.b"]);
    stop();
    await Bun.write(join(dir, "s/b.ts"), "export const x = 3;");
    await expect(next(300)).rejects.toThrow(/no reload event/);
    expect(hub.s.b.x).toBe(2);
    await closeHub(hub);
  });
});

describe("watchHub: new files", () => {
  test("a new plugin file in an eager sub's folder is loaded as a new module (added: true); a helper is not", async () => {
    const { hub, dir, next, events } = await watched({ "s/a.ts": "export function who(hub) { return 'a'; }" });
    await Bun.write(join(dir, "s/_helper.ts"), "export const x = 1;");
    await Bun.write(join(dir, "s/n.ts"), "export function who(hub) { return 'n'; }");
    const e = await next();
    expect(e).toEqual({ kind: "reload", event: { ref: "s.n", file: join(dir, "s/n.ts"), added: "module" } });
    expect(hub.s.n.who()).toBe("n");
    await Bun.sleep(200);
    expect(events).toHaveLength(1);
    await closeHub(hub);
  });

  test("a new folder in an eager sub's folder becomes a sub-sub, loaded whole; files written into it afterwards too", async () => {
    const { hub, dir, next } = await watched({ "s/a.ts": "export function who(hub) { return 'a'; }" });
    // Made elsewhere and moved in whole (as a copy or a checkout does): its files are there when it appears.
    writeTree(join(dir, "elsewhere"), { "admin/x.ts": "export function who(hub) { return 'x'; }" });
    renameSync(join(dir, "elsewhere/admin"), join(dir, "s/admin"));
    expect(await next()).toEqual({ kind: "reload", event: { ref: "s.admin", file: join(dir, "s/admin"), added: "sub" } });
    expect(hub.s.admin.x.who()).toBe("x");
    await Bun.write(join(dir, "s/admin/y.ts"), "export function who(hub) { return 'y'; }");
    expect(await next()).toEqual({ kind: "reload", event: { ref: "s.admin.y", file: join(dir, "s/admin/y.ts"), added: "module" } });
    expect(hub.s.admin.y.who()).toBe("y");
    // Not sub-subs: a reserved name, a private one.
    mkdirSync(join(dir, "s/_private"));
    mkdirSync(join(dir, "s/contracts"));
    await expect(next(300)).rejects.toThrow(/no reload event/);
    await closeHub(hub);
  });
});

describe("watchHub on an isolated sub", () => {
  test("a changed file, a new file or a new folder restarts its side (what came is on the hub); once the sub is removed, a change does nothing", async () => {
    const dir = writeTree(tmp(), { "side/m.ts": "export const V = 1;\nexport function f(hub) { return 'f1'; }" });
    const hub = createHub();
    const { isolateSub } = await import("../src/isolate/index.ts");
    await isolateSub(hub, "side", { mode: "worker", folders: [join(dir, "side")], source: "test" });
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    stops.push(watchHub(hub, { onReload: (e) => void events.push(e), onError: (e) => void errors.push(e.error), debounce: 20 }));
    expect(await hub.side.m.f()).toBe("f1");
    await Bun.write(join(dir, "side/m.ts"), "export const V = 2;\nexport function f(hub) { return 'f2'; }\nexport function g(hub) { return 'g'; }");
    for (let i = 0; i < 100 && events.length === 0; i++) await Bun.sleep(50);
    expect(events).toEqual([{ ref: "side", file: join(dir, "side/m.ts") }]);
    expect(errors).toEqual([]);
    expect(await hub.side.m.f()).toBe("f2");
    expect(await hub.side.m.g()).toBe("g");
    expect(hub.side.m.V).toBe(2);
    // A new file, and a new folder (a sub-sub) with a file in it: the side restarts with them.
    const until = async (what: () => unknown) => {
      for (let i = 0; i < 100 && !what(); i++) await Bun.sleep(50);
    };
    await Bun.write(join(dir, "side/n.ts"), "export function h(hub) { return 'h'; }");
    await until(() => hub.side.n);
    expect(await hub.side.n.h()).toBe("h");
    mkdirSync(join(dir, "side/deep"));
    await Bun.sleep(100);
    await Bun.write(join(dir, "side/deep/x.ts"), "export function y(hub) { return 'y'; }");
    await until(() => hub.side.deep?.x);
    expect(await hub.side.deep.x.y()).toBe("y");
    expect(errors).toEqual([]);
    const before = events.length;
    await hub.pop.sub.remove("side");
    await Bun.write(join(dir, "side/m.ts"), "export function f(hub) { return 'f3'; }");
    await Bun.sleep(500);
    expect(events).toHaveLength(before);
    expect(errors).toEqual([]);
    expect(hub.side).toBeUndefined();
    await closeHub(hub);
  }, 20_000);

  test("closing the hub while a replaced side still runs a call ends that side too, its __shutdown__ run", async () => {
    const dir = tmp();
    const marker = join(dir, "marker");
    writeTree(dir, {
      "side/m.ts": [
        "import { appendFileSync } from 'node:fs';",
        "export async function slow(hub, ms) { await Bun.sleep(ms); return 'slow'; }",
        "export function v(hub) { return 1; }",
        `export function __shutdown__(hub) { appendFileSync(${JSON.stringify(marker)}, 'v1\\n'); }`,
      ].join("\n"),
    });
    const hub = createHub({ shutdownTimeout: 5000 });
    const { isolateSub } = await import("../src/isolate/index.ts");
    await isolateSub(hub, "side", { mode: "worker", folders: [join(dir, "side")], source: "test" });
    const events: WatchEvent[] = [];
    stops.push(watchHub(hub, { onReload: (e) => void events.push(e), debounce: 20 }));
    const held = hub.side.m.slow(30_000).then(
      () => "resolved",
      (e: Error) => e.name,
    );
    await Bun.sleep(100);
    await Bun.write(join(dir, "side/m.ts"), "export function v(hub) { return 2; }");
    for (let i = 0; i < 100 && events.length === 0; i++) await Bun.sleep(50);
    expect(await hub.side.m.v()).toBe(2);
    const t0 = performance.now();
    await closeHub(hub);
    expect(await held).toBe("IsolateError");
    expect(performance.now() - t0).toBeLessThan(4000); // ended by the close: not after the 30 s call, nor the 5 s drain wait
    expect(await Bun.file(marker).text()).toBe("v1\n");
  }, 20_000);
});
