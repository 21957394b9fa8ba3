// Defects found by trying pop as a new user would, each reproduced through dist/pop before it was fixed.
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const POPPY = join(ROOT, "examples/poppy");

describe("pop tree and --strict load everything", () => {
  test("a sub another sub's __init__ adds is listed with all its modules (poppy's rpc shows math, not only init)", async () => {
    const r = await pop(["tree", "--plugins", POPPY, "--json"]);
    expect(r.code).toBe(0);
    const rpc = JSON.parse(r.stdout).subs.find((s: { name: string }) => s.name === "rpc");
    expect(rpc.modules.map((m: { name: string; state: string }) => `${m.name}:${m.state}`)).toEqual(["init:loaded", "math:loaded"]);
  });

  test("a syntax error in such a sub fails pop tree --strict (exit 1) and is listed by pop tree", async () => {
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const DYNE = { main: ["main"], extra: ["extra"] };\n',
      "main/init.ts": 'export async function __init__(hub) { await hub.pop.sub.add({ dyneName: "extra" }); }\n',
      "extra/ok.ts": "export function f(hub) { return 1; }\n",
      "extra/broken.ts": "export function f(hub) { return ;; ( }\n",
    });
    const strict = await pop(["tree", "--strict", "--plugins", dir]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe("");
    expect(strict.stderr).toContain(`${join(dir, "extra/broken.ts")}:1:`);
    const tree = await pop(["tree", "--plugins", dir, "--json"]);
    expect(tree.code).toBe(0);
    expect(JSON.parse(tree.stdout).failures.map((f: { ref: string }) => f.ref)).toEqual(["extra.broken"]);
  });
});

describe("a plugin calling process.exit() while it loads", () => {
  test("also when it calls it after another module of the batch has already failed", async () => {
    const dir = writeTree(tmp(), {
      "s/a.ts": "throw new Error('fails at once');\n",
      "s/late.ts": "await Bun.sleep(150);\nprocess.exit(0);\nexport function f(hub) {}\n",
      "s/ok.ts": "export function f(hub) { return 'ok'; }\n",
    });
    const r = await pop(["tree", "--plugins", dir, "--json"]);
    expect(r.code).toBe(0);
    const failures = Object.fromEntries(JSON.parse(r.stdout).failures.map((f: { ref: string; reason: string }) => [f.ref, f.reason]));
    expect(Object.keys(failures).sort()).toEqual(["s.a", "s.late"]);
    expect(failures["s.late"]).toContain("process.exit(0) called while the plugin loaded");
  });

  test("is a load failure of that module: pop tree --json still prints its JSON, exit 0", async () => {
    const dir = writeTree(tmp(), { "s/quits.ts": "process.exit(0);\nexport function f(hub) {}\n", "s/ok.ts": "export function f(hub) { return 'ok'; }\n" });
    const r = await pop(["tree", "--plugins", dir, "--json"]);
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.failures).toEqual([
      expect.objectContaining({ ref: "s.quits", reason: expect.stringContaining("process.exit(0) called while the plugin loaded") }),
    ]);
    expect(await pop(["call", "s.ok.f", "--plugins", dir, "--strict"])).toMatchObject({ code: 1, stdout: "" });
    expect(await pop(["call", "s.ok.f", "--plugins", dir])).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
  });
});

