// `pop app` as a user sees it: help and --version as results, the same hub options as every command, exit codes
// and errors from the app's own code (one `pop:` line naming the ref, the file and the line), logging options.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const FIX = "test/fixtures/app";
const CRASH = `${FIX}/crash`;
const PROBE = `${FIX}/probe`;
const VERSIONED = `${FIX}/versioned`;
const MONEY = "test/fixtures/config/money";
const MARKET = "test/fixtures/config/market";

describe("the app's exit code and errors", () => {
  test("process.exitCode set by cli() is the exit code", async () => {
    // The hub closes once the app's event loop is empty: its __shutdown__ hooks run.
    expect(await pop(["app", CRASH, "exitcode"])).toEqual({ stdout: "", stderr: "crash: shut down\n", code: 3 });
  });

  test("an Error thrown by cli() names the ref, the plugin file and line", async () => {
    expect(await pop(["app", CRASH, "throw"])).toEqual({
      stdout: "",
      stderr: `pop: ${CRASH}/crash/init.ts:11:35: "crash.init.cli" failed: boom\ncrash: shut down\n`,
      code: 1,
    });
  });

  test("a thrown non-Error prints as data, never [object Object]", async () => {
    expect(await pop(["app", CRASH, "object"])).toEqual({
      stdout: "",
      stderr: `pop: "crash.init.cli" failed: {"code":7,"detail":"not an Error"}\ncrash: shut down\n`,
      code: 1,
    });
  });

  test("an error thrown in a timer after cli() returned is one pop: line and exit 1 (the hub closed first), not Bun's crash report", async () => {
    const r = await pop(["app", CRASH, "timer"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`pop: ${CRASH}/crash/init.ts:15:17: uncaught error in app "crash": late boom\ncrash: shut down\n`);
    expect(r.code).toBe(1);
  });

  test("an unhandled rejection after cli() returned is one pop: line and exit 1", async () => {
    const r = await pop(["app", CRASH, "rejection"]);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toContain(`pop: ${CRASH}/crash/init.ts:20:46: uncaught error in app "crash": nobody awaited me`);
    expect(r.code).toBe(1);
  });

  test("a project folder whose name no sub can have: the fix is a NAME in conf.ts (valid code), not a DYNE key with a space", async () => {
    const cwd = tmp();
    writeTree(cwd, { "my app/readme.txt": "x\n" });
    expect(await pop(["app", "my app"], { cwd })).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'pop: project folder my app is named "my app", which no sub can be named: add export const NAME = "my_app" and DYNE = { my_app: ["my_app"] } to its conf.ts\n',
    });
  });

  test("the help hint of a project folder with a space in its name is a command that runs as printed (shell-quoted)", async () => {
    const cwd = tmp();
    writeTree(cwd, {
      "my app/conf.ts": 'export const NAME = "x";\nexport const DYNE = { x: ["x"] };\n',
      "my app/x/init.ts": 'export async function cli(hub: any) { await hub.pop.config.load(["x"], { cli: "x" }); }\n',
    });
    expect(await pop(["app", "my app", "--bogus"], { cwd })).toEqual({
      code: 2,
      stdout: "",
      stderr: `pop: unknown option "--bogus"\nrun "pop app 'my app' --help" for the options\n`,
    });
    expect((await pop(["app", "my app", "--help"], { cwd })).code).toBe(0);
  });

  test("a DYNE folder of the app's own sub that does not exist is an error naming conf.ts and the folder", async () => {
    expect(await pop(["app", `${FIX}/nodyne`])).toEqual({
      stdout: "",
      stderr: `pop: ${FIX}/nodyne/conf.ts: DYNE "nodyne" names "${FIX}/nodyne/missing", which does not exist; create the folder or fix DYNE\n`,
      code: 2,
    });
  });
});

