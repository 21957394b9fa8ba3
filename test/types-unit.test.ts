import { expect, test } from "bun:test";
import { join } from "node:path";
import type { PluginRoot } from "../src/hub/_discover.ts";
import { renderHub } from "../src/types/_emit.ts";
import { scanRoots } from "../src/types/_scan.ts";
import { tmp, writeTree } from "./helpers.ts";

function root(dir: string, dyne: Record<string, string[]>, disable: string[] = []): PluginRoot {
  return { dir, source: "test", dyne, disable, conf: undefined, confFile: undefined };
}

test("scanRoots reads __virtualname__, __func_alias__ and __override__ from the text, and follows the hub's listing", () => {
  const a = writeTree(tmp("pop-scan-a-"), {
    "rpc/math.ts": "export function fib() {}\n",
    "rpc/strs.ts": `export const __virtualname__ = 'text';\nexport const __func_alias__ = { "del_": "delete", list_: 'list' };\n`,
    "rpc/_private.ts": "export function x() {}\n",
    "rpc/math.test.ts": "",
    "rpc/types.d.ts": "",
    "rpc/contracts/math.ts": "export function pre() {}\n",
    "rpc/admin/users.ts": "export function list() {}\n",
    "rpc/test/helper.ts": "",
  });
  const b = writeTree(tmp("pop-scan-b-"), {
    "rpc/math.ts": "export const __override__ = true;\n",
    "rpc/words.ts": "export const __virtualname__ = 'text';\n", // a second "text": it clashes, the first stays
    "rpc/more.ts": "",
    "rpc/off.ts": "",
  });
  const subs = scanRoots([root(a, { rpc: [join(a, "rpc")] }), root(b, { rpc: [join(b, "rpc")], pop: [join(b, "rpc")] }, ["rpc.off"])]);
  expect([...subs.keys()]).toEqual(["rpc"]); // "pop" is pop's own
  const rpc = subs.get("rpc")!;
  expect([...rpc.modules.keys()].sort()).toEqual(["math", "more", "text"]);
  expect(rpc.modules.get("math")!.file).toBe(join(b, "rpc/math.ts"));
  expect(rpc.modules.get("text")).toEqual({ file: join(a, "rpc/strs.ts"), alias: { del_: "delete", list_: "list" } });
  expect([...rpc.subs.keys()]).toEqual(["admin"]);
  expect([...rpc.subs.get("admin")!.modules.keys()]).toEqual(["users"]);
});

test("scanRoots follows the hub on a __virtualname__ that another file holds, and on a file name two roots define", () => {
  const r = writeTree(tmp("pop-scan-vn-"), {
    "s/one.ts": 'export const __virtualname__ = "same";\n',
    "s/two.ts": 'export const __virtualname__ = "same";\n', // "same" is one.ts's by then: refused
    "s/three.ts": 'export const __virtualname__ = "two";\n', // two.ts holds "two" (not loaded yet): refused
    "t/a.ts": 'export const __virtualname__ = "b";\n', // b.ts holds "b" and loads: refused
    "t/b.ts": "",
    "u/a.ts": 'export const __virtualname__ = "z";\n', // a free name: a.ts is "z", its file name is free again
    "u/m.ts": 'export const __virtualname__ = "a";\n',
    "v/x.ts": 'export const __virtualname__ = "y";\n', // y.ts holds "y" but is disabled: x.ts takes it
    "v/y.ts": "",
    "w/x.ts": 'export const __virtualname__ = "y";\n', // y.ts holds "y" and loads: x.ts is refused
    "w/y.ts": "",
    "x/m.ts": "", // a file and a folder of one name: the folder is the sub-sub, the file is not loaded
    "x/m/n.ts": "",
  });
  // one.ts again, no __override__: neither loads, so "same" is free for two.ts, and "two" is two.ts's file name still.
  const dyne = { s: [join(r, "s")], t: [join(r, "t")], u: [join(r, "u")], v: [join(r, "v")], w: [join(r, "w")], x: [join(r, "x")] };
  const names = (subs: Map<string, { modules: Map<string, { file: string }> }>, sub: string) =>
    Object.fromEntries([...subs.get(sub)!.modules].map(([n, m]) => [n, m.file.slice(r.length + 1)]));
  const subs = scanRoots([root(r, dyne, ["v.y"])]);
  expect(names(subs, "s")).toEqual({ same: "s/one.ts" });
  expect(names(subs, "t")).toEqual({ b: "t/b.ts" });
  expect(names(subs, "u")).toEqual({ z: "u/a.ts", a: "u/m.ts" });
  expect(names(subs, "v")).toEqual({ y: "v/x.ts" });
  expect(names(subs, "w")).toEqual({ y: "w/y.ts" });
  expect(names(subs, "x")).toEqual({});
  expect(renderHub(subs, [], join(r, ".pop"))).toContain(
    '    x: SubState & {\n      m: SubState & {\n        n: PluginModule<typeof import("../x/m/n.ts")>;\n      };\n    };\n',
  );
  const other = writeTree(tmp("pop-scan-vn2-"), { "s/one.ts": "" });
  const merged = scanRoots([root(r, { s: [join(r, "s")] }), root(other, { s: [join(other, "s")] })]);
  expect(names(merged, "s")).toEqual({ same: "s/two.ts" });
});

test("renderHub: relative specifiers with forward slashes, quoted names that are not identifiers, OPT per project", () => {
  const dir = writeTree(tmp("pop-emit-"), { "my-sub/a-b.ts": "", "my-sub/nested/c.ts": "", "conf.ts": "" });
  const subs = scanRoots([root(dir, { "my-sub": [join(dir, "my-sub")] })]);
  const text = renderHub(subs, [{ name: "my-app", confFile: join(dir, "conf.ts") }], join(dir, ".pop"));
  expect(text).toContain(
    `    "my-sub": SubState & {\n      "a-b": PluginModule<typeof import("../my-sub/a-b.ts")>;\n      nested: SubState & {\n        c: PluginModule<typeof import("../my-sub/nested/c.ts")>;\n      };\n    };\n`,
  );
  expect(text).toContain(`    OPT: {\n      "my-app": ProjectOptions<typeof import("../conf.ts")>;\n    };\n`);
  expect(renderHub(new Map(), [], dir)).not.toContain("OPT");
  // A JavaScript plugin's `any` is not a missing file: it stays `any` (Typed false).
  const js = writeTree(tmp("pop-emit-js-"), { "s/legacy.js": "", "s/aliased.mjs": "export const __func_alias__ = { a_: 'a' };\n" });
  const jsText = renderHub(scanRoots([root(js, { s: [join(js, "s")] })]), [], join(js, ".pop"));
  expect(jsText).toContain('      legacy: PluginModule<typeof import("../s/legacy.js"), {}, false>;\n');
  expect(jsText).toContain('      aliased: PluginModule<typeof import("../s/aliased.mjs"), { a_: "a" }, false>;\n');
});
