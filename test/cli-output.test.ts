// The CLI's output through dist/pop: under --json stdout carries only the data and diagnostics are JSON lines;
// POP_LOG_FORMAT and POP_LOG_LEVEL override; a lost write to stdout is an error; control characters are escaped;
// the error funnel (one place turns errors into exit codes, internal errors say so).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, POP, ROOT, tmp, writeTree } from "./helpers.ts";

const PLUGINS = join(ROOT, "test/fixtures/cli/plugins");
const LOADING = join(ROOT, "test/fixtures/hub/loading");

/** Parse every stderr line as JSON (each must be one object). */
function jsonLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .trimEnd()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe("--json: stdout carries only the data", () => {
  test("pop call: a plugin's console output at import, in __init__ and in the call goes to stderr", async () => {
    const r = await pop(["call", "talk.noisy.speak", "--plugins", PLUGINS, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{\n  "ok": true\n}\n');
    for (const text of [
      "noisy: imported",
      "noisy: __init__",
      "noisy: called speak",
      "noisy: debug",
      'noisy: "dir"',
      "noisy: dirxml",
      "│ table │",
      "noisy: 1",
      "noisy: group",
      "Trace: noisy: trace",
    ])
      expect(r.stderr).toContain(text);
  });

  test("pop call: process.stdout.write, Bun.write(Bun.stdout) and a child inheriting stdout go to stderr too (fd 1 is moved)", async () => {
    const dir = writeTree(tmp(), {
      "log/l.ts":
        'export async function f(hub) {\n  process.stdout.write("raw write\\n");\n  await Bun.write(Bun.stdout, "bun write\\n");\n  Bun.spawnSync(["echo", "child"], { stdout: "inherit" });\n  return { ok: true };\n}\n',
    });
    const r = await pop(["call", "log.l.f", "--plugins", dir, "--json"]);
    expect(r).toEqual({ code: 0, stdout: '{\n  "ok": true\n}\n', stderr: "raw write\nbun write\nchild\n" });
    // Without --json they are the plugin's own business, on stdout.
    expect(await pop(["call", "log.l.f", "--plugins", dir])).toEqual({ code: 0, stdout: 'raw write\nbun write\nchild\n{\n  "ok": true\n}\n', stderr: "" });
  });

  test("pop call --json > /dev/full still fails saying so (the data's copy of stdout is the one checked)", async () => {
    const ok = Bun.spawn([POP, "call", "talk.noisy.speak", "--plugins", PLUGINS, "--json"], { stdout: Bun.file("/dev/full"), stderr: "pipe" });
    expect(await ok.exited).toBe(1);
    expect(await new Response(ok.stderr).text()).toContain('"msg":"cannot write the output: no space left on the device stdout writes to (ENOSPC)"');
  });

  test("pop tree --json: parses whole, the plugin's noise on stderr", async () => {
    const r = await pop(["tree", "--plugins", PLUGINS, "--json"], { env: { POP_TEST_INIT_MS: "0" } });
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.subs.map((s: { name: string }) => s.name)).toEqual(["pop", "life", "talk"]);
    expect(r.stderr).toContain("noisy: imported\nnoisy: __init__\n");
  });

  test("pop app --json: the app prints its own data, so its console.log stays on stdout", async () => {
    expect(await pop(["app", "--json", join(ROOT, "test/fixtures/app/crash"), "ok"])).toEqual({ code: 0, stdout: "ran\n", stderr: "crash: shut down\n" });
  });

  test("without --json a plugin's console.log is its own business: it stays on stdout", async () => {
    const r = await pop(["call", "talk.noisy.speak", "--plugins", PLUGINS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("noisy: imported\nnoisy: __init__\nnoisy: called speak\n");
  });
});

describe("--json: diagnostics are JSON lines on stderr", () => {
  test("a failed call: one line with time, level, msg, code, exitCode and ref", async () => {
    const r = await pop(["call", "rpc.echo.fails", "--plugins", LOADING, "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = jsonLines(r.stderr);
    expect(lines).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        level: "error",
        msg: 'test/fixtures/hub/loading/rpc/echo.ts:18:13: "rpc.echo.fails" failed: it went wrong badly',
        code: "POP_CALL",
        ref: "rpc.echo.fails",
        exitCode: 1,
      },
    ]);
  });

  test("a usage error: code POP_USAGE, exit 2, the command named, no help pointer line", async () => {
    const r = await pop(["call", "rpc.echo.args", "--frob", "--json", "--plugins", LOADING]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(jsonLines(r.stderr)).toEqual([
      { time: expect.any(String), level: "error", msg: 'unknown option "--frob"', code: "POP_USAGE", command: "pop call", exitCode: 2 },
    ]);
  });

  test("an unknown ref: code POP_USAGE with the ref error's code as causeCode", async () => {
    const r = await pop(["call", "rpc.math.fbi", "--plugins", LOADING, "--json"]);
    expect(r.code).toBe(2);
    expect(jsonLines(r.stderr)).toEqual([
      expect.objectContaining({
        level: "error",
        msg: 'no function "rpc.math.fbi"; did you mean "rpc.math.fib"?',
        code: "POP_USAGE",
        causeCode: "POP_REF",
        exitCode: 2,
      }),
    ]);
  });

  test("load warnings are JSON lines with level warn; the data still parses", async () => {
    const dir = writeTree(tmp(), { "s/good.ts": "export function f(hub) { return 1; }", "s/bad.ts": "throw new Error('boom');" });
    const r = await pop(["tree", "--plugins", dir, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).failures).toHaveLength(1);
    const lines = jsonLines(r.stderr);
    expect(lines).toEqual([
      {
        time: expect.any(String),
        level: "warn",
        msg: expect.stringMatching(/bad\.ts:1:\d+: module "s\.bad" not loaded: threw Error: boom$/),
        // What the error line of the same failure carries (pop call of it, --strict).
        code: "POP_PLUGIN_LOAD",
        ref: "s.bad",
        location: { file: join(dir, "s/bad.ts"), line: 1, column: 11 },
      },
    ]);
  });

  test("POP_DEBUG puts the stack in the line, not on lines of its own", async () => {
    const r = await pop(["call", "rpc.echo.fails", "--plugins", LOADING, "--json"], { env: { POP_DEBUG: "1" } });
    const lines = jsonLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.stack).toContain("CallError");
  });
});

describe("POP_LOG_FORMAT and POP_LOG_LEVEL", () => {
  test("POP_LOG_FORMAT=json without --json: JSON lines; the data stays text", async () => {
    const r = await pop(["call", "rpc.echo.fails", "--plugins", LOADING], { env: { POP_LOG_FORMAT: "json" } });
    expect(r.code).toBe(1);
    expect(jsonLines(r.stderr)).toEqual([expect.objectContaining({ level: "error", code: "POP_CALL", exitCode: 1 })]);
  });

  test("POP_LOG_FORMAT=text overrides --json for diagnostics; stdout is still JSON only", async () => {
    const r = await pop(["call", "rpc.echo.fails", "--plugins", LOADING, "--json"], { env: { POP_LOG_FORMAT: "text" } });
    expect(r).toEqual({ code: 1, stdout: "", stderr: 'pop: test/fixtures/hub/loading/rpc/echo.ts:18:13: "rpc.echo.fails" failed: it went wrong badly\n' });
  });

  test("POP_LOG_FORMAT=auto: JSON lines when stderr is not a terminal (a pipe here)", async () => {
    const r = await pop(["call", "rpc.echo.fails", "--plugins", LOADING], { env: { POP_LOG_FORMAT: "auto" } });
    expect(jsonLines(r.stderr)[0]).toMatchObject({ level: "error", code: "POP_CALL" });
  });

  test("POP_LOG_LEVEL=error drops warnings, keeps errors", async () => {
    const dir = writeTree(tmp(), { "s/good.ts": "export function f(hub) { return 1; }", "s/bad.ts": "throw new Error('boom');" });
    expect((await pop(["tree", "--plugins", dir])).stderr).toContain("pop: warning: ");
    expect((await pop(["tree", "--plugins", dir], { env: { POP_LOG_LEVEL: "error" } })).stderr).toBe("");
    expect((await pop(["call", "s.bad.f", "--plugins", dir], { env: { POP_LOG_LEVEL: "error" } })).stderr).toContain('module "s.bad" not loaded');
  });

  test.each([
    [{ POP_LOG_FORMAT: "xml" }, 'pop: invalid value for POP_LOG_FORMAT: "xml"; choose from text, json, auto'],
    [{ POP_LOG_LEVEL: "loud" }, 'pop: invalid value for POP_LOG_LEVEL: "loud"; choose from error, warn, info, debug, trace'],
  ])("a bad value %j is a usage error naming the variable; help still answers", async (env, message) => {
    expect(await pop(["tree", "--plugins", LOADING], { env })).toEqual({ code: 2, stdout: "", stderr: `${message}\nrun "pop --help" for usage\n` });
    for (const argv of [["--help"], ["tree", "--help"]]) expect(await pop(argv, { env })).toMatchObject({ code: 0, stderr: "" });
  });
});

describe("a lost write to stdout is exit 1 with one line", () => {
  /** Run dist/pop through sh with stdout redirected as `redirect` says. */
  async function sh(script: string, args: string[]): Promise<{ stderr: string; code: number }> {
    const dir = tmp();
    const proc = Bun.spawn(["sh", "-c", script, "pop-test", ...args], {
      cwd: ROOT,
      env: { ...process.env, POP, T: dir, NO_COLOR: "1" },
      stdout: "ignore",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    return { stderr, code };
  }

  const ENOSPC = "cannot write the output: no space left on the device stdout writes to (ENOSPC)";
  test.each([[["--version"]], [["--help"]], [["call", "rpc.math.fib", "num=11", "--plugins", LOADING]]])("%j > /dev/full", async (args) => {
    expect(await sh('"$POP" "$@" > /dev/full', args)).toEqual({ code: 1, stderr: `pop: ${ENOSPC}\n` });
  });

  test("pop tree --json > /dev/full: the error is a JSON line", async () => {
    const r = await sh('"$POP" "$@" > /dev/full', ["tree", "--plugins", LOADING, "--json"]);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stderr)).toEqual([{ time: expect.any(String), level: "error", msg: ENOSPC, code: "POP_OUTPUT", exitCode: 1 }]);
  });

  // The reader closes its end first and only then lets pop start (through a fifo): no race.
  const CLOSED = 'mkfifo "$T/go"; { read _ < "$T/go"; "$POP" "$@"; echo "exit $?" >&2; } | { exec 0<&-; echo go > "$T/go"; }';
  const EPIPE = "cannot write the output: stdout was closed before the output was written (EPIPE)";
  test.each([[["--version"]], [["--help"]], [["call", "rpc.math.fib", "num=11", "--plugins", LOADING]]])("%j into a pipe nobody reads", async (args) => {
    expect(await sh(CLOSED, args)).toEqual({ code: 0, stderr: `pop: ${EPIPE}\nexit 1\n` });
  });

  test("pop tree --json into a pipe nobody reads", async () => {
    const r = await sh(CLOSED, ["tree", "--plugins", LOADING, "--json"]);
    const [line, exit] = r.stderr.trimEnd().split("\n");
    expect(JSON.parse(line!)).toMatchObject({ level: "error", msg: EPIPE, code: "POP_OUTPUT", exitCode: 1 });
    expect(exit).toBe("exit 1");
  });
});

describe("grammar", () => {
  test('a ref naming an object value says "is an object"', async () => {
    const dir = writeTree(tmp(), { "s/m.ts": "export const CONF = { a: 1 };\nexport function f(hub) { return 1; }" });
    expect(await pop(["call", "s.m.CONF", "--plugins", dir])).toEqual({
      code: 2,
      stdout: "",
      stderr: 'pop: "s.m.CONF" is an object, not a function; run "pop tree" to list what the hub holds\n',
    });
  });
});

describe("control characters in what a message echoes are escaped, JSON-style", () => {
  test.each([
    [["call", "rpc.ma\x1b[31mth.fib", "--plugins", LOADING], 'pop: invalid ref "rpc.ma\\u001b[31mth.fib": expected dotted names like "rpc.math.fib"\n'],
    [["call", "rpc\n.math", "--plugins", LOADING], 'pop: invalid ref "rpc\\n.math": expected dotted names like "rpc.math.fib"\n'],
    [
      ["call", "rpc.echo.args", "k\x07", "--plugins", LOADING],
      'pop: "k\\u0007" is not KEY=VALUE; write e.g. num=11, or pass --args JSON\nrun "pop call --help" for usage\n',
    ],
    [["tree", "--disable", "a\tb"], 'pop: --disable "a\\tb" is not a ref like "rpc.math"\nrun "pop tree --help" for usage\n'],
    [["\x1b[2J"], 'pop: unknown command "\\u001b[2J"; run "pop --help" for the list\n'],
    [["tree", "--fr\x1bob"], 'pop: unknown option "--fr\\u001bob"\nrun "pop tree --help" for usage\n'],
  ])("%j", async (argv, stderr) => {
    expect(await pop(argv)).toEqual({ code: 2, stdout: "", stderr });
  });

  test("a plugin's error message with an escape sequence reaches the terminal escaped", async () => {
    const dir = writeTree(tmp(), { "s/m.ts": "export function f(hub) { throw new Error('red \\x1b[31malert\\x07'); }" });
    expect(await pop(["call", "s.m.f", "--plugins", dir])).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${join(dir, "s/m.ts")}:1:36: "s.m.f" failed: red \\u001b[31malert\\u0007\n`,
    });
  });
});

describe("the error funnel (src/output.ts report, called only from the CLI's main)", () => {
  /** Run a few lines against pop's source: what report prints and returns for a value no command would throw. */
  async function funnel(body: string, env: Record<string, string> = {}) {
    const code = `import { report } from "${join(ROOT, "src/output.ts")}";\nimport * as E from "${join(ROOT, "src/errors.ts")}";\nvoid E;\nprocess.exitCode = ${body};`;
    const proc = Bun.spawn([process.execPath, "-e", code], { env: { ...process.env, POP_DEBUG: "", ...env }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, exit] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { stdout, stderr, code: exit };
  }

  test("a plain Error or TypeError that reaches it is an internal error: one line, exit 1", async () => {
    expect(await funnel('report(new TypeError("x.y is not a function"))')).toEqual({
      code: 1,
      stdout: "",
      stderr: "pop: internal error: x.y is not a function\n",
    });
    expect(await funnel("report({ weird: true })")).toEqual({ code: 1, stdout: "", stderr: 'pop: internal error: {"weird":true}\n' });
  });

  test("the stack under POP_DEBUG", async () => {
    const r = await funnel('report(new TypeError("x.y is not a function"))', { POP_DEBUG: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("pop: internal error: x.y is not a function\nTypeError: x.y is not a function\n    at ");
  });

  test("PopErrors keep their message and exit code; a prefix names what failed", async () => {
    expect(await funnel('report(new E.ConfigError("bad value"))')).toEqual({ code: 2, stdout: "", stderr: "pop: bad value\n" });
    expect(await funnel('report(new Error("boom"), "\\"app.init.cli\\" failed")')).toEqual({
      code: 1,
      stdout: "",
      stderr: 'pop: "app.init.cli" failed: boom\n',
    });
  });
});
