// The hub core in-process: the call chain, suggestions, error descriptions, and a hub built with createHub/addSub.
import { describe, expect, test } from "bun:test";
import { types } from "node:util";
import { z } from "zod";
import { runChain } from "../src/hub/_call.ts";
import { describeThrow, locateInStack, oneLine } from "../src/hub/_errors.ts";
import { closest } from "../src/_suggest.ts";
import type { Chain, ContractFn } from "../src/hub/_types.ts";
import { addSub, ContractError, createHub, discoverRoots, type Hub, PluginLoadError, RefError, resolveRef } from "../src/hub/index.ts";
import { tmp, writeTree } from "./helpers.ts";

function chain(over: Partial<Chain> = {}): Chain {
  return { hub: {} as Hub, ref: "s.m.f", func: (_hub: Hub, a: number, b: number) => a + b, pre: [], call: undefined, post: [], schema: undefined, ...over };
}

describe("runChain", () => {
  test("stays synchronous when every step is", () => {
    const trace: string[] = [];
    const pre: ContractFn = (_h, ctx) => void trace.push(`pre ${ctx.args.join(",")}`);
    const post: ContractFn = (_h, ctx) => void trace.push(`post ${ctx.ret}`);
    const ret = runChain(chain({ pre: [pre], post: [post] }), [1, 2]);
    expect(ret).toBe(3);
    expect(trace).toEqual(["pre 1,2", "post 3"]);
  });

  test("an async pre makes the rest async, in order; pre may replace the args", async () => {
    const trace: string[] = [];
    const pre1: ContractFn = async (_h, ctx) => {
      await null;
      ctx.args = [10, 20];
      trace.push("pre1");
    };
    const pre2: ContractFn = (_h, ctx) => void trace.push(`pre2 ${ctx.args.join(",")}`);
    const ret = runChain(chain({ pre: [pre1, pre2] }), [1, 2]);
    expect(ret).toBeInstanceOf(Promise);
    expect(await ret).toBe(30);
    expect(trace).toEqual(["pre1", "pre2 10,20"]);
  });

  test("call wraps the function; post sees ctx.ret and may replace it, sync or async; undefined keeps it", async () => {
    const call: ContractFn = (hub, ctx) => (ctx.func(hub, ...ctx.args) as number) * 100;
    const keep: ContractFn = () => undefined;
    const twice: ContractFn = async (_h, ctx) => (ctx.ret as number) * 2;
    expect(await runChain(chain({ call, post: [keep, twice, keep] }), [1, 2])).toBe(600);
  });

  test("a throwing pre refuses the call", () => {
    let called = false;
    const c = chain({
      func: () => (called = true),
      pre: [
        () => {
          throw new RangeError("no");
        },
      ],
    });
    expect(() => runChain(c, [])).toThrow(RangeError);
    expect(called).toBe(false);
  });

  test("schemas coerce the argument and check the result; errors name the ref and the field", async () => {
    const schema = { arg: z.object({ n: z.coerce.number() }), ret: z.number() };
    const c = chain({ func: (_h: Hub, { n }: { n: number }) => n * 2, schema });
    expect(runChain(c, [{ n: "21" }])).toBe(42);
    expect(() => runChain(c, [{ n: "x" }])).toThrow('Invalid argument "n" for "s.m.f"');
    const bad = chain({ func: async () => "text", schema: { ret: z.number() } });
    const err = await (runChain(bad, []) as Promise<unknown>).catch((e) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect((err as ContractError).ref).toBe("s.m.f");
    expect((err as Error).message).toBe('Invalid return value for "s.m.f": Invalid input: expected number, received string (got "text")');
  });
});

describe("closest", () => {
  test.each([
    ["fbi", ["fib", "triple"], "fib"],
    ["mtah", ["math", "strings"], "math"],
    ["Math", ["math"], "math"],
    ["zzz", ["math", "fib"], undefined],
    ["a", [], undefined],
  ])("%s among %j -> %s", (word, names, want) => {
    expect(closest(word, names)).toBe(want);
  });
});

describe("error descriptions", () => {
  test("oneLine collapses line breaks", () => {
    expect(oneLine("a\n  b\r\nc ")).toBe("a b c");
  });

  test("a throw is located at the first frame in the file, else in a file the plugin imported", () => {
    const stack = "Error: x\n    at helper (/p/s/_h.ts:3:5)\n    at /p/s/a.ts:7:2";
    expect(locateInStack(stack, "/p/s/a.ts")).toEqual({ file: "/p/s/a.ts", line: 7, column: 2 });
    expect(locateInStack(stack, "/p/s/b.ts")).toEqual({ file: "/p/s/_h.ts", line: 3, column: 5 });
    expect(locateInStack("", "/p/s/b.ts")).toEqual({ file: "/p/s/b.ts" });
  });

  test("real import failures: syntax error, unresolved import, throw", async () => {
    const dir = writeTree(tmp(), {
      "syntax.ts": "export const a = 1;\nexport const b = ;\n",
      "missing.ts": "export const a = 1;\nimport x from './nowhere.ts';\nexport const b = x;\n",
      "throws.ts": "\nthrow new TypeError('bad\\nthing');\n",
    });
    const fail = (f: string) =>
      import(`${dir}/${f}`).then(
        () => undefined,
        (e: unknown) => describeThrow(e, `${dir}/${f}`),
      );
    expect(await fail("syntax.ts")).toMatchObject({ reason: expect.stringMatching(/^syntax error: /), location: { file: `${dir}/syntax.ts`, line: 2 } });
    expect(await fail("missing.ts")).toMatchObject({
      reason: expect.stringMatching(/^cannot resolve import: .*; check the path$/),
      location: { file: `${dir}/missing.ts`, line: 2 },
    });
    expect(await fail("throws.ts")).toEqual({ reason: "threw TypeError: bad thing", location: { file: `${dir}/throws.ts`, line: 2, column: 11 } });
  });
});

describe("a hub in-process", () => {
  const files = {
    "s/init.ts": "export function __init__(hub) { hub.s.READY = true; }",
    "s/a.ts": "export function f(hub, x) { return x + 1; }\nexport function _private(hub) {}",
    "s/b.ts": "export async function __init__(hub) { await null; hub.s.B = 'ready'; }\nexport function g(hub) { return hub.s.B; }",
    "s/bad.ts": "throw new Error('bad');",
  };

  test("createHub holds the pop sub; addSub adds a lazy sub whose init has run", async () => {
    const hub = createHub({ warn: () => {} });
    expect(Object.keys(hub)).toEqual(["OPT", "pop"]);
    const s = await addSub(hub, { path: `${writeTree(tmp(), files)}/s`, name: "s" });
    expect(hub.s).toBe(s);
    expect(hub.s.READY).toBe(true);
    expect(Object.hasOwn(hub.s, "a")).toBe(false);
    expect(hub.s.a.f(1)).toBe(2);
    expect(Object.getOwnPropertyDescriptor(hub.s, "a")).toMatchObject({ enumerable: true, writable: true });
    expect(Object.keys(hub.s.a)).toEqual(["f"]);
  });

  test("no Proxy on the call path: hub, sub, module and function are plain", async () => {
    const hub = createHub({ warn: () => {} });
    await addSub(hub, { path: `${writeTree(tmp(), files)}/s`, name: "s", load: "eager" });
    for (const v of [hub, hub.s, hub.s.a, hub.s.a.f, hub.pop.ref.last]) expect(types.isProxy(v)).toBe(false);
  });

  test("eager: every module loaded, async __init__ awaited, failures recorded with their file", async () => {
    const warnings: string[] = [];
    const hub = createHub({ warn: (m) => warnings.push(m) });
    await addSub(hub, { path: `${writeTree(tmp(), files)}/s`, name: "s", load: "eager" });
    expect(hub.s.B).toBe("ready");
    expect(hub.s.b.g()).toBe("ready");
    expect(hub.pop.sub.failures()).toEqual([{ ref: "s.bad", file: expect.stringMatching(/s\/bad\.ts$/), line: 1, reason: "threw Error: bad" }]);
    expect(warnings).toEqual([expect.stringContaining('module "s.bad" not loaded: threw Error: bad')]);
    expect(() => hub.s.bad).toThrow(PluginLoadError);
  });

  test("strict: the first load failure throws from addSub", async () => {
    const hub = createHub({ strict: true });
    const err = await addSub(hub, { path: `${writeTree(tmp(), files)}/s`, name: "s", load: "eager" }).catch((e) => e);
    expect(err).toBeInstanceOf(PluginLoadError);
    expect((err as PluginLoadError).ref).toBe("s.bad");
  });

  test("lazy access to a module whose async __init__ rejects: its calls reject with the load error, nothing goes unhandled (also when strict)", async () => {
    for (const strict of [false, true]) {
      const hub = createHub({ strict, warn: () => {} });
      const dir = writeTree(tmp(), {
        "s/m.ts": "export async function __init__(hub) { await null; throw new Error('late'); }\nexport function f(hub) { return 1; }",
      });
      await addSub(hub, { path: `${dir}/s`, name: "s" });
      const err = await hub.s.m.f().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PluginLoadError);
      expect((err as Error).message).toContain("__init__ threw Error: late");
      await hub.pop.sub.load("s.m");
      expect(hub.pop.sub.failures().map((f: { ref: string }) => f.ref)).toEqual(["s.m"]);
      expect(Object.hasOwn(hub.s, "m")).toBe(false);
    }
  });

  test("__init__ runs once, however often the module is reached", async () => {
    const hub = createHub({ warn: () => {} });
    const dir = writeTree(tmp(), {
      "s/m.ts": "export function __init__(hub) { hub.s.COUNT = (hub.s.COUNT ?? 0) + 1; }\nexport function f(hub) { return hub.s.COUNT; }",
    });
    await addSub(hub, { path: `${dir}/s`, name: "s" });
    for (let i = 0; i < 3; i++) hub.s.m.f();
    await hub.pop.sub.load("s");
    await hub.pop.sub.load();
    expect(hub.s.m.f()).toBe(1);
  });

  test("resolveRef walks and suggests; a RefError carries the suggestion", async () => {
    const hub = createHub({ warn: () => {} });
    await addSub(hub, { path: `${writeTree(tmp(), files)}/s`, name: "s" });
    expect(resolveRef(hub, "s.a.f").last).toBe(hub.s.a.f);
    const err = (() => {
      try {
        resolveRef(hub, "s.a.g");
      } catch (e) {
        return e as RefError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(RefError);
    expect(err?.message).toBe('no function "s.a.g"; did you mean "s.a.f"?');
    expect(err?.suggestion).toBe("s.a.f");
  });

  test("hub.pop.sub.add({ dyneName }) adds what the roots registered; an unknown dyne names the known ones", async () => {
    const root = writeTree(tmp(), { "rpc/math.ts": "export function two(hub) { return 2; }", "web/x.ts": "export function f(hub) {}" });
    const hub = createHub({ roots: await discoverRoots({ plugins: [root] }), warn: () => {} });
    expect(hub.pop.sub.list()).toEqual(["pop"]);
    await hub.pop.sub.add({ dyneName: "rpc", load: "eager" });
    expect(hub.rpc.math.two()).toBe(2);
    expect(hub.pop.sub.list()).toEqual(["pop", "rpc"]);
    expect(hub.pop.sub.add({ dyneName: "rcp" })).rejects.toThrow('no dyne "rcp" (known: rpc, web); add its plugin root with --plugins DIR or POP_PLUGIN_PATH');
  });

  test("adding a sub twice: the same folders give the same sub, other folders an error", async () => {
    const hub = createHub({ warn: () => {} });
    const dir = writeTree(tmp(), files);
    const first = await addSub(hub, { path: `${dir}/s`, name: "s" });
    expect(await addSub(hub, { path: `${dir}/s`, name: "s" })).toBe(first);
    expect(addSub(hub, { path: tmp(), name: "s" })).rejects.toThrow('sub "s" is already on the hub');
    expect(addSub(hub, { path: tmp(), name: "pop" })).rejects.toThrow('cannot add a sub named "pop"');
  });
});
