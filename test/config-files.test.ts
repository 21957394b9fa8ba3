// Config files pop refuses, each with one line naming the file (exit 2, nothing on stdout): values that are not an
// object, two formats of one file, extends that name no config file or go round in a cycle, folders and dangling links
// given to --config, extensions pop does not read.
import { describe, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const POPPY = join(ROOT, "examples/poppy");
const EXTS = ".ts, .mts, .cts, .js, .mjs, .cjs, .json, .jsonc, .json5, .yaml, .yml, .toml";

async function show(files: Record<string, string>, args: string[] = []) {
  const cwd = writeTree(tmp(), files);
  return { cwd, ...(await pop(["config", "show", POPPY, ...args], { cwd })) };
}

function refused(r: { stdout: string; stderr: string; code: number }, line: string) {
  expect(r.stderr).toBe(`pop: ${line}\n`);
  expect(r.stdout).toBe("");
  expect(r.code).toBe(2);
}

describe("a config file holds an object of options", () => {
  test("export default 42 is an error naming the file, as JSON [1,2,3] is", async () => {
    refused(
      await show({ "poppy.config.ts": "export default 42;\n" }),
      `poppy.config.ts: a config file must hold an object of options, e.g. { "port": 8080 }; this one holds the number 42`,
    );
    refused(
      await show({ "poppy.config.json": "[1,2,3]\n" }),
      `poppy.config.json: a config file must hold an object of options, e.g. { "port": 8080 }; this one holds a list ([1,2,3])`,
    );
    refused(
      await show({ "poppy.config.yaml": "just text\n" }),
      `poppy.config.yaml: a config file must hold an object of options, e.g. { "port": 8080 }; this one holds the string "just text"`,
    );
  });

  test("a code file without a default export is an error, not its named exports read as options", async () => {
    refused(
      await show({ "poppy.config.ts": "export const port = 5;\n" }),
      `poppy.config.ts: a config file exports its options as default, e.g. export default { port: 8080 }; this one has no default export`,
    );
  });

  test("every extension pop documents is read", async () => {
    for (const [ext, text] of [
      [".mts", "export default { port: 1 };"],
      [".cjs", "module.exports = { port: 1 };"],
      [".json5", "{ port: 1, }"],
      [".yml", "port: 1"],
      [".toml", "port = 1"],
      [".jsonc", '{ "port": 1, // one\n}'],
    ]) {
      const r = await show({ [`poppy.config${ext}`]: `${text}\n` }, ["--json"]);
      expect({ ext, port: r.code === 0 ? JSON.parse(r.stdout).poppy.port : r.stderr }).toEqual({ ext, port: 1 });
    }
  });
});

describe("extends", () => {
  test('{"extends": "/etc/passwd"} is a ConfigError naming the file and the value (it used to print c12\'s own line and exit 0)', async () => {
    refused(
      await show({ "poppy.config.json": '{ "extends": "/etc/passwd" }\n' }),
      `poppy.config.json: extends "/etc/passwd" is not a config file pop reads: config files end in ${EXTS}`,
    );
  });

  test("a cycle is reported with its files in order (it used to crash with a TypeError)", async () => {
    refused(
      await show({
        "poppy.config.json": '{ "extends": "./a.json", "port": 1 }\n',
        "a.json": '{ "extends": "./b.json" }\n',
        "b.json": '{ "extends": "./poppy.config.json" }\n',
      }),
      `config files extend each other in a cycle: poppy.config.json -> a.json -> b.json -> poppy.config.json; remove one of these "extends"`,
    );
    refused(
      await show({ "poppy.config.ts": 'export default { extends: "./poppy.config.ts" };\n' }),
      `config files extend each other in a cycle: poppy.config.ts -> poppy.config.ts; remove one of these "extends"`,
    );
  });

  test("two files extending one base is not a cycle", async () => {
    const r = await show(
      {
        "poppy.config.json": '{ "extends": ["./a.json", "./b.json"], "port": 1 }\n',
        "a.json": '{ "extends": "./base.json" }\n',
        "b.json": '{ "extends": "./base.json" }\n',
        "base.json": '{ "addr": "0.0.0.0" }\n',
      },
      ["--explain"],
    );
    expect(r).toMatchObject({
      code: 0,
      stderr: "",
      stdout: `poppy.addr = "0.0.0.0"  from base.json key "addr"\npoppy.port = 1          from poppy.config.json key "port"\n`,
    });
  });

  test("a missing file or a folder without a config file is an error naming the extending file", async () => {
    refused(
      await show({ "poppy.config.json": '{ "extends": "./nope" }\n' }),
      `poppy.config.json: extends "./nope" does not exist; give the path of an existing config file`,
    );
    refused(
      await show({ "poppy.config.json": '{ "extends": "./base" }\n', "base/readme.md": "x\n" }),
      `poppy.config.json: extends "./base": no poppy.config.* in that folder; name a config file or a folder holding one`,
    );
    refused(
      await show({ "poppy.config.json": '{ "extends": 3 }\n' }),
      `poppy.config.json: "extends" must be a file or folder, or a list of them, e.g. "extends": "./base.config.json"; got 3`,
    );
  });
});

describe("which file", () => {
  test("two formats of one config file are an error naming both (one used to win silently)", async () => {
    refused(
      await show({ "poppy.config.ts": "export default { port: 1 };\n", "poppy.config.json": '{ "port": 2 }\n' }),
      `two config files for poppy: poppy.config.ts and poppy.config.json; keep one (pop will not guess which wins)`,
    );
  });

  test("--config naming a folder or a dangling link names the path given, not pop's internal /$bunfs paths", async () => {
    const dir = tmp();
    refused(await show({}, ["--config", dir]), `config file "${dir}" (from --config) is a folder; give a config file, e.g. ${join(dir, "poppy.config.ts")}`);
    const cwd = tmp();
    symlinkSync("/nonexistent-pop-target", join(cwd, "dangling.json"));
    const r = await pop(["config", "show", POPPY, "--config", "dangling.json"], { cwd });
    refused(r, `config file "dangling.json" (from --config) is a symbolic link to "/nonexistent-pop-target", which does not exist; point it at a config file`);
    expect(r.stderr).not.toContain("$bunfs");
  });

  test("an extension pop does not read is refused clearly: an error for --config, a warning beside the project's files", async () => {
    refused(
      await show({ "x.tsx": "export default { port: 1 };\n" }, ["--config", "x.tsx"]),
      `config file "x.tsx" (from --config) is not a config file pop reads: config files end in ${EXTS}`,
    );
    const r = await show({ "poppy.config.tsx": "export default { port: 1 };\n" });
    expect(r).toMatchObject({ code: 0, stderr: `pop: warning: poppy.config.tsx is not read: config files end in ${EXTS}; rename it (e.g. poppy.config.ts)\n` });
    expect(r.stdout).toContain("poppy.port = 8888");
  });
});
