import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pop, ROOT, tmp } from "./helpers.ts";

const FIX = join(ROOT, "test/fixtures/testing/shop");

/** A copy of the shop fixture, and an environment where no Bun is on PATH and the cache is the test's own. */
function project(): { dir: string; env: Record<string, string> } {
  const base = tmp("pop-testing-");
  const dir = join(base, "shop");
  cpSync(FIX, dir, { recursive: true });
  const bin = join(base, "empty-bin");
  mkdirSync(bin);
  return { dir, env: { PATH: bin, XDG_CACHE_HOME: join(base, "cache"), HOME: base } };
}

describe("pop test", () => {
  test("runs the project's tests with the Bun inside pop, no Bun on PATH: testHub, mockHub, contracts, config", async () => {
    const { dir, env } = project();
    const audit = join(dir, "audit.txt");
    const r = await pop(["test", dir], { env: { ...env, SHOP_AUDIT: audit } });
    expect(r.stderr).toContain("(pass) testHub loads the project: subs, init, config, contracts");
    expect(r.stderr).toContain("(pass) mockHub with contracts: the schema and post contracts run around the stand-in");
    expect(r.stderr).toMatch(/\n 5 pass\n 0 fail\n/);
    expect(r.stdout).toStartWith("bun test v");
    expect(r.code).toBe(0);
    // The types were refreshed first, and with them the project type-checks (tests included).
    expect(readFileSync(join(dir, ".pop/hub.d.ts"), "utf8")).toContain('audit: PluginModule<typeof import("../shop/audit.ts")>;');
    cpSync(join(ROOT, "test/fixtures/types/tsconfig.json"), join(dir, "tsconfig.json")); // the tsconfig docs/testing.md gives
    const tsc = Bun.spawn([join(ROOT, "node_modules/.bin/tsc"), "--noEmit", "-p", dir], { stdout: "pipe", stderr: "pipe" });
    const [tscOut, tscCode] = await Promise.all([new Response(tsc.stdout).text(), tsc.exited]);
    expect(tscOut).toBe("");
    expect(tscCode).toBe(0);
  }, 60_000);

  test("arguments after -- go to bun test; a hub a test left open is closed when the run ends", async () => {
    const { dir, env } = project();
    const audit = join(dir, "audit.txt");
    const r = await pop(["test", dir, "--", "-t", "left open"], { env: { ...env, SHOP_AUDIT: audit } });
    expect(r.stderr).toContain("(pass) a hub left open is closed when the run ends");
    expect(r.stderr).toMatch(/\n 1 pass\n 4 filtered out\n 0 fail\n/);
    expect(r.code).toBe(0);
    expect(readFileSync(audit, "utf8")).toBe("closed\n");
  }, 30_000);

  test("a failing test: bun test's output and exit code", async () => {
    const { dir, env } = project();
    writeFileSync(join(dir, "test/fail.test.ts"), 'import { expect, test } from "bun:test";\ntest("sums", () => {\n  expect(1 + 1).toBe(3);\n});\n');
    const r = await pop(["test", ".", "--", "test/fail.test.ts"], { cwd: dir, env });
    expect(r.stderr).toContain("(fail) sums");
    expect(r.stderr).toContain("Expected: 3");
    expect(r.code).toBe(1);
  }, 30_000);

  test("testHub config with a name CONFIG lacks fails that test, naming the name and the options there are", async () => {
    const { dir, env } = project();
    writeFileSync(
      join(dir, "test/typo.test.ts"),
      'import { expect, test } from "bun:test";\nimport { testHub } from "pop";\ntest("typo", async () => {\n  await testHub(import.meta.dir + "/..", { config: { limt: 3 } });\n});\n',
    );
    const r = await pop(["test", dir, "--", "test/typo.test.ts"], { env });
    expect(r.stderr).toContain("(fail) typo");
    expect(r.stderr).toContain(`testHub: config names "limt", which CONFIG in ${join(dir, "conf.ts")} does not have: its options are "currency", "limit"`);
    expect(r.code).toBe(1);
  }, 30_000);

  test("a plugin that fails to load fails the test that loads it (testHub is strict), naming the file", async () => {
    const { dir, env } = project();
    writeFileSync(join(dir, "shop/broken.ts"), "export const x = ;\n");
    const r = await pop(["test", dir, "--", "-t", "mockHub:"], { env }); // mockHub loads every module
    expect(r.stderr).toContain("broken.ts:1:");
    expect(r.stderr).toContain("(fail) mockHub: stand-ins record calls");
    expect(r.code).toBe(1);
  }, 30_000);

  test("--no-types leaves .pop alone; a folder that does not exist is a usage error", async () => {
    const { dir, env } = project();
    const r = await pop(["test", "--no-types", dir, "-t", "config values"], { env }); // pop's options before DIR, bun test's after
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, ".pop"))).toBe(false);
    const bad = await pop(["test", join(dir, "nope")], { env });
    expect(bad.stderr).toContain(`project folder "${join(dir, "nope")}" does not exist`);
    expect(bad.code).toBe(2);
  }, 30_000);

  test("with no DIR, a test file or one of bun test's options first is bun test's, run in the working directory", async () => {
    const { dir, env } = project();
    const file = await pop(["test", "test/cart.test.ts"], { cwd: dir, env });
    expect(file.stderr).toContain("test/cart.test.ts:\n(pass) testHub loads the project");
    expect(file.stderr).toMatch(/\n 5 pass\n 0 fail\n/);
    expect(file.code).toBe(0);
    const filter = await pop(["test", "-t", "config values"], { cwd: dir, env });
    expect(filter.stderr).toMatch(/\n 1 pass\n 4 filtered out\n 0 fail\n/);
    expect(filter.code).toBe(0);
    writeFileSync(
      join(dir, "test/fail.test.ts"),
      'import { expect, test } from "bun:test";\ntest("a", () => expect(1).toBe(2));\ntest("b", () => expect(1).toBe(2));\n',
    );
    const bail = await pop(["test", "--no-types", "--bail", "test/fail.test.ts"], { cwd: dir, env });
    expect(bail.stderr).toContain("Bailed out after 1 failure");
    expect(bail.code).toBe(1);
    const help = await pop(["test", "--help"], { cwd: dir, env });
    expect(help.stdout).toContain("pop test -t cart");
    expect(help.code).toBe(0);
  }, 60_000);

  test("bun test reads the project's .env and bunfig.toml, as bun test does; testHub's options still ignore the environment", async () => {
    const { dir, env } = project();
    writeFileSync(join(dir, ".env"), "FOO_FROM_DOTENV=yes\nSHOP_CURRENCY=USD\n");
    writeFileSync(join(dir, "bunfig.toml"), '[test]\npreload = ["./pre.ts"]\n');
    writeFileSync(join(dir, "pre.ts"), "(globalThis as any).PRE_RAN = true;\n");
    writeFileSync(
      join(dir, "test/env.test.ts"),
      `import { expect, test } from "bun:test";
import { testHub } from "pop";
test("env", async () => {
  expect(process.env.FOO_FROM_DOTENV).toBe("yes");
  expect((globalThis as any).PRE_RAN).toBe(true);
  expect((await testHub(import.meta.dir + "/..")).OPT.shop.currency).toBe("EUR");
});
`,
    );
    const r = await pop(["test", dir, "test/env.test.ts"], { env });
    expect(r.stderr).toContain("(pass) env");
    expect(r.code).toBe(0);
  }, 30_000);

  test("a folder that is not a project is refused, nothing written there; --no-types runs bun test there anyway", async () => {
    const { env } = project();
    const dir = tmp("pop-not-project-");
    mkdirSync(join(dir, "notes"));
    writeFileSync(join(dir, "notes/a.ts"), "export const a = 1;\n");
    writeFileSync(join(dir, "notes/a.test.ts"), 'import { expect, test } from "bun:test";\ntest("ran", () => expect(1).toBe(1));\n');
    const r = await pop(["test"], { cwd: dir, env });
    expect(r.stderr).toBe(
      `pop: "${dir}" is not a pop project: a project folder has a conf.ts, a pop.json or a package.json with a "pop" field; pass one (pop test myproject), or run bun test there without pop types: pop test --no-types .\nrun "pop test --help" for usage\n`,
    );
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, ".pop"))).toBe(false);
    writeFileSync(join(dir, "package.json"), '{ "name": "plain" }\n'); // a package.json without a "pop" field is no project either
    expect((await pop(["test", dir], { env })).code).toBe(2);
    const anyway = await pop(["test", "--no-types", dir], { env });
    expect(anyway.stderr).toContain("(pass) ran");
    expect(anyway.code).toBe(0);
    expect(existsSync(join(dir, ".pop"))).toBe(false);
    writeFileSync(join(dir, "package.json"), '{ "name": "plain", "pop": {} }\n');
    const project_ = await pop(["test", dir], { env });
    expect(project_.stderr).toContain("(pass) ran");
    expect(project_.code).toBe(0);
  }, 30_000);

  test("a DIR that does not exist says how to pass it to bun test as a filter instead", async () => {
    const { dir, env } = project();
    const r = await pop(["test", "cart"], { cwd: dir, env });
    expect(r.stderr).toBe(
      'pop: project folder "cart" does not exist: pass the folder holding the project\'s tests; to run bun test with the filter "cart" in the working directory: pop test . cart\nrun "pop test --help" for usage\n',
    );
    expect(r.code).toBe(2);
  });
});
