// Arguments and options through dist/pop: KEY=VALUE objects without prototype pollution, --args @FILE and -,
// a repeated value option, --no-X switches, the hub options every command takes (--no-packages, --load-timeout).
import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS, loadCommand } from "../src/cli/_commands.ts";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const PLUGINS = join(ROOT, "test/fixtures/cli/plugins");
const LOADING = join(ROOT, "test/fixtures/hub/loading");

describe("KEY=VALUE builds a plain object, whatever the keys", () => {
  test("__proto__, constructor and prototype are data keys: no prototype is set, nothing is polluted", async () => {
    const r = await pop(["call", "talk.proto.inspect", '__proto__={"polluted": "yes"}', "constructor=1", "prototype=2", "--plugins", PLUGINS, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      plainPrototype: true,
      ownKeys: ["__proto__", "constructor", "prototype"],
      inherited: null,
      globalPolluted: null,
      constructorIsData: true,
      toStringWorks: true,
    });
  });

  test("the object prints back with its __proto__ key", async () => {
    const r = await pop(["call", "rpc.echo.args", '__proto__={"a":1}', "b=2", "--plugins", LOADING, "--json"]);
    expect(JSON.parse(r.stdout)).toEqual([JSON.parse('{"__proto__": {"a": 1}, "b": 2}')]);
    expect(r.stdout).toContain('"__proto__": {');
  });
});

describe("--args", () => {
  test("@FILE reads the JSON array from a file (for arguments beyond the OS's limit)", async () => {
    const file = join(tmp(), "args.json");
    const big = "x".repeat(300_000);
    writeFileSync(file, JSON.stringify([{ s: big }, 2]));
    const r = await pop(["call", "rpc.echo.args", "--args", `@${file}`, "--plugins", LOADING, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ s: big }, 2]);
  });

  test("- reads it from stdin", async () => {
    const r = await pop(["call", "rpc.echo.args", "--args", "-", "--plugins", LOADING, "--json"], { stdin: '[{"num": 11}, "two"]' });
    expect(r).toEqual({ code: 0, stdout: '[\n  {\n    "num": 11\n  },\n  "two"\n]\n', stderr: "" });
  });

  test("a missing file, an unreadable file, a folder, no file name: one clear line, exit 2", async () => {
    const dir = tmp();
    const locked = join(dir, "locked.json");
    writeFileSync(locked, "[]");
    chmodSync(locked, 0o000);
    const cases: Array<[string, string]> = [
      [`@${join(dir, "nope.json")}`, `pop: cannot read --args file "${join(dir, "nope.json")}": no such file\n`],
      [`@${dir}`, `pop: cannot read --args file "${dir}": it is a folder\n`],
      ["@", 'pop: --args "@" names no file; write --args @FILE (a JSON array in FILE), or --args - to read stdin\nrun "pop call --help" for usage\n'],
    ];
    if (process.getuid?.() !== 0) cases.push([`@${locked}`, `pop: cannot read --args file "${locked}": permission denied\n`]);
    for (const [spec, stderr] of cases)
      expect(await pop(["call", "rpc.echo.args", "--args", spec, "--plugins", LOADING])).toEqual({ code: 2, stdout: "", stderr });
  });

  test("a file or stdin that is not a JSON array says where the text came from", async () => {
    const file = join(tmp(), "obj.json");
    writeFileSync(file, '{"num": 1}');
    const r = await pop(["call", "rpc.echo.args", "--args", `@${file}`, "--plugins", LOADING]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(`pop: --args file "${file}" must be a JSON array of positional arguments, e.g. '[{"num": 11}]'; got "{\\"num\\": 1}"\n`);
    const s = await pop(["call", "rpc.echo.args", "--args", "-", "--plugins", LOADING], { stdin: "{nope" });
    expect(s.code).toBe(2);
    expect(s.stderr).toStartWith("pop: --args - (stdin) is not valid JSON: ");
  });

  test("given twice: a usage error naming both values, not the last one silently", async () => {
    expect(await pop(["call", "rpc.echo.args", "--args", "[1]", "--args=[2]", "--plugins", LOADING])).toEqual({
      code: 2,
      stdout: "",
      stderr: 'pop: option "--args" is given twice ("[1]" and "[2]"); give it once\nrun "pop call --help" for usage\n',
    });
  });
});

