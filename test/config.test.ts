// The config integrator through dist/pop: precedence, each source's error, unknown keys, merged projects, frozen OPT, secrets, --help.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const FIX = join(ROOT, "test/fixtures/config");
const SHOP = join(FIX, "shop");
const CLEAN = { NODE_ENV: undefined };

/** `pop config show SHOP --json --explain` in `cwd`: each option's value and source. */
async function explain(cwd: string, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const r = await pop(["config", "show", SHOP, "--json", "--explain", ...args], { cwd, env: { ...CLEAN, ...env } });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).shop as Record<string, { value: unknown; source: string }>;
}

describe("precedence: default < config file < environment < command line", () => {
  test("default when nothing else sets it", async () => {
    const o = await explain(tmp());
    expect(o.port).toMatchObject({ value: 8000, source: "default" });
    expect(o.host).toMatchObject({ value: "localhost", source: "default" });
  });

  test("config file over default", async () => {
    const cwd = writeTree(tmp(), { "shop.config.ts": `export default { port: 8100, host: "0.0.0.0" };\n` });
    const o = await explain(cwd);
    expect(o.port).toEqual({
      value: 8100,
      source: `from shop.config.ts key "port"`,
      origin: { kind: "file", file: join(cwd, "shop.config.ts"), key: "port" },
    } as never);
    expect(o.host!.value).toBe("0.0.0.0");
    expect(o.debug!.source).toBe("default");
  });

  test.each([
    ["shop.config.ts", "export default { port: 8101 };\n"],
    ["shop.config.js", "export default { port: 8101 };\n"],
    ["shop.config.mjs", "export default { port: 8101 };\n"],
    ["shop.config.json", '{ "port": 8101 }\n'],
    ["shop.config.jsonc", '{\n  // a comment\n  "port": 8101,\n}\n'],
    ["shop.config.yaml", "port: 8101\n"],
    ["shop.config.toml", "port = 8101\n"],
    [".shoprc", "port=8101\n"],
  ])("each file format: %s", async (name, text) => {
    const o = await explain(writeTree(tmp(), { [name]: text }));
    expect(o.port).toMatchObject({ value: 8101, source: `from ${name} key "port"` });
  });

  test("environment over config file, coerced to the option's type", async () => {
    const cwd = writeTree(tmp(), { "shop.config.json": `{ "port": 8100, "debug": false }\n` });
    const o = await explain(cwd, [], { SHOP_PORT: "8200", SHOP_DEBUG: "true", SHOP_TAG: "a,b", SHOP_LIMITS: '{"cart": 3}' });
    expect(o.port).toMatchObject({ value: 8200, source: "from environment variable SHOP_PORT" });
    expect(o.debug).toMatchObject({ value: true, source: "from environment variable SHOP_DEBUG" });
    expect(o.tag).toMatchObject({ value: ["a", "b"], source: "from environment variable SHOP_TAG" });
    expect(o.limits).toMatchObject({ value: { cart: 3 }, source: "from environment variable SHOP_LIMITS" });
  });

  test("command line over environment", async () => {
    const cwd = writeTree(tmp(), { "shop.config.yaml": "port: 8100\n" });
    const o = await explain(cwd, ["--port", "8300", "-t", "x", "-t", "y"], { SHOP_PORT: "8200", SHOP_TAG: "a" });
    expect(o.port).toMatchObject({ value: 8300, source: "from --port" });
    expect(o.tag).toMatchObject({ value: ["x", "y"], source: "from -t" });
  });

  test("an option's env names its variable instead of SHOP_DB_URL", async () => {
    const o = await explain(tmp(), [], { DATABASE_URL: "postgres://db", SHOP_DB_URL: "ignored" });
    expect(o.db_url).toMatchObject({ value: "postgres://db", source: "from environment variable DATABASE_URL" });
  });

  test(".shoprc, extends and $production overrides (NODE_ENV=production)", async () => {
    const cwd = writeTree(tmp(), {
      "shop.config.toml": `extends = "./base/shop.config.json"\nport = 8100\n["$production"]\nport = 443\n`,
      "base/shop.config.json": `{ "host": "base.example", "mode": "safe" }\n`,
      ".shoprc": "verbose=2\nmode=fast\n",
    });
    const dev = await explain(cwd);
    expect(dev.port!.source).toBe(`from shop.config.toml key "port"`);
    expect(dev.host).toMatchObject({ value: "base.example", source: `from base/shop.config.json key "host"` });
    expect(dev.verbose).toMatchObject({ value: 2, source: `from .shoprc key "verbose"` });
    expect(dev.mode).toMatchObject({ value: "fast", source: `from .shoprc key "mode"` });
    const prod = await explain(cwd, [], { NODE_ENV: "production" });
    expect(prod.port).toMatchObject({ value: 443, source: `from shop.config.toml key "$production.port"` });
  });

  test("--config FILE (or SHOP_CONFIG) names the file; a TypeScript file may use defineConfig from pop", async () => {
    const cwd = writeTree(tmp(), {
      "shop.config.json": `{ "port": 8100 }\n`,
      "conf/staging.ts": `import { defineConfig } from "pop";\nexport default defineConfig({ port: 9100 });\n`,
    });
    expect((await explain(cwd, ["--config", "conf/staging.ts"])).port).toMatchObject({ value: 9100, source: `from conf/staging.ts key "port"` });
    expect((await explain(cwd, [], { SHOP_CONFIG: "conf/staging.ts" })).port!.value).toBe(9100);
  });
});