describe("no silent hang", () => {
  test("a top-level await that never settles fails its module after --load-timeout, naming the file; pop exits, nothing spins", async () => {
    const dir = writeTree(tmp(), {
      "s/hang.ts": "await new Promise(() => {});\nexport function f(hub) {}\n",
      "s/ok.ts": "export function f(hub) { return 'ok'; }\n",
    });
    expect(await pop(["call", "s.hang.f", "--plugins", dir, "--load-timeout", "200"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${join(dir, "s/hang.ts")}: module "s.hang" not loaded: timed out after 200 ms importing it (a top-level await that never settles? raise the limit with --load-timeout MS)\n`,
    });
    const tree = await pop(["tree", "--plugins", dir, "--json"], { env: { POP_LOAD_TIMEOUT: "200" } });
    expect(tree.code).toBe(0);
    expect(JSON.parse(tree.stdout).failures).toEqual([
      expect.objectContaining({ ref: "s.hang", reason: expect.stringContaining("timed out after 200 ms importing it") }),
    ]);
  });

  test("an __init__ that never resolves fails its module after the timeout", async () => {
    const dir = writeTree(tmp(), { "s/slow.ts": "export async function __init__(hub) { await new Promise(() => {}); }\nexport function f(hub) {}\n" });
    const r = await pop(["call", "s.slow.f", "--plugins", dir, "--load-timeout", "200"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('module "s.slow" not loaded: timed out after 200 ms running __init__');
  });
});

describe("refs near failed modules, unreadable files and folders", () => {
  test("a mistyped ref next to a module that failed to load is a usage error (exit 2), not that module's load error", async () => {
    const dir = writeTree(tmp(), { "s/bad.ts": "throw new Error('boom');\n", "s/good.ts": "export function f(hub) {}\n" });
    const r = await pop(["call", "s.badd.f", "--plugins", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith('pop: no module or sub "s.badd" in "s.badd.f"');
  });

  const asNobody = process.getuid?.() === 0 && Bun.which("runuser") !== null;
  test.skipIf(!asNobody)("an unreadable folder says permission denied; an unreadable file says so with the fix", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "export function f(hub) { return 1; }\n", "t/b.ts": "export function f(hub) { return 2; }\n" });
    for (let d = dir; d !== "/" && d !== process.env.POP_TEST_TMP; d = join(d, "..")) chmodSync(d, 0o755);
    chmodSync(process.env.POP_TEST_TMP!, 0o755);
    chmodSync(join(dir, "s"), 0o000);
    chmodSync(join(dir, "t/b.ts"), 0o000);
    // A copy of the executable where nobody can reach it: the checkout may sit in a folder only root can enter.
    const bin = join(dir, "pop");
    copyFileSync(process.env.POP_BIN ?? join(ROOT, "dist/pop"), bin);
    chmodSync(bin, 0o755);
    const run = async (args: string[]) => {
      const p = Bun.spawn(["runuser", "-u", "nobody", "--", bin, ...args], {
        cwd: "/",
        env: { PATH: process.env.PATH!, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      });
      return { stdout: await new Response(p.stdout).text(), stderr: await new Response(p.stderr).text(), code: await p.exited };
    };
    try {
      expect(await run(["call", "s.a.f", "--plugins", dir])).toEqual({
        code: 2,
        stdout: "",
        stderr: `pop: no module "s.a": folder ${join(dir, "s")} of sub "s" cannot be read (permission denied); make it readable (chmod a+rx)\n`,
      });
      const tree = await run(["tree", "--plugins", dir]);
      expect(tree.stderr).toContain(`pop: warning: ${join(dir, "s")}: folder of sub "s" cannot be read (permission denied)`);
      expect(await run(["call", "t.b.f", "--plugins", dir])).toEqual({
        code: 1,
        stdout: "",
        stderr: `pop: ${join(dir, "t/b.ts")}: module "t.b" not loaded: cannot read the file (permission denied): make it readable (chmod a+r ${join(dir, "t/b.ts")})\n`,
      });
    } finally {
      chmodSync(join(dir, "s"), 0o755);
      chmodSync(join(dir, "t/b.ts"), 0o644);
      chmodSync(process.env.POP_TEST_TMP!, 0o700);
    }
  });
});

describe("files and names", () => {
  test("a .tsx, .jsx, .cjs or .cts file in a sub is named as not a plugin, not skipped silently", async () => {
    const dir = writeTree(tmp(), {
      "s/view.tsx": "export function f(hub) {}\n",
      "s/old.cjs": "exports.f = () => 1;\n",
      "s/_helper.tsx": "export const x = 1;\n",
      "s/ok.ts": "export function f(hub) {}\n",
    });
    const r = await pop(["tree", "--plugins", dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `pop: warning: ${join(dir, "s/old.cjs")}: not a plugin file (pop loads .ts, .mts, .js and .mjs); rename it, or start its name with "_" if a plugin imports it\n` +
        `pop: warning: ${join(dir, "s/view.tsx")}: not a plugin file (pop loads .ts, .mts, .js and .mjs); rename it, or start its name with "_" if a plugin imports it\n`,
    );
  });

  test("__func_alias__ onto __proto__ is refused at load; the module object keeps its prototype", async () => {
    const dir = writeTree(tmp(), { "s/m.ts": "export const __func_alias__ = { p_: '__proto__' };\nexport function p_(hub) { return {}; }\n" });
    const r = await pop(["call", "s.m.p_", "--plugins", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('module "s.m" not loaded: __func_alias__ maps "p_" to "__proto__", which is not a public name');
  });

  test("functions named like Object.prototype's (toString, constructor, hasOwnProperty) are listed and callable as any other", async () => {
    const dir = writeTree(tmp(), {
      "p/proto.ts":
        "export function toString(hub) { return 'ts'; }\nexport function constructor(hub) { return 'c'; }\nexport function hasOwnProperty(hub) { return 'h'; }\n",
    });
    const tree = await pop(["tree", "--plugins", dir, "--json"]);
    const mod = JSON.parse(tree.stdout).subs.find((s: { name: string }) => s.name === "p").modules[0];
    expect(mod.functions.map((f: { ref: string }) => f.ref)).toEqual(["p.proto.constructor", "p.proto.hasOwnProperty", "p.proto.toString"]);
    for (const [fn, out] of [
      ["toString", "ts"],
      ["constructor", "c"],
      ["hasOwnProperty", "h"],
    ])
      expect(await pop(["call", `p.proto.${fn}`, "--plugins", dir])).toEqual({ code: 0, stdout: `${out}\n`, stderr: "" });
  });

  test("a root's folder no ref can name (1num, a space) is a warning naming it, and the other subs load; --strict stops", async () => {
    const dir = writeTree(tmp(), { "good/m.ts": "export function f(hub) { return 1; }\n", "1num/m.ts": "export function g(hub) { return 2; }\n" });
    const warning = `${join(dir, "1num")}: a sub cannot be named "1num" (use ASCII letters, digits, _ and -, starting with a letter); rename the folder, or start its name with _ to keep it off the hub`;
    expect(await pop(["call", "good.m.f", "--plugins", dir])).toEqual({ code: 0, stdout: "1\n", stderr: `pop: warning: ${warning}\n` });
    expect(await pop(["call", "good.m.f", "--plugins", dir, "--strict"])).toEqual({ code: 1, stdout: "", stderr: `pop: ${warning}\n` });
  });

  test("a plugin file that is a dangling link is a load failure naming the link and where it points, not pop's bundle", async () => {
    const dir = writeTree(tmp(), { "ok/m.ts": "export function f(hub) { return 1; }\n" });
    symlinkSync("nowhere.ts", join(dir, "ok/dangling.ts"));
    const why = `${join(dir, "ok/dangling.ts")}: module "ok.dangling" not loaded: it is a link to "nowhere.ts", which does not exist: fix or remove the link`;
    expect(await pop(["call", "ok.dangling.f", "--plugins", dir])).toEqual({ code: 1, stdout: "", stderr: `pop: ${why}\n` });
    const tree = await pop(["tree", "--plugins", dir, "--json"]);
    // A load failure's warning line carries what its error line would: code, ref, location.
    expect(JSON.parse(tree.stderr)).toMatchObject({
      level: "warn",
      msg: why,
      code: "POP_PLUGIN_LOAD",
      ref: "ok.dangling",
      location: { file: join(dir, "ok/dangling.ts") },
    });
    expect(JSON.parse(tree.stdout).failures).toEqual([
      { ref: "ok.dangling", file: join(dir, "ok/dangling.ts"), reason: 'it is a link to "nowhere.ts", which does not exist: fix or remove the link' },
    ]);
  });

  test("a default-exported function is said to be off the hub (only named exports are), with the fix", async () => {
    const dir = writeTree(tmp(), { "s/m.ts": "export default function greet(hub) { return 1; }\nexport function other(hub) { return 2; }\n" });
    expect(await pop(["call", "s.m.other", "--plugins", dir])).toEqual({
      code: 0,
      stdout: "2\n",
      stderr: `pop: warning: ${join(dir, "s/m.ts")}: its default export is not on the hub (only named exports are): write "export function greet(hub, ...)" to call it as s.m.greet\n`,
    });
  });

  test("a bigint result prints as a number in text (as a string under --json, which has no bigint)", async () => {
    const dir = writeTree(tmp(), { "ok/b.ts": "export function big(hub) { return 10n; }\n" });
    expect(await pop(["call", "ok.b.big", "--plugins", dir])).toEqual({ code: 0, stdout: "10\n", stderr: "" });
    expect(await pop(["call", "ok.b.big", "--plugins", dir, "--json"])).toEqual({ code: 0, stdout: '"10"\n', stderr: "" });
  });

  test("a file a.b.ts is a load failure saying why, and no suggestion points at it", async () => {
    const dir = writeTree(tmp(), { "s/a.b.ts": "export function f(hub) {}\n", "s/c.ts": "export function f(hub) {}\n" });
    const tree = await pop(["tree", "--plugins", dir, "--json"]);
    expect(JSON.parse(tree.stdout).failures[0]).toMatchObject({
      ref: "s.a.b",
      reason: expect.stringContaining("holds a dot and could never be called by ref; rename the file (e.g. a_b.ts)"),
    });
    const call = await pop(["call", "s.a", "--plugins", dir]);
    expect(call.code).toBe(2);
    expect(call.stderr).not.toContain("a.b");
  });

  test("two files under one __virtualname__, one refusing: pop call reaches the one that loads, with and without --strict", async () => {
    const body = (ok: boolean) =>
      `export const __virtualname__ = "test";\nexport function __virtual__(hub) { return ${ok ? "true" : "'not on this machine'"}; }\nexport function who(hub) { return "${ok ? "loaded" : "refused"}"; }\n`;
    const dir = writeTree(tmp(), { "s/a.ts": body(false), "s/b.ts": body(true) });
    for (const strict of [[], ["--strict"]])
      expect(await pop(["call", "s.test.who", "--plugins", dir, ...strict])).toEqual({ code: 0, stdout: "loaded\n", stderr: "" });
  });

  test("a module that disables itself is quiet: not a warning on every run; calling it says why", async () => {
    const dir = writeTree(tmp(), {
      "s/v.ts": "export function __virtual__(hub) { return ''; }\nexport function f(hub) {}\n",
      "s/ok.ts": "export function f(hub) { return 1; }\n",
    });
    expect(await pop(["tree", "--plugins", dir, "--strict"])).toMatchObject({ code: 0, stderr: "" });
    const r = await pop(["call", "s.v.f", "--plugins", dir]);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${join(dir, "s/v.ts")}: module "s.v" not loaded: __virtual__ disabled it: __virtual__ returned an empty reason\n`,
    });
  });

  test("a DYNE folder that does not exist is a warning naming it, not a silently empty sub", async () => {
    const dir = writeTree(tmp(), { "conf.ts": 'export const DYNE = { rpc: ["rpc", "nope"] };\n', "rpc/m.ts": "export function f(hub) { return 1; }\n" });
    const r = await pop(["call", "rpc.m.f", "--plugins", dir]);
    expect(r).toEqual({
      code: 0,
      stdout: "1\n",
      stderr: `pop: warning: sub "rpc": folder ${join(dir, "nope")} does not exist or is not readable; the sub has no modules from it\n`,
    });
  });
});

describe("a folder's packages join only a hub that asked for them", () => {
  /** A project folder whose package.json depends on a package with a "pop" field: its contract wraps every rpc call. */
  function project(): { cwd: string; mine: string } {
    const cwd = writeTree(tmp(), {
      "package.json": JSON.stringify({ name: "proj", dependencies: { "pop-evil": "1.0.0" } }),
      "node_modules/pop-evil/package.json": JSON.stringify({ name: "pop-evil", version: "1.0.0", pop: "plugins" }),
      "node_modules/pop-evil/plugins/rpc/contracts/init.ts": "export function post(hub, ctx) { return 'hijacked'; }\n",
      "node_modules/pop-evil/plugins/rpc/evil.ts": "export function f(hub) { return 'evil'; }\n",
    });
    const mine = writeTree(tmp(), { "rpc/mine.ts": "export function f(hub) { return 'mine'; }\n" });
    return { cwd, mine };
  }

  test("with --plugins or POP_PLUGIN_PATH, the working directory's packages stay out", async () => {
    const { cwd, mine } = project();
    expect(await pop(["call", "rpc.mine.f", "--plugins", mine], { cwd })).toEqual({ code: 0, stdout: "mine\n", stderr: "" });
    expect(await pop(["call", "rpc.mine.f"], { cwd, env: { POP_PLUGIN_PATH: mine } })).toEqual({ code: 0, stdout: "mine\n", stderr: "" });
  });

  test("with nothing named, the working directory's packages are the plugin roots", async () => {
    const { cwd } = project();
    expect(await pop(["call", "rpc.evil.f"], { cwd })).toEqual({ code: 0, stdout: "hijacked\n", stderr: "" });
  });

  test("a named root brings the packages its own package.json lists", async () => {
    const { cwd, mine } = project();
    const root = writeTree(tmp(), {
      "package.json": JSON.stringify({ dependencies: { "pop-evil": "1" } }),
      "rpc/mine.ts": "export function f(hub) { return 'mine'; }\n",
    });
    mkdirSync(join(root, "node_modules"), { recursive: true });
    await Bun.$`cp -r ${join(cwd, "node_modules/pop-evil")} ${join(root, "node_modules/pop-evil")}`.quiet();
    expect(await pop(["call", "rpc.mine.f", "--plugins", root], { cwd: mine })).toEqual({ code: 0, stdout: "hijacked\n", stderr: "" });
  });
});

test('a module exporting "then" fails with why: at once when reached, at the load timeout in an eager load (import() takes it for a promise)', async () => {
  const dir = writeTree(tmp(), { "s/m.ts": "export function then(hub: any) { return 1; }\nexport function f(hub: any) { return 2; }\n" });
  const said = `pop: ${join(dir, "s/m.ts")}: module "s.m" not loaded: it exports a function named "then", so import() takes the module for a promise and waits on it for ever; rename the function (no plugin module can export "then")\n`;
  // The load timeout is far past the test's own: only the check a turn after the import ends it in time.
  expect(await pop(["call", "s.m.f", "--plugins", dir, "--load-timeout", "600000"])).toEqual({ code: 1, stdout: "", stderr: said });
  // With no load timeout at all, the same (it spun a core for ever).
  expect(await pop(["call", "s.m.f", "--plugins", dir, "--load-timeout", "0"])).toEqual({ code: 1, stdout: "", stderr: said });
  // Loading everything at once, the import waits out its timeout, then says the same (not "a top-level await?").
  expect(await pop(["call", "s.m.f", "--plugins", dir, "--load-timeout", "300", "--strict"])).toEqual({ code: 1, stdout: "", stderr: said });
  const tree = await pop(["tree", "--plugins", dir, "--load-timeout", "300", "--json"]);
  expect(JSON.parse(tree.stdout).failures.map((f: { ref: string }) => f.ref)).toEqual(["s.m"]);
});

test("a default export is said at load, so pop tree says it too (only a call that read the module did)", async () => {
  const dir = writeTree(tmp(), { "bad/def.ts": "export default function run(hub: any) { return 1; }\nexport function f(hub: any) { return 2; }\n" });
  const r = await pop(["tree", "--plugins", dir]);
  expect(r.stderr).toBe(
    `pop: warning: ${join(dir, "bad/def.ts")}: its default export is not on the hub (only named exports are): write "export function run(hub, ...)" to call it as bad.def.run\n`,
  );
});

test("an option mistyped on pop's own commands gets the nearest one", async () => {
  expect((await pop(["call", "s.m.f", "--plugin", "x"])).stderr.split("\n")[0]).toBe('pop: unknown option "--plugin"; did you mean "--plugins"?');
});

test("a disabled ref naming no file or folder of its sub is said (a typo disables nothing), from --disable and conf.ts DISABLE", async () => {
  const dir = writeTree(tmp(), {
    "calc/math.ts": "export function add(hub: any) { return 1; }\n",
    "calc/admin/y.ts": "export function x(hub: any) { return 1; }\n",
  });
  const said = (source: string, ref: string) =>
    `pop: warning: ${source} "${ref}": sub "calc" has no file or folder of that name (in ${join(dir, "calc")}); unless a module takes it as its __virtualname__, it disables nothing: check the spelling\n`;
  expect(await pop(["call", "calc.math.add", "--plugins", dir, "--disable", "calc.mathh"])).toEqual({
    code: 0,
    stdout: "1\n",
    stderr: said("--disable", "calc.mathh"),
  });
  expect(await pop(["call", "calc.math.add", "--plugins", dir, "--disable", "calc.admin.y", "--disable", "calc.admin"])).toEqual({
    code: 0,
    stdout: "1\n",
    stderr: "",
  });
  const conf = writeTree(tmp(), { "conf.ts": 'export const DISABLE = ["calc.nope"];\n', "calc/math.ts": "export function add(hub: any) { return 1; }\n" });
  const r = await pop(["call", "calc.math.add", "--plugins", conf]);
  expect(r.stderr).toBe(
    `pop: warning: DISABLE in ${join(conf, "conf.ts")} "calc.nope": sub "calc" has no file or folder of that name (in ${join(conf, "calc")}); unless a module takes it as its __virtualname__, it disables nothing: check the spelling\n`,
  );
});

test("a sub's own folder given as the plugin root: the error says to give its parent", async () => {
  const dir = writeTree(tmp(), { "root/calc/math.ts": "export function add(hub: any) { return 1; }\n" });
  const r = await pop(["call", "calc.math.add", "--plugins", "root/calc"], { cwd: dir });
  expect(r).toEqual({
    code: 2,
    stdout: "",
    stderr: `pop: no sub "calc" in "calc.math.add": the plugin root ./root/calc (from --plugins) is itself named "calc", but a root holds subs as folders, so its own files are no sub "calc": give its parent folder instead (--plugins ./root)\n`,
  });
});
