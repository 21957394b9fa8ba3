import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const FIX = join(ROOT, "test/fixtures/types");
const TSC = join(ROOT, "node_modules/.bin/tsc");
/** The cache Bun's types are linked from: the run's own. */
const ENV = { XDG_CACHE_HOME: join(tmp("pop-types-cache-"), "cache") };

/** The tsconfig docs/testing.md gives a project (what `pop create project` writes). */
const PROJECT_TSCONFIG = join(FIX, "tsconfig.json");

/** A copy of the shop fixture (so .pop/ lands in a temp folder), with the extra root beside it and a tsconfig. */
function project(): { dir: string; extra: string } {
  const base = tmp("pop-types-");
  const dir = join(base, "shop");
  const extra = join(base, "extra");
  cpSync(join(FIX, "shop"), dir, { recursive: true });
  cpSync(join(FIX, "extra"), extra, { recursive: true });
  cpSync(PROJECT_TSCONFIG, join(dir, "tsconfig.json"));
  return { dir, extra };
}

async function tsc(dir: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([TSC, "--noEmit", "-p", dir], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

describe("pop types", () => {
  test("writes .pop/ for a project and another root; tsc passes on correct hub calls and points at each wrong one", async () => {
    const { dir, extra } = project();
    const r = await pop(["types", dir, "--plugins", extra, "--json"], { env: ENV });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout);
    const files = [".pop/pop.d.ts", ".pop/hub.d.ts", ".pop/.gitignore", ".pop/node_modules"].map((f) => join(dir, f));
    expect(view).toEqual({ files, changed: files, roots: [dir, extra] });
    const hub = readFileSync(join(dir, ".pop/hub.d.ts"), "utf8");
    // Names as the hub shows them: the virtual name, the alias, the sub-sub, the merged root's module; no private file.
    expect(hub).toContain('pricing: PluginModule<typeof import("../shop/pricing_v2.ts")>;');
    expect(hub).toContain('cart: PluginModule<typeof import("../shop/cart.ts"), { del_: "delete" }>;');
    expect(hub).toContain('users: PluginModule<typeof import("../shop/admin/users.ts")>;');
    expect(hub).toContain('echo: PluginModule<typeof import("../../extra/rpc/echo.ts")>;');
    expect(hub).toContain('math: PluginModule<typeof import("../../extra/rpc/math.ts")>;'); // it overrides the project's
    expect(hub).toContain('shop: ProjectOptions<typeof import("../conf.ts")>;');
    expect(hub).not.toContain("_util");
    expect(hub).not.toContain('import("../rpc/math.ts")');

    cpSync(join(FIX, "check/good.ts"), join(dir, "test/good.ts"));
    const good = await tsc(dir);
    expect(good.out).toBe("");
    expect(good.code).toBe(0);

    cpSync(join(FIX, "check/bad.ts"), join(dir, "test/bad.ts"));
    const bad = await tsc(dir);
    expect(bad.code).not.toBe(0);
    // Every marked line fails with its code, and nothing else fails.
    const expected = readFileSync(join(FIX, "check/bad.ts"), "utf8")
      .split("\n")
      .flatMap((line, i) => {
        const m = / \/\/ (TS\d+)$/.exec(line);
        return m ? [`${i + 1} ${m[1]}`] : [];
      });
    const got = [...bad.out.matchAll(/^test\/bad\.ts\((\d+),\d+\): error (TS\d+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(got).toEqual(expected);
    expect(bad.out).not.toContain("good.ts");
    expect(bad.out).toContain("test/bad.ts(5,");
    expect(bad.out).toContain(`Type 'string' is not assignable to type 'number'`);
  }, 60_000);

  test("a __virtualname__ another file holds, or a file beside a folder of its name, is typed as the hub loads it: what pop tree lists", async () => {
    const base = tmp("pop-types-vn-");
    writeTree(base, {
      "r/s/one.ts": 'export const __virtualname__ = "same";\nexport const c = () => "one";\n',
      "r/s/two.ts": 'export const __virtualname__ = "same";\nexport const c = () => "two";\n',
      "r/s/three.ts": 'export const __virtualname__ = "two";\nexport const c = () => "three";\n',
      "r/s/four.ts": 'export const c = () => "four";\n', // and a sub folder of that name, which the hub takes instead
      "r/s/four/five.ts": 'export const c = () => "five";\n',
    });
    const r = await pop(["types", "--plugins", "r"], { cwd: base, env: ENV });
    expect(r.code).toBe(0);
    const hub = readFileSync(join(base, ".pop/hub.d.ts"), "utf8");
    const typed = [...hub.matchAll(/^ {6}(\w+): PluginModule<typeof import\("\.\.\/r\/s\/(\w+)\.ts"\)>;$/gm)].map((m) => `${m[1]} ${m[2]}`);
    const tree = await pop(["tree", "--plugins", "r", "--json"], { cwd: base });
    const s = JSON.parse(tree.stdout).subs.find((x: { name: string }) => x.name === "s");
    const loaded = s.modules
      .filter((m: { state: string }) => m.state === "loaded")
      .map((m: { name: string; file: string }) => `${m.name} ${m.file.replace(/^r\/s\/|\.ts$/g, "")}`);
    expect(typed).toEqual(["same one"]);
    expect(loaded).toEqual(typed);
    expect(hub).toContain('      four: SubState & {\n        five: PluginModule<typeof import("../r/s/four/five.ts")>;\n      };\n');
  }, 30_000);

  test("a module renamed since pop types ran fails tsc where it is used, naming the fix, even under skipLibCheck", async () => {
    const { dir, extra } = project();
    // As pop create writes it: skipLibCheck, under which a missing file in a .d.ts is silently `any`.
    const config = JSON.parse(readFileSync(PROJECT_TSCONFIG, "utf8"));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, skipLibCheck: true } }));
    writeFileSync(join(dir, "uses.ts"), 'import type { Hub } from "pop";\nexport const said = (hub: Hub): string => hub.rpc.echo.echo("x");\n');
    expect((await pop(["types", dir, "--plugins", extra], { env: ENV })).code).toBe(0);
    expect(await tsc(dir)).toEqual({ code: 0, out: "" });
    renameSync(join(extra, "rpc/echo.ts"), join(extra, "rpc/echo2.ts"));
    const stale = await tsc(dir);
    expect(stale.out).toBe("uses.ts(2,56): error TS2339: Property 'echo' does not exist on type 'ModuleFileMissing_RunPopTypesAgain'.\n");
    expect(stale.code).not.toBe(0);
    expect((await pop(["types", dir, "--plugins", extra], { env: ENV })).code).toBe(0);
    const fresh = await tsc(dir);
    expect(fresh.out).toStartWith("uses.ts(2,51): error TS2551: Property 'echo' does not exist on type 'SubState & {");
    expect(fresh.out).toContain("Did you mean 'echo2'?");
    expect(fresh.code).not.toBe(0);
  }, 60_000);

  test("a second run rewrites nothing; a new module appears after the next run, a change inside a file needs none", async () => {
    const { dir } = project();
    expect((await pop(["types", dir], { env: ENV })).code).toBe(0);
    const stamp = statSync(join(dir, ".pop/hub.d.ts")).mtimeMs;
    const again = await pop(["types", "."], { cwd: dir, env: ENV });
    expect(again.stdout).toBe([".pop/pop.d.ts", ".pop/hub.d.ts", ".pop/.gitignore", ".pop/node_modules", ""].join("\n"));
    expect(JSON.parse((await pop(["types", dir, "--json"], { env: ENV })).stdout).changed).toEqual([]);
    expect(again.code).toBe(0);
    expect(statSync(join(dir, ".pop/hub.d.ts")).mtimeMs).toBe(stamp);
    writeFileSync(
      join(dir, "rpc/text.ts"),
      'import type { Hub } from "pop";\nexport function upper(hub: Hub, s: string): string {\n  return hub ? s.toUpperCase() : s;\n}\n',
    );
    const third = await pop(["types", dir, "--json"], { env: ENV });
    expect(JSON.parse(third.stdout).changed).toEqual([join(dir, ".pop/hub.d.ts")]);
    expect(readFileSync(join(dir, ".pop/hub.d.ts"), "utf8")).toContain('text: PluginModule<typeof import("../rpc/text.ts")>;');
  }, 30_000);

  test("docs/testing.md shows what pop types writes for examples/poppy", async () => {
    const dir = join(tmp("pop-types-doc-"), "poppy");
    cpSync(join(ROOT, "examples/poppy"), dir, { recursive: true, filter: (src) => !src.includes("/.pop") });
    expect((await pop(["types", dir, "--no-bun-types"], { env: ENV })).code).toBe(0);
    const doc = readFileSync(join(ROOT, "docs/testing.md"), "utf8");
    const block = /For\n`examples\/poppy`, `hub.d.ts` is:\n\n```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(readFileSync(join(dir, ".pop/hub.d.ts"), "utf8"));
  });

  test("the examples type-check against the hub pop types declares for them; a misspelt sub there does not", async () => {
    for (const example of ["examples/poppy", "examples/deploy"]) {
      const dir = join(tmp("pop-types-example-"), example.split("/")[1]!);
      cpSync(join(ROOT, example), dir, { recursive: true, filter: (src) => !src.includes("/.pop") });
      cpSync(PROJECT_TSCONFIG, join(dir, "tsconfig.json"));
      expect((await pop(["types", dir], { env: ENV })).code).toBe(0);
      expect(await tsc(dir)).toEqual({ code: 0, out: "" });
    }
    const dir = join(tmp("pop-types-example-"), "poppy");
    cpSync(join(ROOT, "examples/poppy"), dir, { recursive: true, filter: (src) => !src.includes("/.pop") });
    cpSync(PROJECT_TSCONFIG, join(dir, "tsconfig.json"));
    writeFileSync(join(dir, "rpc/typo.ts"), 'import type { Hub } from "pop";\nexport function f(hub: Hub) {\n  return hub.rcp.math.fib({ num: 1 });\n}\n');
    expect((await pop(["types", dir], { env: ENV })).code).toBe(0);
    const typo = await tsc(dir);
    expect(typo.code).not.toBe(0);
    expect(typo.out).toContain("rpc/typo.ts(3,14): error TS2339: Property 'rcp' does not exist on type");
  }, 60_000);

  test("--out FILE writes the hub's declarations there and pop.d.ts beside it; --no-bun-types leaves node_modules out", async () => {
    const { dir } = project();
    const out = join(tmp("pop-types-out-"), "types", "shop.d.ts");
    const r = await pop(["types", dir, "--out", out, "--no-bun-types", "--json"], { env: ENV });
    expect(r.code).toBe(0);
    const typesDir = join(out, "..");
    expect(JSON.parse(r.stdout).files).toEqual([join(typesDir, "pop.d.ts"), out]);
    expect(readFileSync(out, "utf8")).toContain(`typeof import("${relative(typesDir, dir)}/shop/cart.ts")`);
    expect(existsSync(join(typesDir, "node_modules"))).toBe(false);
    expect(existsSync(join(dir, ".pop"))).toBe(false);
    // Without --no-bun-types, Bun's type packages go beside FILE too (a node_modules link: --out in a project's own folder puts one there).
    const withBun = await pop(["types", dir, "--out", out, "--json"], { env: ENV });
    expect(JSON.parse(withBun.stdout).files).toEqual([join(typesDir, "pop.d.ts"), out, join(typesDir, "node_modules")]);
    expect(existsSync(join(typesDir, "node_modules/bun-types"))).toBe(true);
  });

  test("--out naming a folder is a usage error that says to name the file, and nothing is written", async () => {
    const { dir } = project();
    const parent = tmp("pop-types-outdir-");
    mkdirSync(join(parent, "types"));
    for (const out of ["types", "types/", "new/"]) {
      const r = await pop(["types", dir, "--out", out], { cwd: parent, env: ENV });
      expect(r.stderr).toContain(`--out "${out}" is a folder: name the declarations file, e.g. "${join(out, "hub.d.ts")}"`);
      expect(r.code).toBe(2);
    }
    expect(readdirSync(parent)).toEqual(["types"]);
    expect(readdirSync(join(parent, "types"))).toEqual([]);
    expect(existsSync(join(dir, ".pop"))).toBe(false);
  });

  test("--out naming a file tsc never reads (not .ts, .d.ts, .mts, .cts) is a usage error, and nothing is written", async () => {
    const { dir } = project();
    const parent = tmp("pop-types-outext-");
    for (const [out, suggestion] of [
      ["hub.txt", "hub.d.ts"],
      ["types/hub.d.ts.txt", "types/hub.d.ts"],
      ["hub", "hub.d.ts"],
    ]) {
      const r = await pop(["types", dir, "--out", out!], { cwd: parent, env: ENV });
      expect(r.stderr).toBe(
        `pop: --out "${out}" is not a TypeScript file: tsc and editors read declarations only from files ending in .ts (.d.ts, .mts, .cts); name it e.g. "${suggestion}"\nrun "pop types --help" for usage\n`,
      );
      expect(r.stdout).toBe("");
      expect(r.code).toBe(2);
    }
    expect(readdirSync(parent)).toEqual([]);
    expect(existsSync(join(dir, ".pop"))).toBe(false);
    const ts = await pop(["types", dir, "--out", "hub.ts", "--no-bun-types"], { cwd: parent, env: ENV });
    expect(ts.code).toBe(0);
    expect(readdirSync(parent).sort()).toEqual(["hub.ts", "pop.d.ts"]);
  });

  test("Bun's types are linked from the cache, or copied when no cache folder can be written", async () => {
    const { dir } = project();
    expect((await pop(["types", dir], { env: ENV })).code).toBe(0);
    expect(realpathSync(join(dir, ".pop/node_modules"))).toBe(
      realpathSync(join(ENV.XDG_CACHE_HOME, "pop", readdirSync(join(ENV.XDG_CACHE_HOME, "pop"))[0]!, "node_modules")),
    );
    const other = project();
    const blocked = join(tmp("pop-types-blocked-"), "a-file");
    writeFileSync(blocked, "");
    const r = await pop(["types", other.dir], { env: { XDG_CACHE_HOME: join(blocked, "cache"), TMPDIR: join(blocked, "tmp") } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(lstatSync(join(other.dir, ".pop/node_modules")).isDirectory()).toBe(true);
    expect(existsSync(join(other.dir, ".pop/node_modules/bun-types/index.d.ts"))).toBe(true);
    expect(existsSync(join(other.dir, ".pop/node_modules/@types/node/index.d.ts"))).toBe(true);
    // A project that installs bun-types itself gets none: pop.d.ts finds its own.
    const own = project();
    writeTree(own.dir, { "node_modules/bun-types/package.json": '{ "name": "bun-types", "types": "index.d.ts" }', "node_modules/bun-types/index.d.ts": "" });
    const mine = await pop(["types", own.dir, "--json"], { env: ENV });
    expect(JSON.parse(mine.stdout).files).toEqual([".pop/pop.d.ts", ".pop/hub.d.ts", ".pop/.gitignore"].map((f) => join(own.dir, f)));
    expect(existsSync(join(own.dir, ".pop/node_modules"))).toBe(false);
  }, 30_000);

  test("--plugins without DIR types those roots into ./.pop", async () => {
    const { dir, extra } = project();
    const cwd = tmp("pop-types-cwd-");
    const r = await pop(["types", "--plugins", extra, "--no-bun-types"], { cwd, env: ENV });
    expect(r.stdout).toBe(".pop/pop.d.ts\n.pop/hub.d.ts\n.pop/.gitignore\n");
    expect(r.code).toBe(0);
    const hub = readFileSync(join(cwd, ".pop/hub.d.ts"), "utf8");
    expect(hub).toContain("tools: SubState & {");
    expect(hub).not.toContain("OPT"); // extra has no conf.ts
    rmSync(dir, { recursive: true });
  });

  test("with nothing named, a working directory that is no project is refused and nothing is written; named, any plugin root is typed", async () => {
    const cwd = tmp("pop-types-home-");
    writeTree(cwd, { "notes/a.ts": "export const a = (hub: unknown) => 1;\n" });
    const r = await pop(["types"], { cwd, env: ENV });
    expect(r.stderr).toBe(
      `pop: the working directory "${realpathSync(cwd)}" is not a pop project: a project folder has a conf.ts, a pop.json or a package.json with a "pop" field; name the plugin root to type (pop types DIR, or pop types . for this folder) or its roots (--plugins DIR)\nrun "pop types --help" for usage\n`,
    );
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    expect(existsSync(join(cwd, ".pop"))).toBe(false);
    const named = await pop(["types", ".", "--no-bun-types"], { cwd, env: ENV });
    expect(named.code).toBe(0);
    expect(readFileSync(join(cwd, ".pop/hub.d.ts"), "utf8")).toContain("notes: SubState & {");
    // A project marker in the working directory is enough without naming it.
    const project_ = tmp("pop-types-proj-");
    writeTree(project_, { "pop.json": '{ "name": "p" }\n', "jobs/run.ts": "export const go = (hub: unknown) => 1;\n" });
    const p = await pop(["types", "--no-bun-types", "--json"], { cwd: project_, env: ENV });
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout).roots).toEqual(["."]);
  });

  test("a folder that does not exist is a usage error naming it, and nothing is written", async () => {
    const cwd = tmp("pop-types-bad-");
    const r = await pop(["types", "nope"], { cwd, env: ENV });
    expect(r.stderr).toContain(`project folder "nope" is not a folder`);
    expect(r.code).toBe(2);
    expect(existsSync(join(cwd, ".pop"))).toBe(false);
    const p = await pop(["types", "--plugins", "missing"], { cwd, env: ENV });
    expect(p.stderr).toContain(`plugin root "missing" (from --plugins) does not exist`);
    expect(p.code).toBe(2);
  });

  test("an unwritable output folder fails with exit 1 naming it", async () => {
    const { dir } = project();
    writeFileSync(join(dir, ".pop"), "a file where the folder goes");
    const r = await pop(["types", dir], { env: ENV });
    expect(r.stderr).toContain(`cannot create the types folder "${join(dir, ".pop")}"`);
    expect(r.code).toBe(1);
  });
});
