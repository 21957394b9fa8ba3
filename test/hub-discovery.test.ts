// Discovery and app merging: --plugins, POP_PLUGIN_PATH, conf.ts DYNE, npm packages with a "pop" field; several roots in one sub; clashes, overrides, disabling.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const R = join(ROOT, "test/fixtures/hub/roots");
const A = join(R, "a");
const B = join(R, "b");

interface TreeJson {
  subs: Array<{
    name: string;
    ref: string;
    dirs: string[];
    modules: Array<{ name: string; file: string; state: string; reason?: string }>;
    subs: TreeJson["subs"];
  }>;
  failures: Array<{ ref: string; file: string; reason: string }>;
}

async function treeJson(argv: string[], opts: Parameters<typeof pop>[1] = {}): Promise<TreeJson> {
  const r = await pop(["tree", ...argv, "--json"], opts);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

const sub = (t: TreeJson, name: string) => t.subs.find((s) => s.name === name)!;
const moduleNames = (t: TreeJson, name: string) => sub(t, name).modules.map((m) => m.name);

/** A project folder with an installed package whose package.json has a "pop" field. */
function project(pop: unknown, files: Record<string, string>, dep = "pop-plugins-demo"): string {
  return writeTree(tmp(), {
    "package.json": JSON.stringify({ name: "app", dependencies: { [dep]: "1.0.0" } }),
    [`node_modules/${dep}/package.json`]: JSON.stringify({ name: dep, version: "1.0.0", pop }),
    ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`node_modules/${dep}/${k}`, v])),
  });
}