describe("errors: one message naming the option, the source, the value and what was expected (exit 2, nothing on stdout)", () => {
  const fails = async (args: string[], cwd: string, env: Record<string, string> = {}) => {
    const r = await pop(["config", "show", SHOP, ...args], { cwd, env: { ...CLEAN, ...env } });
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    return r.stderr;
  };

  test("from a config file: the file path and key", async () => {
    const cwd = writeTree(tmp(), { "shop.config.json": `{ "port": "eighty" }\n` });
    expect(await fails([], cwd)).toBe(
      `pop: invalid value for option "port" from shop.config.json key "port": "eighty" is not a number (expected integer from 1 to 65535)\n`,
    );
  });

  test("from the environment: the variable", async () => {
    expect(await fails([], tmp(), { SHOP_PORT: "abc" })).toBe(
      `pop: invalid value for option "port" from environment variable SHOP_PORT: "abc" is not a number (expected integer from 1 to 65535)\n`,
    );
  });

  test("from the command line: the flag as given", async () => {
    expect(await fails(["-p", "70000"], tmp())).toBe(
      `pop: invalid value for option "port" from -p: "70000" is invalid: too big: expected number to be <=65535 (expected integer from 1 to 65535)\n`,
    );
  });

  test("choices are checked for every source", async () => {
    expect(await fails(["--mode", "slow"], tmp())).toBe(`pop: invalid value for option "mode" from --mode: "slow" is not one of "fast", "safe"\n`);
    const cwd = writeTree(tmp(), { "shop.config.json": `{ "mode": "slow" }\n` });
    expect(await fails([], cwd)).toBe(`pop: invalid value for option "mode" from shop.config.json key "mode": "slow" is not one of "fast", "safe"\n`);
  });

  test("several bad values: one line each", async () => {
    expect(await fails(["--mode", "slow"], tmp(), { SHOP_DEBUG: "maybe" })).toBe(
      `pop: invalid value for option "debug" from environment variable SHOP_DEBUG: "maybe" is not a boolean (expected boolean)\ninvalid value for option "mode" from --mode: "slow" is not one of "fast", "safe"\n`,
    );
  });

  test("an unknown flag names the nearest one", async () => {
    expect(await fails(["--prot", "1"], tmp())).toBe(
      `pop: unknown option "--prot"; did you mean "--port"?\nrun "pop config show ${SHOP} --help" for the options\n`,
    );
  });

  test("a flag without its value", async () => {
    expect(await fails(["--port"], tmp())).toBe(`pop: option --port needs a value\nrun "pop config show ${SHOP} --help" for the options\n`);
  });

  test("--config naming a missing file", async () => {
    expect(await fails(["--config", "nope.yaml"], tmp())).toBe(
      `pop: config file "nope.yaml" (from --config) does not exist; give the path of an existing config file\n`,
    );
  });

  test("a config file with a syntax error: its path and line", async () => {
    const cwd = writeTree(tmp(), { "shop.config.ts": "export default { port: \n" });
    expect(await fails([], cwd)).toMatch(/^pop: shop\.config\.ts:1:\d+: cannot load the config file: .+\n$/);
  });

  test("a mistake in conf.ts names the file and the fix", async () => {
    const dir = writeTree(tmp(), { "conf.ts": `export const CONFIG = { port: { default: 1, help: "p" } };\nexport const CLI_CONFIG = { prot: {} };\n` });
    const r = await pop(["config", "show", dir], { cwd: tmp() });
    expect(r).toEqual({
      stdout: "",
      code: 2,
      stderr: `pop: ${join(dir, "conf.ts")}: CLI_CONFIG option "prot" is not defined in CONFIG; did you mean "port"?; add it to CONFIG with its default and help, or set "source" to the project that defines it\n`,
    });
  });
});