describe("pop app --help", () => {
  test("the usage line says [options] and every hub option is listed, --isolate, --isolate-env, --isolate-memory and --remote included", async () => {
    const r = await pop(["app", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[2]).toBe("Usage: pop app [options] DIR [ARGS]...");
    for (const o of [
      "--isolate SUB=MODE",
      "--isolate-env SUB=VARS",
      "--isolate-memory SUB=MIB",
      "--remote SUB=URL",
      "--load-timeout MS",
      "--no-packages",
      "--json",
    ])
      expect(r.stdout).toContain(`\n  ${o} `);
  });
});

describe("help and --version are results", () => {
  test("--help prints the project's help, exit 0, without running the app (cli() is never called)", async () => {
    const r = await pop(["app", CRASH, "throw", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toStartWith(`Usage: pop app ${CRASH} [options] [MODE]\n`);
  });

  test("--help is answered before the app's code: an app that prints before loading its config prints only the help", async () => {
    const r = await pop(["app", PROBE, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`Usage: pop app ${PROBE} [options]\n`);
    expect(r.stdout).not.toContain("greet");
  });

  test("--version comes from conf.ts VERSION, else the project's package.json", async () => {
    expect(await pop(["app", CRASH, "--version"])).toEqual({ stdout: "crash 1.0.0-test\n", stderr: "", code: 0 });
    expect(await pop(["app", VERSIONED, "--version"])).toEqual({ stdout: "versioned 2.3.4\n", stderr: "", code: 0 });
    expect(await pop(["config", "show", VERSIONED, "--version"])).toEqual({ stdout: "versioned 2.3.4\n", stderr: "", code: 0 });
  });

  test("a project without a version says where to put one", async () => {
    expect(await pop(["app", PROBE, "--version"])).toEqual({
      stdout: "",
      stderr: `pop: project "probe" has no version: add "version" to ${PROBE}/package.json, or export const VERSION = "1.0.0" from ${PROBE}/conf.ts\n`,
      code: 2,
    });
  });

  test("options grouped with group and display_priority, each group under its heading (a prioritised group first); logging options shown", async () => {
    const r = await pop(["app", VERSIONED, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Usage: pop app ${VERSIONED} [options]

Server:
  --host HOST  Host to listen on (env VERSIONED_HOST; default "localhost")
  --port PORT  Port to listen on (env VERSIONED_PORT; default 8000)

Options:
  --verbose      Talk more (env VERSIONED_VERBOSE; default false)
  --config FILE  Read options from FILE instead of versioned.config.* (env VERSIONED_CONFIG)
  --version      Print versioned's version and exit
  -h, --help     Show this help

Display:
  --colour COLOUR  Colour of the output (env VERSIONED_COLOUR; default "none")

Logging:
  --log-level LEVEL  Report diagnostics at LEVEL and above: error, warn, info, debug, trace (env VERSIONED_LOG_LEVEL; default "info")
  --log-file FILE    Also append diagnostics to FILE (env VERSIONED_LOG_FILE)
  --log-fmt FORMAT   Diagnostics as text, json, auto (JSON lines when stderr is not a terminal) (env VERSIONED_LOG_FMT; default "text")

Config files (in the working directory): versioned.config.{ts,mts,cts,js,mjs,cjs,json,jsonc,json5,yaml,yml,toml}, .versionedrc
Precedence: default < config file < environment < command line
`);
  });
});

describe("logging options configure pop's output", () => {
  const cwd = () => writeTree(tmp(), { "versioned.config.json": '{ "prot": 1 }\n' });
  const warning = `versioned.config.json: unknown key "prot" is ignored; did you mean "port"?`;
  const app = join(ROOT, VERSIONED);

  test("--log-level error hides warnings; VERSIONED_LOG_LEVEL does the same", async () => {
    expect((await pop(["app", app], { cwd: cwd() })).stderr).toBe(`pop: warning: ${warning}\n`);
    expect((await pop(["app", app, "--log-level", "error"], { cwd: cwd() })).stderr).toBe("");
    expect((await pop(["app", app], { cwd: cwd(), env: { VERSIONED_LOG_LEVEL: "error" } })).stderr).toBe("");
  });

  test("--log-fmt json makes warnings JSON lines; --log-file appends them to a file", async () => {
    const r = await pop(["app", app, "--log-fmt", "json"], { cwd: cwd() });
    expect(JSON.parse(r.stderr)).toMatchObject({ level: "warn", msg: warning });
    const dir = cwd();
    await pop(["app", app, "--log-file", "log.txt"], { cwd: dir });
    expect(readFileSync(join(dir, "log.txt"), "utf8")).toEndWith(` warn ${warning}\n`);
  });

  test("a bad level is a usage error naming the flag and the choices", async () => {
    expect(await pop(["app", CRASH, "--log-level", "loud"])).toEqual({
      stdout: "",
      stderr: `pop: invalid value for option "log-level" from --log-level: "loud" is not one of "error", "warn", "info", "debug", "trace"\n`,
      code: 2,
    });
  });
});

describe("pop app and pop config take the hub options pop call takes", () => {
  test("--disable and POP_DISABLE leave a module out (pop app used to reject --disable)", async () => {
    expect(await pop(["app", PROBE])).toEqual({ stdout: "greet: hi\n", stderr: "", code: 0 });
    expect((await pop(["app", "--disable", "tools.greet", PROBE])).stdout).toBe("greet: unavailable\n");
    expect((await pop(["app", PROBE], { env: { POP_DISABLE: "tools" } })).stdout).toBe("greet: unavailable\n");
    expect((await pop(["app", "--strict", PROBE])).code).toBe(0);
  });

  test("POP_PLUGIN_PATH merges a project, as --plugins does", async () => {
    const r = await pop(["app", MARKET, "-c", "USD"], { env: { POP_PLUGIN_PATH: MONEY } });
    expect(r).toEqual({ stdout: `{"market":{"name":"corner shop"},"money":{"currency":"USD","rounding":2}}\n`, stderr: "", code: 0 });
    const s = await pop(["config", "show", MARKET, "-c", "USD"], { env: { POP_PLUGIN_PATH: MONEY } });
    expect(s).toEqual({ stdout: `market.name    = "corner shop"\nmoney.currency = "USD"\nmoney.rounding = 2\n`, stderr: "", code: 0 });
    expect((await pop(["config", "schema", "--disable", "money", MARKET], { env: { POP_PLUGIN_PATH: MONEY } })).code).toBe(0);
  });

  test("the working directory's packages never join a named project (its own package.json's would)", async () => {
    const cwd = writeTree(tmp(), {
      "package.json": '{ "dependencies": { "intruder": "1" } }\n',
      "node_modules/intruder/package.json": '{ "name": "intruder", "pop": "plugins" }\n',
      "node_modules/intruder/plugins/conf.ts": 'export const NAME = "intruder";\nexport const CONFIG = { evil: { default: 1, help: "x" } };\n',
    });
    const r = await pop(["config", "show", "--plugins", join(ROOT, MONEY), join(ROOT, MARKET)], { cwd });
    expect(r).toEqual({ stdout: `market.name    = "corner shop"\nmoney.currency = "EUR"\nmoney.rounding = 2\n`, stderr: "", code: 0 });
  });

  test("a merged project that is missing: the message says how to add it on the command line", async () => {
    const r = await pop(["app", MARKET, "-c", "USD"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pop: ${MARKET}/conf.ts: CLI_CONFIG option "currency" comes from project "money" ("source"), which is not on the hub (projects: "market"); add its folder on the command line with --plugins before the project folder, e.g. "pop app --plugins path/to/money DIR" (or list it in POP_PLUGIN_PATH)\n`,
    );
  });
});

test("a module that fails to load when the app's cli reaches it is reported once, as the app's error (not a warning too)", async () => {
  const dir = writeTree(tmp(), {
    "conf.ts": 'export const NAME = "app";\n',
    "app/init.ts": "export async function cli(hub: any) { return hub.app.bad.f(); }\n",
    "app/bad.ts": "export function f(hub: any) { return 1 +; }\n",
  });
  const r = await pop(["app", dir]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(`pop: ${join(dir, "app/bad.ts")}:1:41: module "app.bad" not loaded: syntax error: Unexpected ;\n`);
});

test("pop app of a project whose sub has no init.ts says so (not that init.ts does not export cli)", async () => {
  const dir = writeTree(tmp(), { "conf.ts": 'export const NAME = "app";\n', "app/m.ts": "export function x(hub: any) {}\n" });
  const r = await pop(["app", dir]);
  expect(r.code).toBe(2);
  expect(r.stderr).toStartWith(`pop: ${join(dir, "app")} has no init.ts, where an app starts: add one holding \``);
});
