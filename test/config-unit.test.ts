// The config integrator in-process: load() on a hub, hub.pop.config, coercion, freezing, and what stays off the start-up path.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, type ConfModule, load } from "../src/config/index.ts";
import { coerce, lazySchema } from "../src/config/_schema.ts";
import { frozenCopy } from "../src/config/_resolve.ts";
import { createHub } from "../src/hub/index.ts";
import { ROOT, tmp } from "./helpers.ts";

const APP: ConfModule = {
  CONFIG: {
    port: { default: 8888, help: "Port" },
    hosts: { default: ["a"], help: "Hosts" },
    limits: { default: { cart: 10 }, help: "Limits", type: z.record(z.string(), z.number()) },
    when: { default: undefined, help: "A date", type: z.coerce.date().optional() },
  },
  CLI_CONFIG: { port: { options: ["-p"] }, hosts: { action: "append" } },
};

/** A load outside any hub: no plugin roots (definitions come from `confs`), warnings dropped. */
const NO_ROOTS = { roots: [], warn: () => {} };

function quietHub() {
  const warnings: string[] = [];
  return { hub: createHub({ warn: (m) => warnings.push(m) }), warnings };
}

describe("load", () => {
  test("sets hub.OPT.<project>, frozen, and returns each value's source", async () => {
    const { hub } = quietHub();
    const r = await hub.pop.config.load(["app"], { cli: "app", confs: { app: APP }, argv: ["-p", "9000"], env: { APP_HOSTS: "x,y" }, cwd: tmp() });
    expect(hub.OPT.app).toEqual({ port: 9000, hosts: ["x", "y"], limits: { cart: 10 }, when: undefined });
    expect(Object.isFrozen(hub.OPT.app) && Object.isFrozen(hub.OPT.app.hosts) && Object.isFrozen(hub.OPT.app.limits)).toBe(true);
    expect(r.sources.app!.port!.origin).toEqual({ kind: "cli", flag: "-p" });
    expect(r.sources.app!.hosts!.origin).toEqual({ kind: "env", name: "APP_HOSTS" });
    expect(r.sources.app!.limits!.origin).toEqual({ kind: "default", file: undefined });
  });

  test("never freezes what the definition holds", async () => {
    const { hub } = quietHub();
    await hub.pop.config.load(["app"], { confs: { app: APP }, env: {}, cwd: tmp() });
    expect(Object.isFrozen(APP.CONFIG!.hosts!.default)).toBe(false);
    expect(Object.isFrozen(APP.CONFIG!.limits!.default)).toBe(false);
  });

  test("--help is a result, not an exception: the help text, nothing loaded; a bad value throws ConfigError (exit code 2)", async () => {
    const { hub } = quietHub();
    const help = await hub.pop.config.load(["app"], { cli: "app", confs: { app: APP }, argv: ["--help"], prog: "app" });
    expect(help.help).toStartWith("Usage: app [options]\n");
    expect(help.opt).toEqual({});
    expect(hub.OPT.app).toBeUndefined();
    const bad = await hub.pop.config
      .load(["app"], { cli: "app", confs: { app: APP }, argv: [], env: { APP_WHEN: "not a date" }, cwd: tmp() })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as ConfigError).exitCode).toBe(2);
    expect((bad as ConfigError).message).toBe(
      'invalid value for option "when" from environment variable APP_WHEN: "not a date" is not a date (expected a date)',
    );
  });

  test("load needs no hub: roots and a warning channel are its arguments, and src/config imports nothing of src/hub", async () => {
    const warnings: string[] = [];
    const cwd = tmp();
    await Bun.write(join(cwd, "app.config.json"), '{ "prot": 1 }');
    const r = await load(
      { roots: [{ dir: "/x/app", conf: APP as Record<string, unknown>, confFile: "/x/app/conf.ts" }], warn: (m) => warnings.push(m) },
      ["app"],
      { cli: "app", argv: ["-p", "7"], env: {}, cwd },
    );
    expect(r.opt.app!.port).toBe(7);
    expect(warnings).toEqual([`${join(cwd, "app.config.json")}: unknown key "prot" is ignored; did you mean "port"?`]);
    const { readdirSync } = await import("node:fs");
    for (const f of readdirSync(join(ROOT, "src/config"))) expect(readFileSync(join(ROOT, "src/config", f), "utf8")).not.toMatch(/from "\.\.\/hub\//);
  });

  test("a zod transform's output is what lands on hub.OPT", async () => {
    const { hub } = quietHub();
    const confs = { t: { CONFIG: { size: { default: "1k", help: "Size", type: z.string().transform((s) => Number.parseInt(s, 10) * 1024) } } } };
    await hub.pop.config.load(["t"], { confs, env: { T_SIZE: "2k" }, cwd: tmp() });
    expect(hub.OPT.t.size).toBe(2048);
  });

  test("hub.pop.config: load with ARGV, explain, show (secrets hidden)", async () => {
    const { hub } = quietHub();
    hub.pop.config.ARGV = ["--port", "1"];
    const confs = { app: { ...APP, CONFIG: { ...APP.CONFIG, key: { default: "k-123", help: "Key", secret: true } } } };
    await hub.pop.config.load(["app"], { cli: "app", confs, env: {}, cwd: tmp() });
    expect(hub.OPT.app.port).toBe(1);
    expect((await hub.pop.config.explain()).app).toEqual({ port: "from --port", hosts: "default", limits: "default", when: "default", key: "default" });
    const shown = await hub.pop.config.show();
    expect(shown).toContain("app.key    = <hidden>");
    expect(shown).not.toContain("k-123");
  });
});

