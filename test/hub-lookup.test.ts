// Lazy lookups through the binary: a ref finds what `pop tree` (everything loaded) shows, and its misses say why.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pop, tmp, writeTree } from "./helpers.ts";

/** Sub u: m.ts re-exports a module named "a", n.ts is "b" behind an async __virtual__; a and other log each __init__ run. */
function project(): { dir: string; log: string } {
  const dir = writeTree(tmp(), {
    "r/lib/impl.ts":
      'import { appendFileSync } from "node:fs";\nexport const __virtualname__ = "a";\nexport function __init__(hub: any) { appendFileSync(process.env.INIT_LOG!, "a\\n"); }\nexport function f(hub: any) { return 42; }\n',
    "r/u/m.ts": 'export * from "../lib/impl.ts";\n',
    "r/u/n.ts":
      'export const __virtualname__ = "b";\nexport async function __virtual__(hub: any) { return true; }\nexport function f(hub: any) { return 7; }\n',
    "r/v/m.ts": 'export * from "../lib/impl.ts";\n',
    "r/w/call.ts": "export function viaHub(hub: any) { return hub.v.a.f(); }\n",
    "r/u/other.ts":
      'import { appendFileSync } from "node:fs";\nexport function __init__(hub: any) { appendFileSync(process.env.INIT_LOG!, "other\\n"); }\nexport function g(hub: any) { return 1; }\n',
  });
  return { dir, log: join(dir, "init.log") };
}

describe("lazy lookup of a __virtualname__", () => {
  test("pop tree and a lazy pop call agree on modules named by __virtualname__", async () => {
    const { dir, log } = project();
    const env = { INIT_LOG: log };
    const tree = await pop(["tree", "--plugins", "r", "--json"], { cwd: dir, env });
    expect(tree.code).toBe(0);
    expect(tree.stdout).toContain('"u.a"');
    expect(tree.stdout).toContain('"u.b"');
    const a = await pop(["call", "u.a.f", "--plugins", "r"], { cwd: dir, env });
    expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }).toEqual({ code: 0, stdout: "42\n", stderr: "" });
    // The module behind an async __virtual__ is loaded the async way, not refused as "cannot load on first access".
    const b = await pop(["call", "u.b.f", "--plugins", "r"], { cwd: dir, env });
    expect({ code: b.code, stdout: b.stdout, stderr: b.stderr }).toEqual({ code: 0, stdout: "7\n", stderr: "" });
    // Plugin code reading hub.v.a (the sub's synchronous lookup) finds a re-exported name too.
    const via = await pop(["call", "w.call.viaHub", "--plugins", "r"], { cwd: dir, env });
    expect({ code: via.code, stdout: via.stdout, stderr: via.stderr }).toEqual({ code: 0, stdout: "42\n", stderr: "" });
  });

  test("a miss loads the sub's other modules once, and a module that is not there is still an error with a suggestion", async () => {
    const { dir, log } = project();
    const env = { INIT_LOG: log };
    const r = await pop(["call", "u.c.f", "--plugins", "r"], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('pop: no module or sub "u.c" in "u.c.f"; did you mean "u.a.f"?\n');
    expect(readFileSync(log, "utf8")).toBe("a\nother\n");
    const none = await pop(["call", "u.zzzzzz.f", "--plugins", "r"], { cwd: dir, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('pop: no module or sub "u.zzzzzz" in "u.zzzzzz.f"; run "pop tree" to list what the hub holds\n');
    expect(readFileSync(log, "utf8")).toBe("a\nother\na\nother\n");
  });

  test("a ref to a file module loads nothing else", async () => {
    const { dir, log } = project();
    const r = await pop(["call", "u.other.g", "--plugins", "r"], { cwd: dir, env: { INIT_LOG: log } });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "1\n" });
    expect(readFileSync(log, "utf8")).toBe("other\n");
  });
});
