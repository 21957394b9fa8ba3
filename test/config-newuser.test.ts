// What a new user tripped over in the config integrator (session 9's pass), each through dist/pop: choices on a list
// option, --no- on a store_false switch, a bad "env" setting, two options on one variable, a BOM, empty files, a TS
// config's syntax error, and hub.OPT assignments that must throw.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const POPPY = join(ROOT, "examples/poppy");
const CLEAN = { POPPY_PORT: undefined, POPPY_ADDR: undefined, NODE_ENV: undefined };

/** A project "ty" with `conf` as its conf.ts; returns its folder. */
function project(conf: string, files: Record<string, string> = {}): string {
  return join(writeTree(tmp(), { "ty/conf.ts": conf, ...files }), "ty");
}

describe("option definitions", () => {
  test("choices on an append option are checked element by element", async () => {
    const dir = project(
      'export const CONFIG = { t: { default: [], help: "tags", type: "array" } };\nexport const CLI_CONFIG = { t: { action: "append", choices: ["a", "b"] } };\n',
    );
    expect(await pop(["config", "show", dir, "--json"])).toEqual({ code: 0, stdout: `${JSON.stringify({ ty: { t: [] } }, null, 2)}\n`, stderr: "" });
    expect(JSON.parse((await pop(["config", "show", dir, "--json", "--t", "a", "--t", "b"])).stdout)).toEqual({ ty: { t: ["a", "b"] } });
    const bad = await pop(["config", "show", dir, "--t", "a", "--t", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('pop: invalid value for option "t" from --t: ["a","x"] has "x" at [1], which is not one of "a", "b"\n');
  });

  test("--no-<name> on a store_false switch sets it true, the opposite of the switch", async () => {
    const dir = project('export const CONFIG = { quiet: { default: true, help: "q" } };\nexport const CLI_CONFIG = { quiet: { action: "store_false" } };\n');
    const value = async (...flags: string[]) => JSON.parse((await pop(["config", "show", dir, "--json", ...flags])).stdout).ty.quiet;
    expect(await value()).toBe(true);
    expect(await value("--quiet")).toBe(false);
    expect(await value("--no-quiet")).toBe(true);
  });

  test('"env" that is no name nor list is a definition error naming conf.ts, not a crash', async () => {
    for (const env of ["null", "5", "{}"]) {
      const dir = project(`export const CONFIG = { port: { default: 1, help: "p", env: ${env} } };\n`);
      const r = await pop(["config", "show", dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `pop: ${join(dir, "conf.ts")}: CONFIG option "port": "env" must be a variable name or a list of them (or [] for none); got ${env}\n`,
      );
    }
  });

  test("two options of one project reading one environment variable is a definition error", async () => {
    const dir = project('export const CONFIG = { "a-b": { default: 1, help: "x" }, a_b: { default: 2, help: "y" } };\n');
    const r = await pop(["config", "show", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pop: ${join(dir, "conf.ts")}: CONFIG options "a-b" and "a_b" both read the environment variable TY_A_B; give one another name with "env"\n`,
    );
    const named = project('export const CONFIG = { host: { default: "h", help: "x" }, port: { default: 2, help: "y", env: "TY_HOST" } };\n');
    expect((await pop(["config", "show", named])).stderr).toContain('CONFIG options "host" and "port" both read the environment variable TY_HOST');
  });
});

describe("config files", () => {
  const show = async (files: Record<string, string | Uint8Array>) => {
    const cwd = tmp();
    for (const [name, data] of Object.entries(files)) await Bun.write(join(cwd, name), data);
    return pop(["config", "show", POPPY, "--json"], { cwd, env: CLEAN });
  };
  const port = async (files: Record<string, string | Uint8Array>) => JSON.parse((await show(files)).stdout).poppy.port;

  test("a JSON file saved with a byte-order mark is read", async () => {
    expect(await port({ "poppy.config.json": new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"port": 1234}')]) })).toBe(1234);
  });

  test("an empty file, of any format, or YAML of comments only, is a file with no settings yet", async () => {
    for (const name of ["poppy.config.json", "poppy.config.yaml", "poppy.config.toml", "poppy.config.json5"]) expect(await port({ [name]: "\n" })).toBe(8888);
    expect(await port({ "poppy.config.yaml": "# nothing here yet\n" })).toBe(8888);
  });

  test("a TS config file's syntax error says what is wrong, where", async () => {
    const r = await show({ "poppy.config.ts": "export default { port: 9004,, };\n" });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr).msg).toBe('poppy.config.ts:1:30: cannot load the config file: Expected identifier but found ","');
  });
});

test("hub.OPT: assigning to it, to a project's options or inside them throws a TypeError", async () => {
  const dir = project('export const CONFIG = { port: { default: 1, help: "p" } };\n', {
    "ty/ty/init.ts": [
      "export async function cli(hub: any) {",
      '  await hub.pop.config.load(["ty"], { cli: "ty" });',
      "  for (const f of [() => { hub.OPT.ty = { port: 2 }; }, () => { hub.OPT = {}; }, () => { hub.OPT.ty.port = 3; }]) {",
      '    try { f(); console.log("assigned"); } catch (e) { console.log((e as Error).constructor.name); }',
      "  }",
      "  console.log(hub.OPT.ty.port);",
      "}",
    ].join("\n"),
  });
  expect(await pop(["app", dir])).toEqual({ code: 0, stdout: "TypeError\nTypeError\nTypeError\n1\n", stderr: "" });
});

describe("messages and help", () => {
  test("a default that fails its own type names the conf file", async () => {
    const dir = project('export const CONFIG = { n: { default: "ten", help: "N", type: "integer" } };\n');
    const r = await pop(["config", "show", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(`pop: invalid value for option "n" from its default in ${join(dir, "conf.ts")}: "ten" is not`);
  });

  test("a key of the active $<env> section is warned about once, with its section", async () => {
    const cwd = writeTree(tmp(), { "poppy.config.json": '{"port": 1000, "$production": {"port": 2000, "prot": 1}}' });
    const r = await pop(["config", "show", POPPY], { cwd, env: { ...CLEAN, NODE_ENV: "production" } });
    expect(r.stderr).toBe('pop: warning: poppy.config.json: unknown key "$production.prot" is ignored; did you mean "port"?\n');
    expect(r.stdout).toContain("poppy.port = 2000");
  });

  test("another project's section that is no object is an error saying what it must be", async () => {
    const root = writeTree(tmp(), {
      "money/conf.ts": 'export const CONFIG = { currency: { default: "EUR", help: "c" } };\n',
      "market/conf.ts": 'export const CONFIG = { open: { default: true, help: "o" } };\n',
    });
    const cwd = writeTree(tmp(), { "market.config.json": '{"money": 5}' });
    const r = await pop(["config", "show", "--plugins", join(root, "money"), join(root, "market")], { cwd });
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: 'pop: market.config.json: "money" holds project "money"\'s options, so it must be an object of them, e.g. "money": { "currency": ... }; got 5\n',
    });
  });

  test("two plugin roots of one project name: a warning naming both conf files, the first one's options", async () => {
    const root = writeTree(tmp(), {
      "a/shop/conf.ts": 'export const CONFIG = { port: { default: 1, help: "p" } };\n',
      "b/shop/conf.ts": 'export const CONFIG = { host: { default: "h", help: "h" } };\n',
    });
    const r = await pop(["config", "show", "--plugins", join(root, "b/shop"), join(root, "a/shop")]);
    expect(r).toEqual({
      code: 0,
      stdout: "shop.port = 1\n",
      stderr: `pop: warning: project "shop" is defined by more than one plugin root: ${join(root, "a/shop/conf.ts")} and ${join(root, "b/shop/conf.ts")}; the options of the first are used (give the others another NAME in their conf.ts)\n`,
    });
  });

  test("--help: display_priority brings a group before Options:, and an app's own Logging group takes pop's logging flags", async () => {
    const dir = project(
      [
        'export const CONFIG = { d: { default: 1, help: "data dir" }, c: { default: 2, help: "cache" }, v: { default: false, help: "verbose" } };',
        'export const CLI_CONFIG = { d: { group: "Storage", display_priority: -1 }, c: { display_priority: 0 }, v: { group: "Logging" } };',
      ].join("\n"),
    );
    const help = (await pop(["config", "show", dir, "--help"])).stdout;
    const headings = help.split("\n").filter((l) => /^\S.*:$/.test(l));
    expect(headings).toEqual(["Storage:", "Options:", "Logging:"]);
    const logging = help.slice(help.indexOf("Logging:"));
    expect(logging).toContain("--v");
    expect(logging).toContain("--log-level LEVEL");
  });
});

test("a config file left in the project's folder while pop runs elsewhere is said to be unread, with the two ways to read it", async () => {
  const dir = project('export const CONFIG = { port: { default: 1, help: "p" } };\n', { "ty/ty.config.json": '{"port": 5}' });
  const cwd = tmp();
  const r = await pop(["config", "show", dir], { cwd });
  expect(r.stdout).toBe("ty.port = 1\n");
  expect(r.stderr).toBe(
    `pop: warning: ${join(dir, "ty.config.json")} is not read: config files are read from the working directory (${cwd}); run pop from the project folder, or pass --config ${join(dir, "ty.config.json")}\n`,
  );
  expect(await pop(["config", "show", dir], { cwd: dir })).toEqual({ code: 0, stdout: "ty.port = 5\n", stderr: "" });
});

test("a conf.ts export a letter from one pop reads is said to do nothing, with the name meant; other exports are the project's own", async () => {
  const dir = project(
    'export const CONFIG = { port: { default: 1, help: "p" } };\nexport const CLI_CONFG = { port: { options: ["-p"] } };\nexport const DEFAULT_PORT = 1;\n',
  );
  for (const cmd of [
    ["config", "show", dir],
    ["call", "ty.x.f", "--plugins", dir],
  ]) {
    const r = await pop(cmd);
    expect(r.stderr).toContain(
      `pop: warning: ${join(dir, "conf.ts")}: export "CLI_CONFG" is not one pop reads, so it does nothing; did you mean "CLI_CONFIG"?\n`,
    );
    expect(r.stderr).not.toContain("DEFAULT_PORT");
  }
});

test("command-line slips say the way that works: --no-<switch>, a file-only setting, an empty --config; help shows how to turn a default-on switch off", async () => {
  const dir = project(
    'export const CONFIG = { b: { default: true, help: "bee" }, debug: { default: false, help: "dbg" }, limits: { default: {}, help: "lim", type: "object" } };\nexport const CLI_CONFIG = { b: {}, debug: {} };\n',
  );
  const err = async (...args: string[]) => {
    const r = await pop(["config", "show", dir, ...args]);
    expect(r.code).toBe(2);
    return r.stderr.split("\n")[0];
  };
  expect(await err("--debug=false")).toBe("pop: option --debug is a switch and takes no value; to turn it off, give --no-debug");
  expect(await err("--limits", "3")).toBe(
    'pop: unknown option "--limits"; "limits" is set in ty\'s config file or the environment (TY_LIMITS), not on the command line',
  );
  expect(await err("--config", "")).toBe('pop: config file "" (from --config) names no file; give the path of a config file, e.g. ty.config.json');
  expect((await pop(["config", "show", dir, "--help"])).stdout).toContain("--b            bee (off with --no-b; env TY_B; default true)");
});

test("--help after a subcommand shows that subcommand: its usage, its help, the arguments and options it takes", async () => {
  const tasks = join(ROOT, "test/fixtures/config/tasks");
  const run = (await pop(["config", "show", tasks, "run", "--help"])).stdout;
  expect(run).toStartWith(`Usage: pop config show ${tasks} run [options] NAME [ARGS...]\n\nRun a task\n`);
  expect(run).not.toContain("Subcommands:");
  const list = (await pop(["config", "show", tasks, "list", "--help"])).stdout;
  expect(list).toStartWith(`Usage: pop config show ${tasks} list [options]\n\nList the tasks\n`);
  expect(list).not.toContain("--force");
  expect(list).toContain("-w, --workers WORKERS");
  const top = (await pop(["config", "show", tasks, "--help"])).stdout;
  expect(top).toStartWith(`Usage: pop config show ${tasks} [options] [SUBCOMMAND] ...\n`);
  expect(top).toContain(`(pop config show ${tasks} SUBCOMMAND --help: what one takes)`);
});

test("numbers from the environment and flags are decimal: 0x10 and Infinity are refused, 9e3 and -1.5 read", async () => {
  const dir = project('export const CONFIG = { n: { default: 1, help: "n", type: "number" } };\nexport const CLI_CONFIG = { n: {} };\n');
  const n = async (value: string) => {
    const r = await pop(["config", "show", dir, "--json"], { env: { TY_N: value } });
    return r.code === 0 ? JSON.parse(r.stdout).ty.n : JSON.parse(r.stderr).msg;
  };
  expect(await n("9e3")).toBe(9000);
  expect(await n("-1.5")).toBe(-1.5);
  expect(await n("0x10")).toBe('invalid value for option "n" from environment variable TY_N: "0x10" is not a number (expected number)');
  expect(await n("Infinity")).toBe('invalid value for option "n" from environment variable TY_N: "Infinity" is not a number (expected number)');
});

test("--help: a group with no display_priority comes after Options:, as before", async () => {
  const dir = project(
    'export const CONFIG = { host: { default: "h", help: "h" }, verbose: { default: false, help: "v" } };\nexport const CLI_CONFIG = { host: { group: "Server" }, verbose: {} };\n',
  );
  const help = (await pop(["config", "show", dir, "--help"])).stdout;
  expect(help.split("\n").filter((l) => /^\S.*:$/.test(l))).toEqual(["Options:", "Server:", "Logging:"]);
});