describe("definition mistakes fail at load, naming the option", () => {
  const bad = async (conf: ConfModule) => (await load(NO_ROOTS, ["p"], { cli: "p", confs: { p: conf }, env: {}, cwd: tmp() }).catch((e) => e)) as Error;

  test("CLI settings inside CONFIG", async () => {
    expect((await bad({ CONFIG: { port: { default: 1, help: "x", options: ["-p"] } as never } })).message).toBe(
      'project "p": CONFIG option "port" has "options": command-line settings go in CLI_CONFIG, e.g. CLI_CONFIG = { port: { options: ["-p"] } }',
    );
  });

  test("no help", async () => {
    expect((await bad({ CONFIG: { port: { default: 1 } as never } })).message).toBe(
      'project "p": CONFIG option "port" needs "help": one line saying what it does',
    );
  });

  test("a flag used twice, and one taking pop's own", async () => {
    const conf = { CONFIG: { a: { default: 1, help: "a" }, b: { default: 2, help: "b" } } };
    expect((await bad({ ...conf, CLI_CONFIG: { a: { options: ["-x"] }, b: { options: ["-x"] } } })).message).toBe(
      'project "p": CLI_CONFIG option "b": flag -x is already used by option "a"; choose another',
    );
    expect((await bad({ ...conf, CLI_CONFIG: { a: { options: ["-h"] } } })).message).toBe(
      `project "p": CLI_CONFIG option "a": flag -h is already used by pop's --help; choose another`,
    );
  });

  test("a reserved name", async () => {
    expect((await bad({ CONFIG: { config: { default: "", help: "x" } } })).message).toStartWith('project "p": CONFIG option "config" uses a reserved name');
    for (const name of ["json", "explain", "version", "log_level", "log-file", "log_fmt", "help"]) {
      expect((await bad({ CONFIG: { [name]: { default: "", help: "x" } } })).message).toBe(
        `project "p": CONFIG option "${name}" uses a reserved name (pop's own flags: --config, --help, --version, --json, --explain, --log-level, --log-file, --log-fmt); rename it`,
      );
    }
    expect((await bad({ CONFIG: { a: { default: "", help: "x" } }, CLI_CONFIG: { a: { options: ["--json"] } } })).message).toBe(
      `project "p": CLI_CONFIG option "a": flag --json is already used by pop's --json; choose another`,
    );
    expect((await bad({ CONFIG: { a: { default: "", help: "x" } }, CLI_CONFIG: { a: { options: ["--log-level"] } } })).message).toBe(
      `project "p": CLI_CONFIG option "a": flag --log-level is already used by pop's --log-level; choose another`,
    );
  });
});

