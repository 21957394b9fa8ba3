// Loading and subs, through dist/pop: plugin files, nested subs, init.ts, __init__, lazy and eager, data on the hub.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const LOADING = join(ROOT, "test/fixtures/hub/loading");

/** `pop call REF ... --json` against the loading fixture; asserts exit 0 and a clean stderr, returns the parsed result. */
async function call(ref: string, ...params: string[]): Promise<unknown> {
  const r = await pop(["call", ref, ...params, "--plugins", LOADING, "--json"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

describe("plugins and subs", () => {
  test("a .ts plugin's function is called with the hub and an object argument (async)", async () => {
    expect(await call("rpc.math.fib", "num=11")).toBe(89);
  });

  test("a sync function works the same", async () => {
    expect(await call("rpc.math.triple", "num=4")).toBe(12);
  });

  test("a .js plugin is a plugin too", async () => {
    expect(await call("rpc.strings.upper", "text=pop")).toBe("POP");
  });

  test("sub-folders are sub-subs, nested to any depth", async () => {
    expect(await call("rpc.nested.deep.where")).toBe("rpc.nested.deep");
    expect(await call("rpc.nested.deeper.leaf.where")).toBe("rpc.nested.deeper.leaf");
  });

  test("every sub-folder of a plugin root is a sub", async () => {
    expect(await call("probe.check.subs")).toEqual(["pop", "probe", "rpc"]);
  });

  test("init.ts's __init__ runs when the sub is added; the sub keeps its data on its own namespace", async () => {
    expect(await call("rpc.init.app")).toEqual({ name: "poppy" });
    expect(await call("probe.check.data")).toEqual({ app: { name: "poppy" }, log: ["rpc.init"], nestedReady: true });
  });

  test("names starting with _ never appear on the hub; exported values are readable beside the functions (hub.rpc.math.LIMIT)", async () => {
    expect(await call("probe.check.keys", "ref=rpc.math")).toEqual(["LIMIT", "add", "fib", "triple"]);
    expect(await call("pop.ref.last", "--args", '["rpc.math.LIMIT"]')).toBe(100);
    const r = await pop(["call", "rpc.math._times", "--args", "[2, 3]", "--plugins", LOADING]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no function "rpc.math._times"');
  });

  test("__func_alias__ renames exports on the hub", async () => {
    expect(await call("rpc.records.delete", "id=7")).toBe("deleted 7");
    expect(await call("rpc.records.list")).toEqual(["delete", "list"]);
    expect((await pop(["call", "rpc.records.del_", "--plugins", LOADING])).code).toBe(2);
  });

  test("__virtualname__ puts a module on the hub under another name, also when reached from another plugin", async () => {
    expect(await call("rpc.alias.who")).toBe("named.ts as alias");
    expect(await call("probe.check.last", "ref=rpc.alias.who")).toBe("named.ts as alias");
    expect(await call("probe.check.alias")).toBe("named.ts as alias");
    expect((await pop(["call", "rpc.named.who", "--plugins", LOADING])).code).toBe(2);
  });

  test("positional arguments come from --args", async () => {
    expect(await call("rpc.math.add", "--args", "[2, 40]")).toBe(42);
  });
});

describe("lazy and eager", () => {
  test("subs are lazy by default: a module loads on first use and then is a plain object", async () => {
    expect(await call("probe.check.lazy")).toEqual({ before: false, result: 6, after: true });
  });

  test("reading data that is not set yet does not load the sub's modules", async () => {
    expect(await call("probe.check.dataMiss")).toEqual({ value: null, mathLoaded: false, aliasLoaded: true });
  });

  test("functions are bound once, not rebuilt per access", async () => {
    expect(await call("probe.check.stable")).toBe(true);
  });

  test("a lazy module's async __init__ finishes before its functions run", async () => {
    expect(await call("probe.check.slow")).toBe(true);
    expect(await call("rpc.slow.ready")).toBe(true);
  });

  test('hub.pop.sub.add({ path, name, load: "eager" }) runs init first, then each module\'s __init__ in name order (async ones awaited)', async () => {
    expect(await call("probe.check.addEager")).toEqual({ order: ["init", "a", "b", "c"], hello: "hello you", again: true });
  });

  test("a lazy sub runs only init.ts at add; hub.pop.sub.load(ref) loads the rest", async () => {
    expect(await call("probe.check.addLazy")).toEqual({ before: ["init"], after: ["init", "a", "b", "c"] });
  });

  test("files that are not plugins are ignored: tests, declarations, _private files and folders, contracts", async () => {
    const dir = writeTree(tmp(), {
      "s/ok.ts": "export function f(hub) { return 1; }",
      "s/ok.test.ts": "throw new Error('a test file is not a plugin');",
      "s/types.d.ts": "export declare const x: number;",
      "s/_helper.ts": "throw new Error('private file');",
      "s/_private/x.ts": "throw new Error('private folder');",
      "s/README.md": "# not a plugin",
    });
    const r = await pop(["tree", "--plugins", dir, "--json"]);
    expect(r.stderr).toBe("");
    const sub = JSON.parse(r.stdout).subs.find((s: { name: string }) => s.name === "s");
    expect(sub.modules.map((m: { name: string }) => m.name)).toEqual(["ok"]);
    expect(sub.subs).toEqual([]);
  });
});
