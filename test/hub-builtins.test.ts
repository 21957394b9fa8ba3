// Built-in plugins live in plugins/pop, in the format users write, and ship inside the executable: each must be registered in src/hub/_builtins.ts.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_POP } from "../src/hub/_builtins.ts";
import { moduleName } from "../src/hub/_scan.ts";
import { pop, ROOT, tmp } from "./helpers.ts";

const DIR = join(ROOT, "plugins/pop");
const files = readdirSync(DIR)
  .filter((f) => moduleName(f) !== undefined)
  .sort();

describe("plugins/pop and src/hub/_builtins.ts", () => {
  test("plugins/pop holds plugin files", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files)('plugins/pop/%s imports only types from "pop" and values from the one internal module (src/hub/_internal.ts)', (file) => {
    const imports = readFileSync(join(DIR, file), "utf8")
      .split("\n")
      .filter((l) => /^import /.test(l));
    for (const line of imports) {
      // A value import of "pop" would load zod (and the config integrator) on every pop call: the built-ins are bundled into start-up.
      if (/ from "pop";$/.test(line)) expect(line).toMatch(/^import type /);
      else if (!/^import type /.test(line)) expect(line).toEndWith('from "../../src/hub/_internal.ts";');
    }
  });

  // Every built-in plugin folder keeps to what a user's plugin could import: "pop" (types only where the folder is
  // bundled into a start-up path that must not load zod), node: builtins, its own folder, and the one internal module.
  const OTHERS: Array<[string, boolean]> = [
    ["plugins/create", false],
    ["plugins/service", true],
  ];
  test.each(OTHERS)('%s imports only "pop", node: builtins, its own files and src/hub/_internal.ts', (dir, popValues) => {
    const names = readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".ts"));
    expect(names.length).toBeGreaterThan(0);
    for (const file of names) {
      // Import lines at the start of a line outside template strings: the templates' own text is indented or quoted.
      const lines = readFileSync(join(ROOT, dir, file), "utf8").split("\n");
      const imports = lines
        .slice(
          0,
          lines.findIndex((l) => l !== "" && !/^(import |\/\/|\/\*| \*)/.test(l)),
        )
        .filter((l) => l.startsWith("import "));
      for (const line of imports) {
        const from = / from "([^"]+)";$/.exec(line)?.[1] ?? /^import "([^"]+)";$/.exec(line)?.[1];
        const where = `${dir}/${file}: ${line}`;
        if (from === "pop") {
          if (!popValues) expect(line, where).toMatch(/^import type /);
        } else if (!from?.startsWith("node:") && !from?.startsWith("./")) expect(from, where).toBe("../../src/hub/_internal.ts");
      }
    }
  });

  test.each(files)("plugins/pop/%s is registered under its module name, with its exports and its source", async (file) => {
    const name = moduleName(file)!;
    const entry = BUILTIN_POP[name];
    if (!entry)
      throw new Error(
        `plugins/pop/${file} is not registered: add \`${name}: { file: "plugins/pop/${file}", exports: ${name}, source: sourceOf("plugins/pop/${file}") }\` to src/hub/_builtins.ts`,
      );
    expect(entry.file).toBe(`plugins/pop/${file}`);
    expect(entry.exports).toBe(await import(join(DIR, file)));
    expect(entry.source, `add source: sourceOf("plugins/pop/${file}") to its entry so pop tree shows its docs`).toBe(readFileSync(join(DIR, file), "utf8"));
  });

  test("nothing is registered that is not in plugins/pop", () => {
    expect(Object.keys(BUILTIN_POP).sort()).toEqual(files.map((f) => moduleName(f)!).sort());
  });

  test("the executable carries them: pop tree from an empty folder lists each, with its functions' docs", async () => {
    const r = await pop(["tree", "--json"], { cwd: tmp() });
    expect(r.code).toBe(0);
    const popSub = JSON.parse(r.stdout).subs.find((s: { name: string }) => s.name === "pop");
    expect(popSub.modules.map((m: { name: string }) => m.name).sort()).toEqual(files.map((f) => moduleName(f)!).sort());
    for (const m of popSub.modules) {
      expect(m.state).toBe("loaded");
      for (const f of m.functions) expect(f.doc, `${f.ref} has no doc comment in the executable`).toBeString();
    }
  });
});

describe("pop.ref", () => {
  test("called without a ref (or with one that is no string): the call fails saying what a ref is, not with a TypeError", async () => {
    expect(await pop(["call", "pop.ref.last", "--no-packages"], { cwd: tmp() })).toEqual({
      code: 1,
      stdout: "",
      stderr: 'pop: "pop.ref.last" failed: a ref is a string of dotted names like "rpc.math.fib"; got none\n',
    });
    expect((await pop(["call", "pop.ref.path", "--args", "[5]", "--no-packages"], { cwd: tmp() })).stderr).toBe(
      'pop: "pop.ref.path" failed: a ref is a string of dotted names like "rpc.math.fib"; got 5\n',
    );
  });
});
