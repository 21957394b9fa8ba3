// pop create through the binary: what each command writes, and what it refuses (bad names, overwrites, half-way failures).
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { POP, pop, ROOT, tmp, writeTree } from "./helpers.ts";

const FIX = join(ROOT, "test/fixtures/create");
/** PATH without any Bun: generated projects must run with nothing but pop. */
const NO_BUN = { PATH: "/usr/bin:/bin" };

/** Every file under dir, relative, sorted (`.pop/node_modules` left out: pop types' copy of Bun's types). */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ name: string; parentPath: string; isFile(): boolean }>)
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .filter((f) => !f.startsWith(".pop/node_modules/"))
    .sort();
}

const PROJECT_FILES = [
  ".gitignore",
  ".pop/.gitignore",
  ".pop/hub.d.ts",
  ".pop/pop.d.ts",
  ".vscode/settings.json",
  "README.md",
  "calc/math.ts",
  "conf.ts",
  "package.json",
  "shop.schema.json",
  "shop/init.ts",
  "test/shop.test.ts",
  "tsconfig.json",
];

describe("pop create project", () => {
  test("its .pop/ links Bun's types from the cache folder stamped with their content; pop types again touches nothing", async () => {
    const cwd = tmp();
    const cache = tmp("pop-cache-");
    const env = { XDG_CACHE_HOME: cache };
    expect((await pop(["create", "project", "shop"], { cwd, env })).code).toBe(0);
    // The stamp is computed when pop is built; it must be the hash of the types embedded, as a run would compute it.
    const stamp = Bun.hash(readFileSync(join(ROOT, "src/types/_buntypes.generated.json.gz"))).toString(16);
    const target = join(cache, "pop", `types-${stamp}`, "node_modules");
    expect(realpathSync(join(cwd, "shop/.pop/node_modules"))).toBe(realpathSync(target));
    expect(readFileSync(join(target, ".pop-stamp"), "utf8")).toBe(stamp);
    expect(readFileSync(join(target, "bun-types/package.json"), "utf8")).toContain('"name": "bun-types"');
    const popDts = join(cwd, "shop/.pop/pop.d.ts");
    expect(readFileSync(popDts, "utf8")).toContain('declare module "pop"');
    const before = statSync(popDts).mtimeMs;
    const again = await pop(["types", "shop", "--json"], { cwd, env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).changed).toEqual([]);
    expect(statSync(popDts).mtimeMs).toBe(before);
  });

  test("writes a project that pop app and pop call run with no Bun on PATH", async () => {
    const cwd = tmp();
    const r = await pop(["create", "project", "shop"], { cwd });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("wrote 10 files in shop:\n  conf.ts\n");
    expect(r.stdout).toContain("  .pop/  (the hub's types: pop types)\nnext:\n  pop app shop\n  pop test shop\n");
    expect(files(join(cwd, "shop"))).toEqual(PROJECT_FILES);
    expect(Bun.which("bun", NO_BUN)).toBeNull();
    expect(await pop(["app", "shop"], { cwd, env: NO_BUN })).toEqual({ stdout: "Hello from shop: fib(10) = 55\n", stderr: "", code: 0 });
    expect((await pop(["app", "shop", "-g", "Hi", "-n", "11"], { cwd, env: NO_BUN })).stdout).toBe("Hi from shop: fib(11) = 89\n");
    expect(await pop(["call", "calc.math.triple", "num=33", "--plugins", "shop"], { cwd, env: NO_BUN })).toEqual({ stdout: "99\n", stderr: "", code: 0 });
    const pkg = JSON.parse(readFileSync(join(cwd, "shop/package.json"), "utf8"));
    expect(pkg.version).toBe("0.1.0");
    expect((await pop(["app", "shop", "--version"], { cwd })).stdout).toBe("shop 0.1.0\n");
    const tsconfig = JSON.parse(readFileSync(join(cwd, "shop/tsconfig.json"), "utf8"));
    expect(tsconfig.include).toContain(".pop/**/*.d.ts");
  });

  test("its config JSON Schema is what pop config schema prints, and editors are pointed at it", async () => {
    const cwd = tmp();
    await pop(["create", "project", "shop"], { cwd });
    const schema = await pop(["config", "schema", "shop"], { cwd });
    expect(schema.code).toBe(0);
    expect(readFileSync(join(cwd, "shop/shop.schema.json"), "utf8")).toBe(schema.stdout);
    const vscode = JSON.parse(readFileSync(join(cwd, "shop/.vscode/settings.json"), "utf8"));
    expect(vscode["json.schemas"][0]).toEqual({ fileMatch: expect.arrayContaining(["shop.config.json"]), url: "./shop.schema.json" });
  });

  test("--dir puts it elsewhere (parent folders made); --json lists every file with what was done", async () => {
    const cwd = tmp();
    const r = await pop(["create", "project", "shop", "--dir", "deep/er/place", "--json"], { cwd });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      template: "project",
      name: "shop",
      dir: "deep/er/place",
      dryRun: false,
      todo: [],
      next: ["pop app deep/er/place", "pop test deep/er/place"],
    });
    expect(j.files).toContainEqual({ path: "conf.ts", action: "create" });
    expect(j.files).toContainEqual({ path: ".pop/hub.d.ts", action: "types" });
    expect(existsSync(join(cwd, "deep/er/place/shop/init.ts"))).toBe(true);
    expect((await pop(["app", "deep/er/place"], { cwd })).stdout).toBe("Hello from shop: fib(10) = 55\n");
  });

  /** The commands under "next:" in `pop create`'s text output, as argument lists. */
  function nextLines(stdout: string): string[][] {
    const lines = stdout.split("\n");
    return lines
      .slice(lines.indexOf("next:") + 1)
      .filter((l) => l.startsWith("  pop "))
      .map((l) => l.trim().split(/\s+/).slice(1));
  }

  for (const [label, dir, cwdSub] of [
    ["--dir elsewhere/deep", "elsewhere/deep", ""],
    ["--dir .", ".", "here"],
  ] as const) {
    test(`${label}: the printed next: commands work from where the user is`, async () => {
      const cwd = join(tmp(), cwdSub);
      mkdirSync(cwd, { recursive: true });
      const r = await pop(["create", "project", "other", "--dir", dir], { cwd });
      expect(r.code).toBe(0);
      const next = nextLines(r.stdout);
      expect(next).toEqual([
        ["app", dir],
        ["test", dir],
      ]);
      expect(await pop(next[0]!, { cwd, env: NO_BUN })).toEqual({ stdout: "Hello from other: fib(10) = 55\n", stderr: "", code: 0 });
      const t = await pop(next[1]!, { cwd, env: NO_BUN });
      expect(t.code).toBe(0);
      expect(t.stdout + t.stderr).toContain(" 0 fail");
    }, 60_000);
  }

  test("every command in the generated README runs from the project folder, whatever that folder is called", async () => {
    const cwd = tmp();
    expect((await pop(["create", "project", "other", "--dir", "elsewhere/deep"], { cwd })).code).toBe(0);
    const dir = join(cwd, "elsewhere/deep");
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    const cmds = [...readme.matchAll(/^ {4}pop (.+?)(?:\s+#.*)?$/gm)].map((m) => m[1]!.split(/\s+/));
    expect(cmds.map((c) => c.join(" "))).toEqual(["app .", "app . -g Hi -n 11", "app . --help", "call calc.math.fib num=11 --plugins .", "test ."]);
    const run = async (c: string[]) => ({ c, ...(await pop(c, { cwd: dir, env: NO_BUN })) });
    for (const r of await Promise.all(cmds.map(run))) expect([r.c, r.code]).toEqual([r.c, 0]);
    expect((await pop(["app", "."], { cwd: dir })).stdout).toBe("Hello from other: fib(10) = 55\n");
    expect((await pop(["app", ".", "-g", "Hi", "-n", "11"], { cwd: dir })).stdout).toBe("Hi from other: fib(11) = 89\n");
    expect((await pop(["call", "calc.math.fib", "num=11", "--plugins", "."], { cwd: dir })).stdout).toBe("89\n");
    // What it says to regenerate the schema with prints the schema it wrote.
    expect(readme).toContain("pop config schema . > other.schema.json");
    expect((await pop(["config", "schema", "."], { cwd: dir })).stdout).toBe(readFileSync(join(dir, "other.schema.json"), "utf8"));
    expect(readme).not.toContain("pop app other");
  }, 60_000);

  test("every pop command in the generated conf.ts and init.ts comments runs from the project folder, whatever it is called", async () => {
    const cwd = tmp();
    expect((await pop(["create", "project", "other", "--dir", "elsewhere/deep"], { cwd })).code).toBe(0);
    const dir = join(cwd, "elsewhere/deep");
    const text = ["conf.ts", "other/init.ts"].map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
    const cmds = [...text.matchAll(/`pop ([^`]+)`/g)].map((m) => m[1]!.split(/\s+/));
    expect(cmds.map((c) => c.join(" "))).toEqual(["app . --help", "config schema .", "app .", "app . --greeting Hi --num 11"]);
    for (const c of cmds) expect([c, (await pop(c, { cwd: dir, env: NO_BUN })).code]).toEqual([c, 0]);
    expect((await pop(["app", ".", "--greeting", "Hi", "--num", "11"], { cwd: dir })).stdout).toBe("Hi from other: fib(11) = 89\n");
  }, 60_000);

  test("next: lines of every template quote an --in folder the shell would split, and they run as printed", async () => {
    const cwd = tmp();
    const where = "it's here";
    expect((await pop(["create", "project", "other", "--dir", where], { cwd })).code).toBe(0);
    const quoted = `'it'\\''s here'`;
    const cases: Array<[string[], string]> = [
      [["plugin", "calc/stats"], `pop call calc.stats.hello name=pop --plugins ${quoted}`],
      [["contract", "calc/money"], `pop call calc.money.scale value=3 --plugins ${quoted}`],
      [["sub", "probes", "--pattern", "map"], `pop call probes.init.report --json --plugins ${quoted}`],
      [["service-type", "greeter"], `pop add greeter --plugins ${quoted} --name greeter1 --set port=8090`],
    ];
    for (const [args, line] of cases) {
      const r = await pop(["create", ...args, "--in", where, "--no-types"], { cwd });
      expect(r.code).toBe(0);
      const next = r.stdout
        .split("\n")
        .filter((l) => l.startsWith("  pop "))
        .map((l) => l.trim());
      expect(next).toContain(line);
      expect(next).toContain(`pop test ${quoted}`);
      const call = next.find((l) => l.startsWith("pop call"));
      if (call) {
        const sh = Bun.spawn(["sh", "-c", call], { cwd, env: { PATH: `${dirname(POP)}:/usr/bin:/bin` }, stdout: "pipe", stderr: "pipe" });
        const [out, err, code] = await Promise.all([new Response(sh.stdout).text(), new Response(sh.stderr).text(), sh.exited]);
        expect([call, err, code]).toEqual([call, "", 0]);
        expect(out).not.toBe("");
      }
    }
  }, 60_000);

  test("the generated fib refuses a num its loop could never finish (1e400 is Infinity) instead of hanging", async () => {
    const cwd = tmp();
    expect((await pop(["create", "project", "shop"], { cwd })).code).toBe(0);
    const dir = join(cwd, "shop");
    for (const [arg, shown] of [
      ['[{"num": 1e400}]', "Infinity"],
      ['[{"num": 1e12}]', "1000000000000"],
      ['[{"num": -1}]', "-1"],
      ['[{"num": 2.5}]', "2.5"],
    ]) {
      const r = await pop(["call", "calc.math.fib", "--args", arg!, "--plugins", "."], { cwd: dir, env: NO_BUN });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 1,
        stdout: "",
        stderr: `pop: calc/math.ts:8:66: "calc.math.fib" failed: num must be a whole number from 0 to 1476, got ${shown}\n`,
      });
    }
    const top = await pop(["call", "calc.math.fib", "num=1476", "--plugins", "."], { cwd: dir, env: NO_BUN });
    expect({ code: top.code, stdout: top.stdout }).toEqual({ code: 0, stdout: "1.3069892237633987e+308\n" });
  }, 30_000);

  test("package.json is the project's manifest: pop tree shows its name and version, --trace names its plugin, engines.pop is this pop's", async () => {
    const cwd = tmp();
    expect((await pop(["create", "project", "shop"], { cwd })).code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(cwd, "shop/package.json"), "utf8"));
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    const range = `>=${version.split(".").slice(0, 2).join(".")}`;
    expect(pkg.pop).toEqual({ engines: { pop: range } });
    expect(Bun.semver.satisfies(version, range)).toBe(true);
    const tree = await pop(["tree", "--plugins", "shop"], { cwd });
    expect(tree.code).toBe(0);
    expect(tree.stdout).toContain(`\n    shop 0.1.0  (pop ${range})\n`);
    const traced = await pop(["app", "--trace", "shop"], { cwd, env: { POP_LOG_FORMAT: "json" } });
    expect(traced.code).toBe(0);
    expect(traced.stdout).toBe("Hello from shop: fib(10) = 55\n");
    const fib = traced.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l))
      .find((e) => e.ref === "calc.math.fib");
    expect(fib).toMatchObject({ plugin: "shop", version: "0.1.0" });
    const t = await pop(["test", "shop"], { cwd });
    expect(t.code).toBe(0);
  }, 60_000);

  test("--dry-run lists the files and writes nothing", async () => {
    const cwd = tmp();
    const r = await pop(["create", "project", "shop", "--dry-run"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("would write 10 files in shop (dry run: nothing written):\n  conf.ts\n");
    expect(readdirSync(cwd)).toEqual([]);
    const j = JSON.parse((await pop(["create", "project", "shop", "--dry-run", "--json"], { cwd })).stdout);
    expect(j.dryRun).toBe(true);
    expect(j.files.map((f: { path: string }) => f.path)).toContain("shop.schema.json");
    expect(readdirSync(cwd)).toEqual([]);
  });

  test("an existing project is not overwritten: exit 2, every clash named, nothing changed", async () => {
    const cwd = tmp();
    await pop(["create", "project", "shop"], { cwd });
    writeFileSync(join(cwd, "shop/calc/math.ts"), "// mine\n");
    const r = await pop(["create", "project", "shop"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith("pop: shop/conf.ts, shop/shop/init.ts, shop/calc/math.ts,");
    expect(r.stderr).toContain("exist: nothing written; pass --force to replace them (and only them)\n");
    expect(readFileSync(join(cwd, "shop/calc/math.ts"), "utf8")).toBe("// mine\n");
    expect(readdirSync(join(cwd, "shop")).filter((f) => f.startsWith(".pop-create-"))).toEqual([]);
  });

  test("--force replaces the template's files and only those", async () => {
    const cwd = tmp();
    await pop(["create", "project", "shop"], { cwd });
    const original = readFileSync(join(cwd, "shop/calc/math.ts"), "utf8");
    writeFileSync(join(cwd, "shop/calc/math.ts"), "// mine\n");
    writeFileSync(join(cwd, "shop/calc/extra.ts"), "// keep me\n");
    writeFileSync(join(cwd, "shop/notes.txt"), "keep\n");
    const r = await pop(["create", "project", "shop", "--force"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  calc/math.ts  (replaced)\n");
    expect(readFileSync(join(cwd, "shop/calc/math.ts"), "utf8")).toBe(original);
    expect(readFileSync(join(cwd, "shop/calc/extra.ts"), "utf8")).toBe("// keep me\n");
    expect(readFileSync(join(cwd, "shop/notes.txt"), "utf8")).toBe("keep\n");
  });
});

describe("names", () => {
  const BAD: Array<[string[], string]> = [
    [["project", ""], 'pop: project name is empty: give a name such as "shop"'],
    [["project", "a/b"], 'pop: project name "a/b" holds a path separator'],
    [["project", ".."], 'pop: project name ".." is not a name'],
    [["project", "../up"], 'pop: project name "../up" holds a path separator'],
    [["project", "my-app"], 'pop: project name "my-app" is not an identifier: use letters, digits and _, starting with a letter'],
    [["project", "1st"], 'pop: project name "1st" is not an identifier'],
    [["project", "_x"], 'pop: project name "_x" is not an identifier'],
    [["project", "pop"], 'pop: project name "pop" is reserved by pop: choose another, e.g. "my_pop"'],
    [["project", "OPT"], 'pop: project name "OPT" is reserved by pop'],
    [["project", "class"], 'pop: project name "class" is a JavaScript reserved word'],
    [["sub", "init", "--pattern", "spine"], 'pop: sub name "init" is reserved by pop'],
    [["sub", "x.y", "--pattern", "spine"], 'pop: sub name "x.y" is not an identifier'],
    [["plugin", "calc"], 'pop: "calc" is not SUB/NAME: give the sub and the module, e.g. "calc/stats"'],
    [["plugin", "a/b/c"], 'pop: "a/b/c" is not SUB/NAME'],
    [["plugin", "calc/"], 'pop: module name is empty in "calc/": give SUB/NAME, e.g. "calc/stats"\n'],
    [["plugin", "/stats"], 'pop: sub name is empty in "/stats": give SUB/NAME, e.g. "calc/stats"\n'],
    [["plugin", "calc/delete"], 'pop: module name "delete" is a JavaScript reserved word'],
    [["contract", "pop/x"], 'pop: sub name "pop" is reserved by pop'],
    [["service-type", "no good"], 'pop: service type name "no good" is not an identifier'],
  ];
  for (const [args, message] of BAD) {
    test(`pop create ${args.join(" ")}: exit 2, nothing written`, async () => {
      const cwd = tmp();
      const r = await pop(["create", ...args], { cwd });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toStartWith(message);
      expect(readdirSync(cwd)).toEqual([]);
    });
  }

  test("an unknown template, a missing or wrong --pattern, and misplaced --in/--dir are usage errors", async () => {
    const cwd = tmp();
    const t = await pop(["create", "projet", "shop"], { cwd });
    expect([t.code, t.stderr]).toEqual([2, 'pop: no template "projet"; templates: contract, plugin, project, service-type, sub (pop create --list)\n']);
    expect((await pop(["create", "sub", "s"], { cwd })).stderr).toStartWith(
      'pop: template "sub" needs --pattern: spine, library, router, driver, dispatch, map',
    );
    const p = await pop(["create", "sub", "s", "--pattern", "drivr"], { cwd });
    expect([p.code, p.stderr.split("\n")[0]]).toEqual([
      2,
      'pop: invalid value for --pattern: "drivr"; choose from spine, library, router, driver, dispatch, map',
    ]);
    expect((await pop(["create", "project", "shop", "--pattern", "map"], { cwd })).stderr).toStartWith('pop: template "project" takes no --pattern');
    expect((await pop(["create", "project", "shop", "--in", "."], { cwd })).stderr).toStartWith("pop: --in is for templates that write into a project");
    expect((await pop(["create", "sub", "s", "--pattern", "map", "--dir", "x"], { cwd })).stderr).toStartWith("pop: --dir is for new projects");
    expect((await pop(["create", "sub", "s", "--pattern", "map", "--in", "nowhere"], { cwd })).stderr).toStartWith(
      'pop: project folder "nowhere" is not a folder',
    );
    const m = await pop(["create"], { cwd });
    expect([m.code, m.stderr.split("\n")[0]]).toEqual([
      2,
      "pop: missing argument TEMPLATE: e.g. pop create project shop (pop create --list shows the templates)",
    ]);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe("into a project", () => {
  test("a project created inside another says so, and the exclude it names makes the outer project type-check again", async () => {
    const cwd = tmp();
    expect((await pop(["create", "project", "shop"], { cwd })).code).toBe(0);
    const outer = join(cwd, "shop");
    const r = await pop(["create", "project", "inner", "--dir", "apps/inner"], { cwd: outer });
    expect(r.stdout).toContain(
      `this is inside the project ".": its pop test runs these tests too and its tsc checks these files against its own hub; add "apps/inner" to the "exclude" of its tsconfig.json, or create the project elsewhere\n`,
    );
    expect(r.code).toBe(0);
    const Tsc = join(ROOT, "node_modules/.bin/tsc");
    const tsc = () => Bun.spawnSync([Tsc, "--noEmit", "-p", outer]).exitCode;
    expect(tsc()).not.toBe(0);
    const config = JSON.parse(readFileSync(join(outer, "tsconfig.json"), "utf8"));
    writeFileSync(join(outer, "tsconfig.json"), JSON.stringify({ ...config, exclude: [...config.exclude, "apps/inner"] }));
    expect(tsc()).toBe(0);
    // Not inside one: no note.
    expect((await pop(["create", "project", "alone"], { cwd })).stdout).not.toContain("inside the project");
  }, 60_000);

  test("a second pattern into one sub writes its test beside the first one's (test/SUB-PATTERN.test.ts), and both pass", async () => {
    const cwd = tmp();
    expect((await pop(["create", "project", "shop"], { cwd })).code).toBe(0);
    expect((await pop(["create", "sub", "calc", "--pattern", "library", "--in", "shop"], { cwd })).code).toBe(0);
    const r = await pop(["create", "sub", "calc", "--pattern", "spine", "--in", "shop"], { cwd });
    expect(r.stderr).toBe("");
    expect(r.stdout).toStartWith("wrote 3 files in shop:\n  calc/init.ts\n  calc/steps.ts\n  test/calc-spine.test.ts\n");
    expect(r.code).toBe(0);
    const t = await pop(["test", join(cwd, "shop")], { env: NO_BUN });
    expect(t.stdout + t.stderr).toContain("(pass) calc.text.slug");
    expect(t.stdout + t.stderr).toContain("(pass) calc.init.run goes through every step, in order");
    expect(t.code).toBe(0);
  }, 60_000);

  test("pop create sub into a sub DYNE puts elsewhere writes into that folder, so the new module is on the hub", async () => {
    const cwd = tmp();
    expect((await pop(["create", "project", "dd"], { cwd })).code).toBe(0);
    const dir = join(cwd, "dd");
    mkdirSync(join(dir, "lib"));
    renameSync(join(dir, "calc"), join(dir, "lib/calc"));
    const conf = readFileSync(join(dir, "conf.ts"), "utf8");
    writeFileSync(join(dir, "conf.ts"), conf.replace('calc: ["calc"]', 'calc: ["lib/calc"]'));
    const r = await pop(["create", "sub", "calc", "--pattern", "library", "--in", "dd"], { cwd });
    expect(r.stdout).toContain("  lib/calc/text.ts\n");
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "calc"))).toBe(false);
    expect(readFileSync(join(dir, "conf.ts"), "utf8")).toContain('calc: ["lib/calc"]');
    expect(await pop(["call", "calc.text.slug", "text=Hello World", "--plugins", dir], { env: NO_BUN })).toEqual({
      stdout: "hello-world\n",
      stderr: "",
      code: 0,
    });
    const t = await pop(["test", dir], { env: NO_BUN });
    expect(t.stdout + t.stderr).toContain(" 0 fail");
    expect(t.code).toBe(0);
  }, 60_000);

  test("pop create sub adds the sub to conf.ts DYNE, and pop app still runs", async () => {
    const cwd = tmp();
    await pop(["create", "project", "shop"], { cwd });
    const r = await pop(["create", "sub", "store", "--pattern", "driver", "--in", "shop"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  conf.ts  (DYNE edited)\n");
    expect(readFileSync(join(cwd, "shop/conf.ts"), "utf8")).toContain('export const DYNE = { shop: ["shop"], calc: ["calc"], store: ["store"] };\n');
    expect((await pop(["app", "shop"], { cwd, env: NO_BUN })).stdout).toBe("Hello from shop: fib(10) = 55\n");
    expect((await pop(["call", "store.init.get", "key=a", "--plugins", "shop", "--json"], { cwd, env: NO_BUN })).stdout).toBe("null\n");
  });

  test("a DYNE that is not a plain literal is left alone: the files are written and the entry to add is named", async () => {
    const cwd = tmp();
    writeTree(cwd, {
      "conf.ts": 'const base = { app: ["app"] };\nexport const DYNE = { ...base };\n',
      "app/init.ts": "export function ping() { return 'pong'; }\n",
    });
    const before = readFileSync(join(cwd, "conf.ts"), "utf8");
    const todo = 'add tools: ["tools"] to DYNE in conf.ts (not edited: its DYNE literal holds more than names and lists of folder strings)';
    const r = await pop(["create", "plugin", "tools/hammer", "--dry-run"], { cwd });
    expect(r.code).toBe(0);
    // What to run next waits for the hand edit, and says so.
    expect(r.stdout).toContain(`to do by hand:\n  ${todo}\nnext (after the edit by hand above):\n  pop call tools.hammer.hello`);
    const j = await pop(["create", "plugin", "tools/hammer", "--json"], { cwd });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout).todo).toEqual([todo]);
    expect(j.stderr).toBe("");
    expect(readFileSync(join(cwd, "conf.ts"), "utf8")).toBe(before);
    expect(existsSync(join(cwd, "tools/hammer.ts"))).toBe(true);
  });

  test("a project without DYNE (sub folders are its subs) needs no edit", async () => {
    const cwd = tmp();
    const r = await pop(["create", "plugin", "tools/hammer"], { cwd });
    expect(r.code).toBe(0);
    expect(files(cwd)).toEqual([".pop/.gitignore", ".pop/hub.d.ts", ".pop/pop.d.ts", "test/tools-hammer.test.ts", "tools/hammer.ts"]);
    expect((await pop(["call", "tools.hammer.hello", "name=pop", "--plugins", "."], { cwd, env: NO_BUN })).stdout).toBe("hello, pop, from tools.hammer\n");
  });

  test("pop create contract refuses a module that exists (it writes the module with its contract)", async () => {
    const cwd = tmp();
    writeTree(cwd, { "calc/money.ts": "export function f() {}\n" });
    const r = await pop(["create", "contract", "calc/money"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("pop: calc/money.ts exists: this template writes a new module with its contract;");
    expect(files(cwd)).toEqual(["calc/money.ts"]);
    // With a contract beside it too, and with --force: the module is the user's code, never replaced.
    writeTree(cwd, { "calc/contracts/money.ts": "export function pre() {}\n" });
    const forced = await pop(["create", "contract", "calc/money", "--force"], { cwd });
    expect(forced.code).toBe(2);
    expect(forced.stderr).toStartWith("pop: calc/money.ts exists: this template writes a new module with its contract;");
    expect(readFileSync(join(cwd, "calc/money.ts"), "utf8")).toBe("export function f() {}\n");
    expect(files(cwd)).toEqual(["calc/contracts/money.ts", "calc/money.ts"]);
  });

  test("a failure half-way leaves the folder as it was", async () => {
    const cwd = tmp();
    writeTree(cwd, { zeta: "a file where the template wants a folder\n" });
    const r = await pop(["create", "halfway", "x", "--plugins", join(FIX, "halfway")], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('pop: cannot write "zeta/x.ts": a file is where a folder must go (ENOTDIR); nothing was written\n');
    expect(readdirSync(cwd)).toEqual(["zeta"]);
  });

  test.if(existsSync("/proc/self"))("a folder that cannot be made is named as the user gave it, not pop's staging folder", async () => {
    const r = await pop(["create", "project", "q", "--dir", "/proc/forbidden"], { cwd: tmp() });
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith('pop: cannot write "/proc/forbidden": ');
    expect(r.stderr).toEndWith("; nothing was written\n");
    expect(r.stderr).not.toContain(".pop-create-");
  });

  test("a sub into an existing sub says it adds to it", async () => {
    const cwd = tmp();
    await pop(["create", "project", "shop", "--no-types"], { cwd });
    const r = await pop(["create", "sub", "calc", "--pattern", "library", "--in", "shop", "--no-types"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "wrote 2 files in shop:\n  calc/text.ts\n  test/calc.test.ts\nadding to the existing sub calc (its other modules stay as they are)\n" +
        'next:\n  pop call calc.text.slug text="Hello World" --plugins shop\n  pop test shop\n',
    );
    expect(JSON.parse((await pop(["create", "sub", "strings", "--pattern", "library", "--in", "shop", "--json", "--dry-run"], { cwd })).stdout).notes).toEqual(
      [],
    );
  });

  test("a new project whose conf.ts fails to load leaves no folder behind", async () => {
    const cwd = tmp();
    const r = await pop(["create", "project", "shop", "--plugins", join(FIX, "badconf")], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("conf.ts");
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe("refusals that keep a project working (each: exit 2, nothing written)", () => {
  async function project(): Promise<string> {
    const cwd = tmp();
    expect((await pop(["create", "project", "shop"], { cwd })).code).toBe(0);
    return join(cwd, "shop");
  }
  const refused = async (cwd: string, args: string[], stderr: string) => {
    const before = files(cwd);
    expect(await pop(["create", ...args], { cwd })).toEqual({ code: 2, stdout: "", stderr: `pop: ${stderr}\n` });
    expect(files(cwd)).toEqual(before);
  };

  test("a driver's sig contract over a sub whose modules lack its functions; a module into a driver sub without them", async () => {
    const cwd = await project();
    await refused(
      cwd,
      ["sub", "calc", "--pattern", "driver"],
      'calc/contracts/init.ts would require "put", "get" of every module of "calc", and calc/math.ts lacks them: nothing written; create this sub under a new name',
    );
    expect((await pop(["create", "sub", "store", "--pattern", "driver"], { cwd })).code).toBe(0);
    const into = (f: string) =>
      `store/${f}.ts would not load: store/contracts/init.ts requires "put", "get" of every module of "store": nothing written; write the module by hand with them, or put it in another sub`;
    await refused(cwd, ["plugin", "store/x"], into("x"));
    await refused(cwd, ["contract", "store/y"], into("y"));
    const t = await pop(["test", "."], { cwd, env: NO_BUN });
    expect(t.code).toBe(0);
  }, 60_000);

  test("a name differing only in case from one that exists", async () => {
    const cwd = await project();
    await refused(cwd, ["plugin", "calc/Math"], "calc/Math.ts differs only in case from calc/math.ts, which exists: nothing written; choose another name");
    await refused(cwd, ["sub", "Calc", "--pattern", "library"], "Calc differs only in case from calc, which exists: nothing written; choose another name");
  });

  test("--dir under a file is a usage error (exit 2) like --dir naming a file", async () => {
    const cwd = tmp();
    writeTree(cwd, { afile: "x\n" });
    expect(await pop(["create", "project", "x", "--dir", "afile/sub"], { cwd })).toEqual({
      code: 2,
      stdout: "",
      stderr: 'pop: "afile" is a file, so "afile/sub" cannot be made under it: pass --dir with another place\nrun "pop create --help" for usage\n',
    });
  });

  test("into a folder that is no project, the next steps say pop test --no-types (pop test refuses to type it)", async () => {
    const cwd = tmp();
    mkdirSync(join(cwd, "plain"));
    const r = await pop(["create", "sub", "s", "--pattern", "library", "--in", "plain"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\n  pop test --no-types plain\n");
    expect((await pop(["test", "--no-types", "plain"], { cwd, env: NO_BUN })).code).toBe(0);
  }, 30_000);

  test('a sub or project named "create" (it would become templates)', async () => {
    const cwd = await project();
    const r = await pop(["create", "sub", "create", "--pattern", "library"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith('pop: sub name "create" is taken by pop create\'s templates (the create sub of its hub): choose another, e.g. "creator"\n');
    expect((await pop(["create", "project", "create"], { cwd: tmp() })).stderr).toStartWith('pop: project name "create" is taken by pop create\'s templates');
  });
});

describe("templates are plugins", () => {
  test("pop create --list shows each template and where it comes from", async () => {
    const r = await pop(["create", "--list"], { cwd: tmp() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "templates (pop create TEMPLATE NAME):",
        "  contract      built in  A module SUB/NAME with its contract SUB/contracts/NAME.ts: pre, call, post and a schema contract, with its test",
        "  plugin        built in  A plugin module SUB/NAME: one function on the hub (hub.SUB.NAME.hello), with its test",
        "  project       built in  A project: conf.ts, NAME/init.ts with cli, a library sub, tests, README, package.json, tsconfig.json",
        "  service-type  built in  A deploy service type service/NAME.ts: settings schema, command, readiness check and a task, with its test",
        "  sub           built in  A sub following a pattern (--pattern spine|library|router|driver|dispatch|map), with an example and its test",
        "",
      ].join("\n"),
    );
  });

  test("--list marks a template that loads but lacks render or target as not usable, with what pop create TEMPLATE says", async () => {
    const cwd = tmp();
    writeTree(cwd, { "tpl/create/norender.ts": 'export const description = "no render";\nexport const target = "project";\n' });
    const list = await pop(["create", "--list", "--plugins", "tpl"], { cwd });
    expect(list.stdout).toContain("  norender      tpl/create/norender.ts  not usable: exports no render(hub, ctx) function\n");
    const j = JSON.parse((await pop(["create", "--list", "--json", "--plugins", "tpl"], { cwd })).stdout);
    expect(j.find((t: { name: string }) => t.name === "norender")).toMatchObject({ error: "exports no render(hub, ctx) function" });
    const use = await pop(["create", "norender", "x", "--plugins", "tpl"], { cwd });
    expect(use.stderr).toContain('template "norender" exports no render(hub, ctx) function');
    expect(use.code).toBe(1);
  });

  test("a plugin root adds templates and overrides built-in ones with __override__ (--list says so, --json too)", async () => {
    const cwd = tmp();
    const args = ["--plugins", join(FIX, "override"), "--plugins", join(FIX, "extra")];
    const list = await pop(["create", "--list", ...args], { cwd });
    expect(list.stdout).toContain(`  project       ${join(FIX, "override/create/project.ts")} (overrides built in)  A one-file project (the team's own)\n`);
    const widget = list.stdout.split("\n").find((l) => l.startsWith("  widget "));
    expect(widget?.split(/ {2,}/)).toEqual(["", "widget", join(FIX, "extra/create/widget.ts"), "A widget module (widgets/NAME.ts)"]);
    const j = JSON.parse((await pop(["create", "--list", "--json", ...args], { cwd })).stdout);
    expect(j.find((t: { name: string }) => t.name === "project")).toMatchObject({
      overrides: true,
      from: join(FIX, "override/create/project.ts"),
      target: "new",
    });
    expect(j.find((t: { name: string }) => t.name === "widget")).toMatchObject({ overrides: false, patterns: ["round", "square"], target: "project" });
    expect(j.find((t: { name: string }) => t.name === "sub")).toMatchObject({ from: "built in", overrides: false });

    const made = await pop(["create", "project", "shop", ...args], { cwd });
    expect(made.code).toBe(0);
    expect(made.stdout).toStartWith("wrote 1 file in shop:\n  README.md\n");
    expect(files(join(cwd, "shop"))).toEqual(["README.md"]);
    mkdirSync(join(cwd, "app"));
    const w = await pop(["create", "widget", "knob", "--pattern", "round", "--in", "app", ...args], { cwd });
    expect(w.code).toBe(0);
    expect(readFileSync(join(cwd, "app/widgets/knob.ts"), "utf8")).toBe('export const shape = "round";\nexport const project = "app";\n');
  });

  test("the project's own plugin root (--in, or the working directory with a conf.ts) brings its templates", async () => {
    const cwd = tmp();
    writeTree(cwd, {
      "app/conf.ts": 'export const DYNE = { app: ["app"], create: ["tools/create"] };\n',
      "app/app/init.ts": "export function cli() {}\n",
      "app/tools/create/widget.ts": readFileSync(join(FIX, "extra/create/widget.ts"), "utf8"),
    });
    const inside = await pop(["create", "widget", "knob", "--pattern", "square", "--no-types"], { cwd: join(cwd, "app") });
    expect(inside.stderr).toBe("");
    expect(inside.code).toBe(0);
    expect(readFileSync(join(cwd, "app/widgets/knob.ts"), "utf8")).toBe('export const shape = "square";\nexport const project = "app";\n');
    expect(readFileSync(join(cwd, "app/conf.ts"), "utf8")).toBe('export const DYNE = { app: ["app"], create: ["tools/create"], widgets: ["widgets"] };\n');
    const list = await pop(["create", "--list", "--in", "app"], { cwd });
    expect(list.stdout).toContain(`  widget        ${join(cwd, "app/tools/create/widget.ts").slice(cwd.length + 1)}`);
    // --json names the file absolutely, whatever the working directory.
    const json = JSON.parse((await pop(["create", "--list", "--json", "--in", "app"], { cwd })).stdout);
    expect(json.find((t: { name: string }) => t.name === "widget").from).toBe(join(cwd, "app/tools/create/widget.ts"));
  });

  test("a template of a built-in's name without __override__ is a load error naming both files", async () => {
    const r = await pop(["create", "project", "shop", "--plugins", join(FIX, "clash")], { cwd: tmp() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("plugins/create/project.ts");
    expect(r.stderr).toContain(join(FIX, "clash/create/project.ts"));
    expect(r.stderr).toContain("__override__");
    const list = await pop(["create", "--list", "--json", "--plugins", join(FIX, "clash")], { cwd: tmp() });
    const project = JSON.parse(list.stdout).find((t: { name: string }) => t.name === "project");
    expect(project).toMatchObject({ overrides: false, from: join(FIX, "clash/create/project.ts") });
    expect(project.error).toStartWith("defined by both plugins/create/project.ts and");
  });

  test("the built-in create sub is in step with plugins/create", async () => {
    const { BUILTIN_CREATE } = await import("../src/create/_builtin.ts");
    const onDisk = readdirSync(join(ROOT, "plugins/create"))
      .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
      .map((f) => f.replace(/\.ts$/, ""))
      .sort();
    expect(Object.keys(BUILTIN_CREATE).sort()).toEqual(onDisk);
  });
});