describe("coercion of strings from the environment and the command line", () => {
  test.each([
    ["number from a number", z.number(), "8080", 8080],
    ["number left alone when not one", z.number(), "abc", "abc"],
    ["number from empty left alone", z.number(), "", ""],
    ["boolean from yes", z.boolean(), "yes", true],
    ["boolean from 0", z.boolean(), "0", false],
    ["list from commas", z.array(z.number()), "1,2", [1, 2]],
    ["list from JSON", z.array(z.number()), "[3, 4]", [3, 4]],
    ["list from repeated flags", z.array(z.number()), ["5", "6"], [5, 6]],
    ["record from JSON", z.record(z.string(), z.number()), '{"a": 1}', { a: 1 }],
    ["enum", z.enum(["a", "b"]), "a", "a"],
    ["number literal", z.literal(3), "3", 3],
    ["union: the literal", z.union([z.number(), z.literal("auto")]), "auto", "auto"],
    ["union: the number", z.union([z.number(), z.literal("auto")]), "7", 7],
    ["through optional and default", z.number().optional().default(1), "2", 2],
    ["a transform's input type (string) is kept", z.string().transform((s) => s.length), "abc", "abc"],
  ] as const)("%s", (_label, schema, raw, want) => {
    expect(coerce(schema, raw)).toEqual(want);
  });
});

test("frozenCopy copies plain data and freezes it all the way down", () => {
  const input = { a: [1, { b: 2 }], d: new Date(0) };
  const out = frozenCopy(input);
  expect(out).toEqual(input);
  expect(Object.isFrozen(input)).toBe(false);
  expect(Object.isFrozen(out.a) && Object.isFrozen(out.a[1])).toBe(true);
});

test("start-up path: the built-in module and the CLI import src/config only inside functions", () => {
  const plugin = readFileSync(join(ROOT, "plugins/pop/config.ts"), "utf8");
  expect(plugin).not.toMatch(/^import (?!type ).*src\/config/m);
  const commands = readFileSync(join(ROOT, "src/cli/_commands.ts"), "utf8");
  expect(commands).not.toMatch(/^import (?!type ).*(config|c12|zod)/m);
  expect(readFileSync(join(ROOT, "src/cli/config.ts"), "utf8")).not.toMatch(/^import (?!type ).*(\.\.\/config|c12|zod)/m);
});

test("the executable carries no jiti: c12 loads config files with Bun's import()", () => {
  const bin = readFileSync(process.env.POP_BIN ?? join(ROOT, "dist/pop"));
  expect(bin.includes("JITI_DEBUG")).toBe(false);
  expect(bin.includes("jiti is not bundled into pop")).toBe(true);
});

