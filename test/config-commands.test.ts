// pop config show and pop config schema through dist/pop.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { z } from "zod";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const SHOP = join(ROOT, "test/fixtures/config/shop");
const CLEAN = { NODE_ENV: undefined };

describe("pop config show", () => {
  test("the resolved options, one per line", async () => {
    expect(await pop(["config", "show", "examples/poppy"], { env: CLEAN })).toEqual({
      stdout: 'poppy.addr = "127.0.0.1"\npoppy.port = 8888\n',
      stderr: "",
      code: 0,
    });
  });

  test("--explain after DIR, ARGS read as the project's command line", async () => {
    const r = await pop(["config", "show", "examples/poppy", "--explain", "-p", "8080"], { env: { ...CLEAN, POPPY_ADDR: "0.0.0.0" } });
    expect(r).toEqual({ stdout: 'poppy.addr = "0.0.0.0"  from environment variable POPPY_ADDR\npoppy.port = 8080       from -p\n', stderr: "", code: 0 });
  });

  test("--json (before or after DIR)", async () => {
    for (const args of [
      ["--json", "examples/poppy"],
      ["examples/poppy", "--json"],
    ]) {
      const r = await pop(["config", "show", ...args], { env: CLEAN });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ poppy: { addr: "127.0.0.1", port: 8888 } });
    }
  });

  test("a file in the working directory, with --explain --json", async () => {
    const cwd = writeTree(tmp(), { "poppy.config.ts": 'import { defineConfig } from "pop";\nexport default defineConfig({ port: 8080 });\n' });
    const r = await pop(["config", "show", join(ROOT, "examples/poppy"), "--explain", "--json"], { cwd, env: CLEAN });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).poppy.port).toEqual({
      value: 8080,
      source: `from poppy.config.ts key "port"`,
      origin: { kind: "file", file: join(cwd, "poppy.config.ts"), key: "port" },
    });
  });

  test("--plugins merges another project: both namespaces are shown", async () => {
    const r = await pop(["config", "show", "--plugins", "test/fixtures/config/money", "test/fixtures/config/market", "-c", "USD"], { env: CLEAN });
    expect(r).toEqual({ stdout: 'market.name    = "corner shop"\nmoney.currency = "USD"\nmoney.rounding = 2\n', stderr: "", code: 0 });
  });

  test("a folder without conf.ts has no options, and pop says so (it may be the wrong folder)", async () => {
    const dir = tmp();
    expect(await pop(["config", "show", dir], { env: CLEAN })).toEqual({
      stdout: "(no options)\n",
      stderr: `pop: warning: project folder "${dir}" has no conf.ts (nor conf.mts, conf.js, conf.mjs), so it defines no options; is it the folder holding the project's conf.ts?\n`,
      code: 0,
    });
  });

  test("pop config alone needs a subcommand", async () => {
    const r = await pop(["config"]);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"pop config" needs a subcommand: show, schema');
  });
});

describe("pop config under --json: every error is a JSON line, --json before or after DIR", () => {
  for (const [args, fields] of [
    [
      ["config", "show", "examples/poppy", "--json", "--port", "abc"],
      { code: "POP_CONFIG", msg: 'invalid value for option "port" from --port: "abc" is not a number (expected number)' },
    ],
    [["config", "show", "nonexist", "--json"], { code: "POP_USAGE", command: "pop config show" }],
    [["config", "bogus", "--json"], { code: "POP_USAGE", msg: 'unknown command "pop config bogus"; run "pop config --help"' }],
    [["config", "--json"], { code: "POP_USAGE", msg: '"pop config" needs a subcommand: show, schema' }],
  ] as const)
    test(`pop ${args.join(" ")}`, async () => {
      const r = await pop([...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(JSON.parse(r.stderr)).toMatchObject({ level: "error", exitCode: 2, ...fields });
    });
});

test("a list option's value starting with [ must be a JSON array, not split on commas", async () => {
  const bad = await pop(["config", "show", SHOP], { env: { SHOP_TAG: '["x",' } });
  expect(bad).toEqual({
    code: 2,
    stdout: "",
    stderr: 'pop: invalid value for option "tag" from environment variable SHOP_TAG: "[\\"x\\"," is not a list (expected a list of string)\n',
  });
  expect((await pop(["config", "show", SHOP], { env: { SHOP_TAG: '["x","y"]' } })).stdout).toContain('shop.tag     = ["x","y"]\n');
  expect((await pop(["config", "show", SHOP], { env: { SHOP_TAG: "a,b" } })).stdout).toContain('shop.tag     = ["a","b"]\n');
});

describe("pop config schema", () => {
  test("a JSON Schema of the config file: each option's type, help and default; secrets' defaults left out", async () => {
    const r = await pop(["config", "schema", SHOP]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.port).toEqual({ description: "Port to listen on", type: "integer", minimum: 1, maximum: 65535, default: 8000 });
    expect(s.properties.mode).toEqual({ description: "How to run", type: "string", enum: ["fast", "safe"], default: "fast" });
    expect(s.properties.api_key).toEqual({ description: "Key for the payment API", type: "string" });
    expect(s.properties.extends).toBeDefined();
    expect(s.properties.$production).toEqual({ $ref: "#/$defs/$overrides", description: "Overrides when NODE_ENV is production" });
  });

  test("the schema accepts a good file and rejects a bad one (checked by zod's fromJSONSchema)", async () => {
    const s = JSON.parse((await pop(["config", "schema", SHOP])).stdout);
    const check = z.fromJSONSchema(s);
    expect(check.safeParse({ port: 8080, mode: "safe", tag: ["a"], $production: { port: 443 } }).success).toBe(true);
    expect(check.safeParse({ port: "8080" }).success).toBe(false);
    expect(check.safeParse({ prot: 8080 }).success).toBe(false);
    expect(check.safeParse({ $production: { mode: "slow" } }).success).toBe(false);
  });

  test("a merged project gets its own section", async () => {
    const s = JSON.parse((await pop(["config", "schema", "--plugins", "test/fixtures/config/money", "test/fixtures/config/market"])).stdout);
    expect(s.properties.money).toEqual({ $ref: "#/$defs/money" });
    expect(s.$defs.money.properties.rounding).toEqual({ description: "Decimal places", type: "number", default: 2 });
  });
});