describe("hub options on every command", () => {
  /** A folder whose package.json depends on a package with a "pop" field (its plugin root brings sub "ext"). */
  function withPackage(): string {
    return writeTree(tmp(), {
      "package.json": JSON.stringify({ dependencies: { popext: "1.0.0" } }),
      "node_modules/popext/package.json": JSON.stringify({ name: "popext", pop: { plugins: ["plugins"] } }),
      "node_modules/popext/plugins/ext/hello.ts": "export function hi(hub) { return 'from the package'; }",
    });
  }

  test("--no-packages: the working directory's packages are not discovered", async () => {
    const dir = withPackage();
    expect(await pop(["call", "ext.hello.hi"], { cwd: dir })).toEqual({ code: 0, stdout: "from the package\n", stderr: "" });
    const r = await pop(["call", "ext.hello.hi", "--no-packages"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith('pop: no sub "ext" in "ext.hello.hi"');
    const tree = JSON.parse((await pop(["tree", "--json", "--no-packages"], { cwd: dir })).stdout);
    expect(tree.roots.map((x: { source: string }) => x.source)).not.toContainEqual(expect.stringContaining("package popext"));
    expect(tree.subs.map((s: { name: string }) => s.name)).not.toContain("ext");
  });

  test("pop tree lists every root with where it came from, in text and as roots in --json", async () => {
    const dir = withPackage();
    const r = await pop(["tree"], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("roots:");
    expect(lines[1]).toMatch(/^ {2}node_modules\/popext\/plugins {2}from package popext \(from .*package\.json\)$/);
    const data = JSON.parse((await pop(["tree", "--json", "--plugins", LOADING], { cwd: dir })).stdout);
    expect(data.roots).toEqual([{ dir: LOADING, source: "--plugins", conf: null }]);
  });

  test("--load-timeout MS fails a module whose __init__ has not settled, naming it; 0 means no limit", async () => {
    const env = { POP_TEST_INIT_MS: "3000" };
    const r = await pop(["call", "life.slow.ready", "--plugins", PLUGINS, "--load-timeout", "50"], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('module "life.slow"');
    expect(r.stderr).toContain("50 ms");
    expect(await pop(["call", "life.slow.ready", "--plugins", PLUGINS, "--load-timeout=0"], { env: { POP_TEST_INIT_MS: "100" } })).toEqual({
      code: 0,
      stdout: "ready\n",
      stderr: "",
    });
  });

  test("POP_LOAD_TIMEOUT is the default; --load-timeout wins over it", async () => {
    const env = { POP_TEST_INIT_MS: "3000", POP_LOAD_TIMEOUT: "50" };
    const r = await pop(["call", "life.slow.ready", "--plugins", PLUGINS], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("50 ms");
    const fast = { POP_TEST_INIT_MS: "100", POP_LOAD_TIMEOUT: "50" };
    expect(await pop(["call", "life.slow.ready", "--plugins", PLUGINS, "--load-timeout", "0"], { env: fast })).toEqual({
      code: 0,
      stdout: "ready\n",
      stderr: "",
    });
  });

  test.each([
    [
      ["--load-timeout", "abc"],
      'pop: invalid value for option --load-timeout: "abc" is not a whole number of milliseconds; give e.g. 30000, or 0 for no limit\nrun "pop tree --help" for usage\n',
      {},
    ],
    [
      ["--load-timeout", "-5"],
      'pop: invalid value for option --load-timeout: "-5" is not a whole number of milliseconds; give e.g. 30000, or 0 for no limit\nrun "pop tree --help" for usage\n',
      {},
    ],
    [
      ["--load-timeout=1.5"],
      'pop: invalid value for option --load-timeout: "1.5" is not a whole number of milliseconds; give e.g. 30000, or 0 for no limit\nrun "pop tree --help" for usage\n',
      {},
    ],
    [
      [],
      'pop: invalid value for POP_LOAD_TIMEOUT: "soon" is not a whole number of milliseconds; give e.g. 30000, or 0 for no limit\nrun "pop tree --help" for usage\n',
      { POP_LOAD_TIMEOUT: "soon" },
    ],
    [["--load-timeout"], 'pop: option "--load-timeout" needs a value\nrun "pop tree --help" for usage\n', {}],
    [["--no-load-timeout"], 'pop: unknown option "--no-load-timeout"\nrun "pop tree --help" for usage\n', {}],
    [["--no-packages=1"], 'pop: option "--no-packages" is a switch and takes no value\nrun "pop tree --help" for usage\n', {}],
  ])("pop tree %j: a usage error naming the option and the value", async (argv, stderr, env) => {
    expect(await pop(["tree", "--plugins", LOADING, ...argv], { env })).toEqual({ code: 2, stdout: "", stderr });
  });

  test("--no-X turns any switch off; the last one given wins", async () => {
    const dir = writeTree(tmp(), { "s/bad.ts": "throw new Error('boom');", "s/good.ts": "export function f(hub) { return 1; }" });
    expect((await pop(["tree", "--plugins", dir, "--strict"])).code).toBe(1);
    expect((await pop(["tree", "--plugins", dir, "--strict", "--no-strict"])).code).toBe(0);
    expect((await pop(["tree", "--plugins", dir, "--no-strict", "--strict"])).code).toBe(1);
  });

  test.each(["tree", "call", "app", "config show", "config schema"])("pop %s --help lists --no-packages and --load-timeout MS", async (cmd) => {
    const r = await pop([...cmd.split(" "), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}--no-packages {2,}\S/m);
    expect(r.stdout).toMatch(/^ {2}--load-timeout MS {2,}.*default 30000, 0 for none/m);
  });
});

// The command table is data and loadCommand one switch (start-up cost, docs/benchmarks.md): each listed name must load its own command.
test.each(Object.keys(COMMANDS))("pop %s loads its own command", async (name) => {
  const cmd = await loadCommand(name);
  expect(cmd.meta.name).toBe(name);
  expect(typeof cmd.run === "function" || cmd.subCommands !== undefined).toBe(true);
});