describe("schemas built when needed", () => {
  const conf = (CONFIG: NonNullable<ConfModule["CONFIG"]>, CLI_CONFIG: NonNullable<ConfModule["CLI_CONFIG"]> = {}): ConfModule => ({ CONFIG, CLI_CONFIG });

  test("defaults typed by themselves need no check; a wrong value from elsewhere still fails", async () => {
    const { hub } = quietHub();
    const c = conf({ port: { default: 8888, help: "Port" }, verbose: { default: false, help: "Talk" } }, { port: {}, verbose: {} });
    const r = await hub.pop.config.load(["app"], { confs: { app: c }, cli: "app", argv: [], env: {} });
    expect(r.opt.app).toEqual({ port: 8888, verbose: false });
    // an inferred boolean is a switch on the command line, a number takes a value
    const s = await load(NO_ROOTS, ["app"], { confs: { app: c }, cli: "app", argv: ["--verbose", "--port", "9"], env: {} });
    expect(s.opt.app).toEqual({ port: 9, verbose: true });
    await expect(load(NO_ROOTS, ["app"], { confs: { app: c }, cli: "app", argv: ["--port", "x"], env: {} })).rejects.toThrow(
      `invalid value for option "port" from --port: "x" is not a number`,
    );
  });

  test("an option declared boolean (by name, constructor or zod schema) is a switch on the command line", async () => {
    const c = conf(
      {
        a: { default: false, help: "A", type: "boolean" },
        b: { default: false, help: "B", type: Boolean },
        c: { default: false, help: "C", type: z.boolean() },
        n: { default: 1, help: "N", type: "integer" },
      },
      { a: {}, b: {}, c: {}, n: {} },
    );
    const r = await load(NO_ROOTS, ["app"], { confs: { app: c }, cli: "app", argv: ["--a", "--b", "--c", "--n", "2"], env: {} });
    expect(r.opt.app).toEqual({ a: true, b: true, c: true, n: 2 });
  });

  test("a default the schema would refuse still fails: not finite, outside choices, against its type", async () => {
    const load1 = (CONFIG: NonNullable<ConfModule["CONFIG"]>, CLI: NonNullable<ConfModule["CLI_CONFIG"]> = {}) =>
      load(NO_ROOTS, ["app"], { confs: { app: conf(CONFIG, CLI) }, env: {} });
    await expect(load1({ limit: { default: Infinity, help: "Limit" } })).rejects.toThrow(`invalid value for option "limit" from default: Infinity`);
    await expect(load1({ mode: { default: "slow", help: "Mode" } }, { mode: { choices: ["fast", "safe"] } })).rejects.toThrow(
      `invalid value for option "mode" from default: "slow" is not one of "fast", "safe"`,
    );
    await expect(load1({ n: { default: "ten", help: "N", type: "integer" } })).rejects.toThrow(`invalid value for option "n" from default: "ten" is not`);
    await expect(load1({ n: { default: 1, help: "N", type: "complex" as never } })).rejects.toThrow(`CONFIG option "n": "type" must be a zod schema or one of`);
    await expect(load1({ n: { default: 1.5, help: "N", type: "integer" } })).rejects.toThrow(`invalid value for option "n" from default: 1.5 is not`);
  });

  test("a named type's own default, and any string for a plain string option, skip the check (no zod built); nothing else does", async () => {
    expect(lazySchema({ default: 5000, help: "T", type: "integer" }).trustsDefault).toBe(true);
    expect(lazySchema({ default: 1.5, help: "T", type: "integer" }).trustsDefault).toBe(false);
    expect(lazySchema({ default: "5000", help: "T", type: "integer" }).trustsDefault).toBe(false);
    expect(lazySchema({ default: "x", help: "S", type: String }).trustsDefault).toBe(true);
    expect(lazySchema({ default: "x", help: "S" }).trustsString).toBe(true);
    expect(lazySchema({ default: "", help: "S", type: "string" }).trustsString).toBe(true);
    expect(lazySchema({ default: "x", help: "S", type: z.string().min(2) }).trustsString).toBe(false);
    expect(lazySchema({ default: 1, help: "N" }).trustsString).toBe(false);
    const c = conf(
      { host: { default: "a", help: "Host" }, name: { default: "", help: "Name", type: "string" }, n: { default: 7, help: "N", type: "integer" } },
      { host: {}, name: {}, n: {} },
    );
    const r = await load(NO_ROOTS, ["app"], { confs: { app: c }, cli: "app", argv: ["--host", " b c "], env: { APP_NAME: "0x10" } });
    expect(r.opt.app).toEqual({ host: " b c ", name: "0x10", n: 7 });
    expect(r.sources.app!.name!.origin).toEqual({ kind: "env", name: "APP_NAME" });
    // a string option with choices is still checked against them
    await expect(
      load(NO_ROOTS, ["app"], {
        confs: { app: conf({ mode: { default: "fast", help: "Mode" } }, { mode: { choices: ["fast", "safe"] } }) },
        cli: "app",
        argv: ["--mode", "slow"],
        env: {},
      }),
    ).rejects.toThrow(`invalid value for option "mode" from --mode: "slow" is not one of "fast", "safe"`);
  });
});
