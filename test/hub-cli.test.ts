// CLI basics through dist/pop: --version, --help, unknown commands and options, colour rules; and the same behaviour under `bun src/cli.ts`.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { pop, POP, ROOT, type Result, tmp, writeTree } from "./helpers.ts";

const LOADING = join(ROOT, "test/fixtures/hub/loading");
const ANSI = /\x1b\[/;

describe("--version and --help", () => {
  test("--version prints package.json's version; --json adds Bun's", async () => {
    expect(await pop(["--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    expect(await pop(["-v"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    const j = JSON.parse((await pop(["--version", "--json"])).stdout);
    expect(j).toEqual({ version: pkg.version, bun: expect.any(String) });
  });

  test("--help lists the commands grouped by tool, the options and the exit codes", async () => {
    const r = await pop(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    const hub = lines.indexOf("Hub runtime:");
    expect(hub).toBeGreaterThan(0);
    // Names padded to the group's widest: "serve" sets the hub group's column.
    expect(lines[hub + 1]).toMatch(/^ {2}tree {3}\S/);
    expect(lines[hub + 2]).toMatch(/^ {2}call {3}\S/);
    expect(lines[hub + 3]).toMatch(/^ {2}serve {2}\S/);
    const authoring = lines.indexOf("Authoring: scaffolder, editor types, tests:");
    expect(lines.slice(authoring + 1, authoring + 4).map((l) => l.trim().split(/\s+/)[0])).toEqual(["create", "types", "test"]);
    expect(r.stdout).not.toContain("__isolate-child");
    const codes = lines.indexOf("Exit codes:");
    const table = lines.slice(codes + 1, lines.indexOf("", codes));
    expect(table.map((l) => l.trim().split(/\s+/)[0])).toEqual(["0", "1", "2", "3", "130", "143"]);
    expect(table[3]).toMatch(/^ {2}3 {4}ZooKeeper could not be reached/);
    expect(table[4]).toMatch(/^ {2}130 {2}interrupted \(SIGINT\)/);
    expect(table[5]).toMatch(/^ {2}143 {2}terminated \(SIGTERM\)/);
    expect(r.stdout).toContain("unknown ref");
    expect(r.stdout).toContain("output could not be written");
    expect((await pop(["-h"])).stdout).toBe(r.stdout);
    expect((await pop(["help"])).stdout).toBe(r.stdout);
  });

  test("--help's Environment section names every variable pop reads", async () => {
    const r = await pop(["--help"]);
    const lines = r.stdout.split("\n");
    const env = lines
      .slice(lines.indexOf("Environment:") + 1)
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(env).toEqual([
      "POP_PLUGIN_PATH",
      "POP_DISABLE",
      "POP_LOAD_TIMEOUT",
      "POP_TRACE",
      "POP_TOKEN",
      "POP_LOG_FORMAT",
      "POP_LOG_LEVEL",
      "NO_COLOR",
      "POP_DEBUG",
    ]);
    expect(r.stdout).toMatch(/POP_LOG_FORMAT +diagnostics as text, json \(JSON lines\) or auto/);
    expect(r.stdout).toMatch(/NO_COLOR +any non-empty value turns colour off/);
    expect(r.stdout).toContain("diagnostics as JSON lines on stderr");
  });

  test("--help's exit codes are the README's", async () => {
    const readme = await Bun.file(join(ROOT, "README.md")).text();
    const listed = [...(/Exit codes \(also in `pop --help`\):([^\n]*(?:\n {2}[^\n]*)*)/.exec(readme)?.[1] ?? "").matchAll(/`(\d+)`/g)].map((m) => m[1]);
    const r = await pop(["--help"]);
    const lines = r.stdout.split("\n");
    const codes = lines.slice(lines.indexOf("Exit codes:") + 1, lines.indexOf("", lines.indexOf("Exit codes:"))).map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(codes);
  });

  test("pop config --help lists its subcommands with their descriptions", async () => {
    const r = await pop(["config", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Usage: pop config COMMAND");
    expect(r.stdout).toMatch(/^ {2}show {4}Print a project's resolved options/m);
    expect(r.stdout).toMatch(/^ {2}schema {2}Print the JSON Schema/m);
  });

  test("no command: the help on stderr, exit 2, nothing on stdout", async () => {
    const r = await pop([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Exit codes:");
  });

  test.each(["tree", "call"])("pop %s --help: usage, options and examples, exit 0", async (cmd) => {
    const r = await pop([cmd, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: pop ${cmd}`);
    for (const flag of ["--plugins DIR", "--disable REF", "--strict", "--json"]) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain("Examples:");
  });
});

describe("usage errors: exit 2, one line and a pointer to help, nothing on stdout", () => {
  test("an unknown command", async () => {
    expect(await pop(["frobnicate"])).toEqual({ code: 2, stdout: "", stderr: 'pop: unknown command "frobnicate"; run "pop --help" for the list\n' });
  });

  test.each([[["--bogus"]], [["-x"]], [["--bogus", "tree"]]])("an unknown option before any command, %j, is an unknown option", async (argv: string[]) => {
    expect(await pop(argv)).toEqual({ code: 2, stdout: "", stderr: `pop: unknown option "${argv[0]}"; run "pop --help" for the commands and options\n` });
  });

  test("an unknown subcommand", async () => {
    expect(await pop(["config", "shwo"])).toEqual({ code: 2, stdout: "", stderr: 'pop: unknown command "pop config shwo"; run "pop config --help"\n' });
  });

  test("a near miss suggests the command", async () => {
    expect((await pop(["tre"])).stderr).toBe('pop: unknown command "tre"; did you mean "tree"?; run "pop --help" for the list\n');
  });

  test.each([
    [["tree", "--frob"], 'pop: unknown option "--frob"\nrun "pop tree --help" for usage\n'],
    [["call", "rpc.math.fib", "--plugins"], 'pop: option "--plugins" needs a value\nrun "pop call --help" for usage\n'],
    [["tree", "--json=yes"], 'pop: option "--json" is a switch and takes no value\nrun "pop tree --help" for usage\n'],
    [["tree", "extra"], 'pop: unexpected argument "extra"\nrun "pop tree --help" for usage\n'],
  ])("%j", async (argv, stderr) => {
    expect(await pop(argv)).toEqual({ code: 2, stdout: "", stderr });
  });
});

describe("colour", () => {
  test("output to a pipe has no ANSI codes, even without NO_COLOR", async () => {
    for (const argv of [["--help"], ["tree", "--plugins", LOADING], ["call", "rpc.math.nope", "--plugins", LOADING]]) {
      const r = await pop(argv, { env: { NO_COLOR: undefined, FORCE_COLOR: "1" } });
      expect(r.stdout).not.toMatch(ANSI);
      expect(r.stderr).not.toMatch(ANSI);
    }
  });

  const hasScript = Bun.which("script") !== null;
  /** Run dist/pop on a pseudo-terminal (util-linux `script`). */
  async function onTty(args: string, env: Record<string, string | undefined>): Promise<string> {
    const e: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) e[k] = v;
    const proc = Bun.spawn(["script", "-qec", `${POP} ${args}`, "/dev/null"], { env: e, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const text = await new Response(proc.stdout).text();
    await proc.exited;
    return text;
  }

  test.skipIf(!hasScript)("on a terminal: colour, unless NO_COLOR is set or TERM=dumb", async () => {
    expect(await onTty("--help", { NO_COLOR: undefined, TERM: "xterm" })).toMatch(ANSI);
    expect(await onTty("--help", { NO_COLOR: "1", TERM: "xterm" })).not.toMatch(ANSI);
    // no-color.org: only a non-empty NO_COLOR turns colour off.
    expect(await onTty("--help", { NO_COLOR: "", TERM: "xterm" })).toMatch(ANSI);
    expect(await onTty(`tree --plugins ${LOADING}`, { NO_COLOR: "", TERM: "xterm" })).toMatch(ANSI);
    expect(await onTty("--help", { NO_COLOR: undefined, TERM: "dumb" })).not.toMatch(ANSI);
    expect(await onTty(`tree --plugins ${LOADING}`, { NO_COLOR: "1", TERM: "xterm" })).not.toMatch(ANSI);
    // Diagnostics on stderr too (Bun's console.error would paint them red regardless).
    expect(await onTty(`call rpc.math.nope --plugins ${LOADING}`, { NO_COLOR: "1", TERM: "xterm", FORCE_COLOR: "1" })).not.toMatch(ANSI);
    expect(await onTty(`call rpc.math.nope --plugins ${LOADING}`, { NO_COLOR: undefined, TERM: "dumb" })).not.toMatch(ANSI);
  });
});

describe("the same under bun src/cli.ts", () => {
  const BUN = process.execPath;

  /** Run `bun src/cli.ts` like the helper runs dist/pop. */
  async function source(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<Result> {
    const env: Record<string, string | undefined> = {
      ...process.env,
      NO_COLOR: "1",
      POP_PLUGIN_PATH: undefined,
      POP_DISABLE: undefined,
      POP_DEBUG: undefined,
      ...opts.env,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const proc = Bun.spawn([BUN, join(ROOT, "src/cli.ts"), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: env as Record<string, string>,
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { stdout, stderr: untimed(stderr), code };
  }

  /** JSON log lines (under --json) carry the time: compare them without it. */
  const untimed = (text: string) => text.replace(/"time":"[^"]*"/g, '"time":"T"');
  /** dist/pop, its JSON log lines untimed. */
  const compiled = async (...a: Parameters<typeof pop>) => {
    const r = await pop(...a);
    return { ...r, stderr: untimed(r.stderr) };
  };

  const BAD = {
    "s/good.ts": "export function f(hub) { return 'good'; }",
    "s/syntax.ts": "export function f(hub) {\n  return 1 +;\n}\n",
    "s/throws.ts": "export const a = 1;\nthrow new Error('boom');\n",
    "s/virt.ts": "export const __virtual__ = () => 'off';\n",
    // A plugin importing from "pop" with no node_modules anywhere above it.
    "s/typed.ts": [
      'import { z, ContractError } from "pop";',
      'import type { Hub } from "pop";',
      "const Num = z.coerce.number();",
      "/** zod and pop's errors, served by pop itself. */",
      "export function parse(hub: Hub, { n }: { n: string }): unknown {",
      "  return { n: Num.parse(n), error: typeof ContractError };",
      "}",
    ].join("\n"),
  };

  test.each([
    ["call", ["call", "rpc.math.fib", "num=11", "--plugins", LOADING]],
    ["call --json", ["call", "probe.check.addEager", "--plugins", LOADING, "--json"]],
    ["lazy", ["call", "probe.check.lazy", "--plugins", LOADING, "--json"]],
    ["unknown ref", ["call", "rpc.math.fbi", "--plugins", LOADING]],
    ["tree", ["tree", "--plugins", LOADING]],
    ["tree --json", ["tree", "--plugins", LOADING, "--json"]],
    ["usage error", ["tree", "--frob"]],
    ["unknown option", ["--bogus"]],
    ["a failed call as a JSON line", ["call", "rpc.echo.fails", "--plugins", LOADING, "--json"]],
    ["config --help", ["config", "--help"]],
    ["--help", ["--help"]],
    ["--version", ["--version"]],
  ])("%s: same stdout, stderr and exit code", async (_, argv) => {
    const [a, b] = await Promise.all([compiled(argv), source(argv)]);
    expect(b).toEqual(a);
  });

  test('bad plugins and a plugin importing from "pop" outside any node_modules, in a temp folder', async () => {
    const dir = writeTree(tmp(), BAD);
    for (const argv of [
      ["tree", "--plugins", dir],
      ["tree", "--plugins", dir, "--json"],
      ["tree", "--plugins", dir, "--strict"],
      ["call", "s.syntax.f", "--plugins", dir],
      ["call", "s.typed.parse", "n=41", "--plugins", dir, "--json"],
    ]) {
      const [a, b] = await Promise.all([compiled(argv, { cwd: dir }), source(argv, { cwd: dir })]);
      expect(b).toEqual(a);
    }
    const r = await pop(["call", "s.typed.parse", "n=41", "--plugins", dir, "--json"], { cwd: dir });
    expect(r).toEqual({ code: 0, stdout: '{\n  "n": 41,\n  "error": "function"\n}\n', stderr: expect.any(String) });
  });
});