describe("where plugin roots come from", () => {
  test("--plugins is repeatable: two roots with rpc/ give one rpc sub holding both sets, sub-subs merged too", async () => {
    const t = await treeJson(["--plugins", A, "--plugins", B]);
    expect(moduleNames(t, "rpc")).toEqual(["math", "strings"]);
    expect(sub(t, "rpc").subs[0]!.modules.map((m) => m.name)).toEqual(["x", "y"]);
    expect(sub(t, "rpc").dirs).toEqual(["test/fixtures/hub/roots/a/rpc", "test/fixtures/hub/roots/b/rpc"]);
    expect((await pop(["call", "rpc.strings.upper", "text=b", "--plugins", A, "--plugins", B])).stdout).toBe("B\n");
    expect((await pop(["call", "rpc.nested.x.origin", "--plugins", A, "--plugins", B])).stdout).toBe("a\n");
  });

  test("POP_PLUGIN_PATH is colon-separated; an entry that is not a folder is skipped with a warning", async () => {
    const env = { POP_PLUGIN_PATH: `${A}:/no/such/dir:${B}` };
    const r = await pop(["call", "rpc.strings.upper", "text=env", "--plugins", A], { env });
    expect(r.stdout).toBe("ENV\n");
    expect(r.stderr).toBe('pop: warning: POP_PLUGIN_PATH entry "/no/such/dir" is not a folder; skipped\n');
  });

  test("a root's conf.ts DYNE names its subs' folders (several folders, one sub); other folders are not subs", async () => {
    const t = await treeJson(["--plugins", join(R, "dyne")]);
    expect(t.subs.map((s) => s.name)).toEqual(["pop", "tools"]);
    expect(moduleNames(t, "tools")).toEqual(["hammer", "off", "saw"]);
    expect((await pop(["call", "tools.saw.use", "--plugins", join(R, "dyne")])).stdout).toBe("zzz\n");
  });

  test.each([
    ["a string", "plugins"],
    ["an array", ["plugins"]],
    ["{ plugins: [...] }", { plugins: ["plugins"] }],
  ])('an installed package whose package.json "pop" field is %s contributes its plugin roots', async (_, field) => {
    const dir = project(field, { "plugins/store/memory.ts": "export function kind(hub) { return 'memory from a package'; }" });
    expect(await pop(["call", "store.memory.kind"], { cwd: dir })).toEqual({ code: 0, stdout: "memory from a package\n", stderr: "" });
  });

  test('a package with a bad "pop" field is skipped with a warning naming its package.json', async () => {
    const dir = project(42, {});
    const r = await pop(["tree"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`node_modules/pop-plugins-demo/package.json: "pop" must name plugin roots`);
  });

  test("--plugins naming something that is not a folder: exit 2", async () => {
    const r = await pop(["tree", "--plugins", "/no/such/root"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith('pop: plugin root "/no/such/root" (from --plugins) does not exist: pass a folder whose sub-folders are subs');
    const file = await pop(["tree", "--plugins", "package.json"]);
    expect(file.code).toBe(2);
    expect(file.stderr).toStartWith('pop: plugin root "package.json" (from --plugins) is a file, not a folder: pass a folder whose sub-folders are subs');
  });

  test("an unknown command under --json is a JSON line on stderr, exit 2", async () => {
    const r = await pop(["nosuch", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr)).toMatchObject({
      level: "error",
      code: "POP_USAGE",
      exitCode: 2,
      msg: 'unknown command "nosuch"; run "pop --help" for the list',
    });
  });

  test("a conf.ts that throws: exit 2 (a definition error, like a malformed DYNE) naming the file and line", async () => {
    const dir = writeTree(tmp(), { "conf.ts": "export const DYNE = {};\nthrow new Error('bad conf');\n" });
    const r = await pop(["tree", "--plugins", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pop: ${join(dir, "conf.ts")}:2:11: cannot load the plugin root's conf: threw Error: bad conf\n`);
  });

  test("a conf.ts whose DYNE is malformed: exit 2 with an example", async () => {
    const dir = writeTree(tmp(), { "conf.ts": "export const DYNE = { rpc: 'rpc' };\n" });
    const r = await pop(["tree", "--plugins", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DYNE must map sub names to arrays of folders, e.g. { rpc: ["rpc"] }');
  });
});

describe("two roots, one module", () => {
  test("without an override it is an error naming both files; the module is not loaded, the rest is", async () => {
    const clash = join(R, "clash");
    const t = await treeJson(["--plugins", A, "--plugins", clash]);
    const math = sub(t, "rpc").modules.find((m) => m.name === "math")!;
    expect(math.state).toBe("failed");
    expect(math.reason).toBe(
      "defined by both test/fixtures/hub/roots/a/rpc/math.ts and test/fixtures/hub/roots/clash/rpc/math.ts; rename one, or add `export const __override__ = true` to test/fixtures/hub/roots/clash/rpc/math.ts to replace the earlier one",
    );
    const r = await pop(["call", "rpc.math.origin", "--plugins", A, "--plugins", clash]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${join(R, "clash/rpc/math.ts")}: module "rpc.math" not loaded: defined by both ${join(A, "rpc/math.ts")} and ${join(R, "clash/rpc/math.ts")}`,
    );
    expect((await pop(["call", "rpc.nested.x.origin", "--plugins", A, "--plugins", clash])).stdout).toBe("a\n");
  });

  test("the later root replaces the module when it declares __override__", async () => {
    expect(await pop(["call", "rpc.math.origin", "--plugins", A, "--plugins", join(R, "override")])).toEqual({ code: 0, stdout: "override\n", stderr: "" });
  });

  test("the override must come later: in the other order it is a clash", async () => {
    const r = await pop(["call", "rpc.math.origin", "--plugins", join(R, "override"), "--plugins", A]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("add `export const __override__ = true` to " + join(A, "rpc/math.ts"));
  });

  test("root order: installed packages, then POP_PLUGIN_PATH, then --plugins", async () => {
    const over = (who: string) => `export const __override__ = true;\nexport function origin(hub) { return "${who}"; }`;
    const dir = project("plugins", { "plugins/rpc/math.ts": 'export function origin(hub) { return "package"; }' });
    const env = writeTree(tmp(), { "rpc/math.ts": over("env") });
    const flag = writeTree(tmp(), { "rpc/math.ts": over("flag") });
    expect((await pop(["call", "rpc.math.origin"], { cwd: dir })).stdout).toBe("package\n");
    expect((await pop(["call", "rpc.math.origin"], { cwd: dir, env: { POP_PLUGIN_PATH: env } })).stdout).toBe("env\n");
    expect((await pop(["call", "rpc.math.origin", "--plugins", flag], { cwd: dir, env: { POP_PLUGIN_PATH: env } })).stdout).toBe("flag\n");
  });
});

describe("disabling", () => {
  test("--disable REF leaves a module out; pop tree says why; calling it exits 1", async () => {
    const t = await treeJson(["--plugins", A, "--plugins", B, "--disable", "rpc.strings"]);
    expect(sub(t, "rpc").modules.find((m) => m.name === "strings")).toMatchObject({ state: "disabled", reason: "disabled by --disable" });
    const r = await pop(["call", "rpc.strings.upper", "text=x", "--plugins", A, "--plugins", B, "--disable", "rpc.strings"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`pop: ${join(B, "rpc/strings.ts")}: module "rpc.strings" not loaded: disabled by --disable\n`);
  });

  test("--disable a whole sub, or a sub-sub", async () => {
    const t = await treeJson(["--plugins", A, "--disable", "rpc"]);
    expect(t.subs.map((s) => s.name)).toEqual(["pop"]);
    const r = await pop(["call", "rpc.math.fib", "num=3", "--plugins", A, "--disable", "rpc"]);
    expect(r).toEqual({ code: 1, stdout: "", stderr: 'pop: "rpc" is disabled by --disable; "rpc.math.fib" cannot be used\n' });
    expect(sub(await treeJson(["--plugins", A, "--disable", "rpc.nested"]), "rpc").subs).toEqual([]);
  });

  test("POP_DISABLE is comma-separated", async () => {
    const t = await treeJson(["--plugins", A, "--plugins", B], { env: { POP_DISABLE: "rpc.strings, rpc.math" } });
    expect(sub(t, "rpc").modules.map((m) => [m.name, m.state])).toEqual([
      ["math", "disabled"],
      ["strings", "disabled"],
    ]);
    expect(sub(t, "rpc").modules[0]!.reason).toBe("disabled by POP_DISABLE");
  });

  test("a root's conf.ts DISABLE list", async () => {
    const t = await treeJson(["--plugins", join(R, "dyne")]);
    expect(sub(t, "tools").modules.find((m) => m.name === "off")).toMatchObject({
      state: "disabled",
      reason: "disabled by DISABLE in test/fixtures/hub/roots/dyne/conf.ts",
    });
  });

  test("--disable with something that is not a ref: exit 2", async () => {
    const r = await pop(["tree", "--plugins", A, "--disable", "rpc/math"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith('pop: --disable "rpc/math" is not a ref like "rpc.math"');
    const env = await pop(["tree", "--plugins", A], { env: { POP_DISABLE: "bad..ref" } });
    expect(env.code).toBe(2);
    expect(env.stderr).toStartWith('pop: POP_DISABLE holds "bad..ref", which is not a ref like "rpc.math"; give comma-separated refs\n');
  });

  test("a disabled ref naming no sub of the hub, or pop's own sub, is a warning, not silently nothing", async () => {
    const r = await pop(["call", "rpc.math.fib", "num=5", "--plugins", A, "--disable", "zz.qq", "--disable", "pop"], { env: { POP_DISABLE: "rcp" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("5\n");
    const subs = JSON.parse((await pop(["tree", "--plugins", A, "--json"])).stdout)
      .subs.map((x: { name: string }) => x.name)
      .filter((n: string) => n !== "pop")
      .sort()
      .join(", ");
    expect(r.stderr).toBe(
      `pop: warning: POP_DISABLE "rcp" names no sub of this hub (${subs}); ignored: check the spelling\n` +
        `pop: warning: --disable "zz.qq" names no sub of this hub (${subs}); ignored: check the spelling\n` +
        `pop: warning: --disable "pop": pop's own sub cannot be disabled; ignored\n`,
    );
  });
});