describe("unknown keys in a config file warn with the file and the nearest known key", () => {
  test("a typo, and a key nothing is near", async () => {
    const cwd = writeTree(tmp(), { "shop.config.json": `{ "prot": 8100, "colour": "red", "port": 8200 }\n` });
    const r = await pop(["config", "show", SHOP], { cwd, env: CLEAN });
    expect(r.code).toBe(0);
    const file = "shop.config.json";
    expect(r.stderr).toBe(
      `pop: warning: ${file}: unknown key "prot" is ignored; did you mean "port"?\n` +
        `pop: warning: ${file}: unknown key "colour" is ignored; known keys: host, port, debug, verbose, tag, mode, api_key, limits, files, db_url\n`,
    );
    expect(r.stdout).toContain("shop.port    = 8200\n");
  });
});

describe("merged projects: each its own namespace on hub.OPT; a source option lands in the project defining it", () => {
  const MARKET = join(FIX, "market");
  const MONEY = join(FIX, "money");

  test("market's --currency (money's option) lands in hub.OPT.money", async () => {
    const r = await pop(["app", "--plugins", MONEY, MARKET, "-c", "USD", "-n", "Deli"], { cwd: tmp(), env: CLEAN });
    expect(r).toEqual({ stdout: `${JSON.stringify({ market: { name: "Deli" }, money: { currency: "USD", rounding: 2 } })}\n`, stderr: "", code: 0 });
  });

  test("each namespace reads its own environment variables and its section of the config file", async () => {
    const cwd = writeTree(tmp(), { "market.config.json": `{ "name": "Deli", "money": { "rounding": 0 } }\n` });
    const r = await pop(["app", "--plugins", MONEY, MARKET], { cwd, env: { ...CLEAN, MONEY_CURRENCY: "GBP" } });
    expect(r).toEqual({ stdout: `${JSON.stringify({ market: { name: "Deli" }, money: { currency: "GBP", rounding: 0 } })}\n`, stderr: "", code: 0 });
  });

  test("--help lists the source option with its own help and environment variable", async () => {
    const r = await pop(["app", "--plugins", MONEY, MARKET, "--help"], { cwd: tmp() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`  -c, --currency CURRENCY  Currency prices are shown in (env MONEY_CURRENCY; default "EUR")\n`);
    expect(r.stdout).toContain(`  money.rounding  Decimal places (env MONEY_ROUNDING; default 2)\n`);
  });

  test("without the source project loaded, the error says how to load it", async () => {
    const r = await pop(["app", MARKET, "-c", "USD"], { cwd: tmp() });
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pop: ${MARKET}/conf.ts: CLI_CONFIG option "currency" comes from project "money" ("source"), which is not on the hub (projects: "market"); add its folder on the command line with --plugins before the project folder, e.g. "pop app --plugins path/to/money DIR" (or list it in POP_PLUGIN_PATH)\n`,
    );
  });
});

describe("hub.OPT.<project> is deeply frozen", () => {
  test("setting, adding, changing a nested object and pushing to a list are all refused", async () => {
    const r = await pop(["app", SHOP, "-t", "a"], { cwd: tmp(), env: CLEAN });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.frozen).toEqual({ set: true, add: true, nested: true, push: true });
    expect(out.OPT.shop.tag).toEqual(["a"]);
  });
});

describe("secrets never show", () => {
  test("pop config show hides the value, text and JSON, but says where it came from", async () => {
    const env = { ...CLEAN, SHOP_API_KEY: "live-key-999" };
    const text = await pop(["config", "show", SHOP, "--explain"], { cwd: tmp(), env });
    expect(text.stdout).toContain(`shop.api_key = <hidden>            from environment variable SHOP_API_KEY\n`);
    const json = await pop(["config", "show", SHOP, "--json"], { cwd: tmp(), env });
    expect(JSON.parse(json.stdout).shop.api_key).toBe("<hidden>");
    for (const r of [text, json]) expect(r.stdout + r.stderr).not.toContain("live-key-999");
  });

  test("--help shows no default and an invalid secret is not quoted", async () => {
    const help = await pop(["app", SHOP, "--help"], { cwd: tmp() });
    expect(help.stdout).toContain("  --api-key API_KEY  ");
    expect(help.stdout).toContain("Key for the payment API (env SHOP_API_KEY; default hidden)");
    expect(help.stdout).not.toContain("dev-key-123");
    const dir = writeTree(tmp(), { "conf.ts": `export const CONFIG = { pin: { default: 1234, help: "PIN", secret: true } };\n` });
    const bad = await pop(["config", "show", dir], {
      cwd: tmp(),
      env: {
        [`${dir
          .split("/")
          .pop()!
          .toUpperCase()
          .replace(/[^A-Z0-9]+/g, "_")}_PIN`]: "12x4",
      },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("the secret value is not a number (expected number)");
    expect(bad.stderr).not.toContain("12x4");
  });
});

describe("--help comes from the definition", () => {
  test("each option with its flags, environment variable, default and help; settings only files set; config files", async () => {
    const r = await pop(["app", SHOP, "--help"], { cwd: tmp() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Usage: pop app ${SHOP} [options] [FILES...]

Arguments:
  [FILES...]  Files to import (env SHOP_FILES; default [])

Options:
  --host HOST         Host to serve on (env SHOP_HOST; default "localhost")
  -p, --port PORT     Port to listen on (env SHOP_PORT; default 8000)
  --debug             Turn on debug output (env SHOP_DEBUG; default false)
  -v, --verbose       More output (counts: -vv is 2; env SHOP_VERBOSE; default 0)
  -t, --tag TAG       Tags to attach (repeatable; env SHOP_TAG; default [])
  --mode {fast,safe}  How to run (env SHOP_MODE; default "fast")
  --api-key API_KEY   Key for the payment API (env SHOP_API_KEY; default hidden)
  --config FILE       Read options from FILE instead of shop.config.* (env SHOP_CONFIG)
  --version           Print shop's version and exit
  -h, --help          Show this help

Logging:
  --log-level LEVEL  Report diagnostics at LEVEL and above: error, warn, info, debug, trace (env SHOP_LOG_LEVEL; default "info")
  --log-file FILE    Also append diagnostics to FILE (env SHOP_LOG_FILE)
  --log-fmt FORMAT   Diagnostics as text, json, auto (JSON lines when stderr is not a terminal) (env SHOP_LOG_FMT; default "text")

Settings (config file or environment only):
  limits  Limits by name (env SHOP_LIMITS; default {"cart":10})
  db_url  Database URL (env DATABASE_URL; default "sqlite://shop.db")

Config files (in the working directory): shop.config.{ts,mts,cts,js,mjs,cjs,json,jsonc,json5,yaml,yml,toml}, .shoprc
Precedence: default < config file < environment < command line
`);
  });

  test("pop config show DIR --help prints the same help", async () => {
    const r = await pop(["config", "show", SHOP, "--help"], { cwd: tmp() });
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`Usage: pop config show ${SHOP} [options] [FILES...]\n`);
  });
});
