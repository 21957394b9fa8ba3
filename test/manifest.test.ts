// A plugin root's manifest through dist/pop: pop.json, or the "pop" field of a package.json: name and version (shown
// by pop tree), engines.pop (a root whose range excludes this pop is refused, exit 2, before any of its code runs),
// and the placement of subs (isolate, remote), checked where they are written.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const VERSION = pkg.version;
const MARK = "export function f(hub) { return 'ran'; }\n";

describe("engines.pop", () => {
  test("pop.json whose range excludes this pop: one message naming the root, its range and our version, exit 2, no plugin code run", async () => {
    const ran = join(tmp(), "ran");
    const dir = writeTree(tmp(), {
      "pop.json": JSON.stringify({ name: "future-plugins", version: "3.1.0", engines: { pop: ">=99" } }),
      "conf.ts": `require("node:fs").writeFileSync(${JSON.stringify(ran)}, "");`,
      "s/a.ts": MARK,
    });
    const message = `pop: plugin root "future-plugins" 3.1.0 (${dir}), from --plugins, needs pop ">=99" (engines.pop in ${dir}/pop.json); this is pop ${VERSION}: use a version of the plugins made for this pop, or a pop their range allows\n`;
    for (const args of [
      ["call", "s.a.f", "--plugins", dir],
      ["tree", "--plugins", dir],
      ["tree", "--plugins", dir, "--strict"],
    ]) {
      expect(await pop(args)).toEqual({ code: 2, stdout: "", stderr: message });
    }
    expect(existsSync(ran)).toBe(false); // refused before its conf.ts ran
  });

  test("a package's engines.pop (its package.json) is checked too, naming the package as the root's source", async () => {
    const dir = writeTree(tmp(), {
      "package.json": JSON.stringify({ dependencies: { oldext: "1.0.0" } }),
      "node_modules/oldext/package.json": JSON.stringify({ name: "oldext", version: "0.0.9", engines: { pop: "<0.1.0" }, pop: { plugins: ["plugins"] } }),
      "node_modules/oldext/plugins/ext/hello.ts": MARK,
    });
    const r = await pop(["call", "ext.hello.f"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith(
      `pop: plugin root "oldext" 0.0.9 (${join(dir, "node_modules/oldext/plugins")}), from package oldext (from ${dir}/package.json), needs pop "<0.1.0"`,
    );
    expect(r.stderr).toContain(`this is pop ${VERSION}`);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("an engines.pop that is not a semver range is refused naming the file, the field and the value, exit 2, no plugin code run", async () => {
    for (const range of ["banana", ">=", "1.x.x.x", "not-a-range >=99"]) {
      const dir = writeTree(tmp(), { "pop.json": JSON.stringify({ engines: { pop: range } }), "s/a.ts": MARK });
      expect(await pop(["call", "s.a.f", "--plugins", dir])).toEqual({
        code: 2,
        stdout: "",
        stderr: `pop: ${dir}/pop.json: engines.pop ${JSON.stringify(range)} is not a semver range; write one such as ">=0.1 <1" or "^0.1"\n`,
      });
    }
    // The forms npm's ranges have are accepted (here, each allowing this pop).
    for (const range of [`>=${VERSION}`, `^${VERSION}`, `~${VERSION}`, "*", "0.x || >=1", `${VERSION} - 99.0.0`, `>= ${VERSION} <99`]) {
      const dir = writeTree(tmp(), { "pop.json": JSON.stringify({ engines: { pop: range } }), "s/a.ts": MARK });
      expect(await pop(["call", "s.a.f", "--plugins", dir])).toEqual({ code: 0, stdout: "ran\n", stderr: "" });
    }
  });

  test('an unknown top-level field warns naming the field and the file and listing the known ones (a typo like "engine")', async () => {
    const dir = writeTree(tmp(), { "pop.json": JSON.stringify({ engine: { pop: ">=99" } }), "s/a.ts": MARK });
    expect(await pop(["call", "s.a.f", "--plugins", dir])).toEqual({
      code: 0,
      stdout: "ran\n",
      stderr: `pop: warning: ${dir}/pop.json: engine: unknown field, ignored (known: name, version, engines, isolate, remote); fix its name or remove it\n`,
    });
    const pkgDir = writeTree(tmp(), { "package.json": JSON.stringify({ name: "p", pop: { plugins: ["x"], isolat: {} } }), "s/a.ts": MARK });
    const r = await pop(["call", "s.a.f", "--plugins", pkgDir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `pop: warning: ${pkgDir}/package.json: "pop".isolat: unknown field, ignored (known: name, version, engines, isolate, remote, plugins); fix its name or remove it\n`,
    );
  });

  test("a range that allows this pop loads; pop tree shows the root's name, version and range (text and --json)", async () => {
    const dir = writeTree(tmp(), {
      "pop.json": JSON.stringify({ name: "mathy", version: "1.2.3", engines: { pop: `^${VERSION}` } }),
      "s/a.ts": MARK,
    });
    expect(await pop(["call", "s.a.f", "--plugins", dir])).toEqual({ code: 0, stdout: "ran\n", stderr: "" });
    const text = await pop(["tree", "--plugins", dir]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split("\n");
    expect(lines.slice(0, 3)).toEqual(["roots:", `  ${dir}  from --plugins`, `    mathy 1.2.3  (pop ^${VERSION})`]);
    const data = JSON.parse((await pop(["tree", "--plugins", dir, "--json"])).stdout);
    expect(data.roots).toEqual([{ dir, source: "--plugins", conf: null, name: "mathy", version: "1.2.3", engine: `^${VERSION}` }]);
  });

  test("a root's own package.json: name and version from it, engines.pop from its engines or its pop field", async () => {
    const dir = writeTree(tmp(), {
      "package.json": JSON.stringify({ name: "own", version: "0.4.0", engines: { pop: "*" } }),
      "s/a.ts": MARK,
    });
    const data = JSON.parse((await pop(["tree", "--plugins", dir, "--json"])).stdout);
    expect(data.roots[0]).toMatchObject({ name: "own", version: "0.4.0", engine: "*" });
    const other = writeTree(tmp(), { "package.json": JSON.stringify({ name: "own", pop: { version: "9.9.9", engines: { pop: ">=50" } } }), "s/a.ts": MARK });
    const r = await pop(["call", "s.a.f", "--plugins", other]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(`pop: plugin root "own" 9.9.9 (${other}), from --plugins, needs pop ">=50" (engines.pop in ${other}/package.json)`);
  });

  test("pop.json beside a package.json that says something of the root too: pop.json is read, the other is warned about, not ignored in silence", async () => {
    const dir = writeTree(tmp(), {
      "pop.json": JSON.stringify({ name: "from-pop-json", version: "1.0.0" }),
      "package.json": JSON.stringify({ name: "pkg", engines: { pop: ">=99" }, pop: { isolate: { s: "worker" }, plugins: "." } }),
      "s/a.ts": "export function f(hub) { return 1; }",
    });
    expect(await pop(["call", "s.a.f", "--plugins", dir])).toEqual({
      code: 0,
      stdout: "1\n",
      stderr: `pop: warning: ${dir}/package.json: "pop".isolate and engines.pop ignored: ${dir}/pop.json is this plugin root's manifest; move them into ${dir}/pop.json\n`,
    });
    // A package.json that only names plugin roots, or says nothing of pop, is no second manifest.
    writeTree(dir, { "package.json": JSON.stringify({ name: "pkg", version: "3.0.0", pop: { plugins: "." } }) });
    expect(await pop(["call", "s.a.f", "--plugins", dir])).toEqual({ code: 0, stdout: "1\n", stderr: "" });
  });

  test('"pop": "plugins" (the string form) gives the root the package\'s name and version, as { "plugins": [...] } does; so does "pop": "." in a root\'s own package.json', async () => {
    const dir = writeTree(tmp(), {
      "package.json": JSON.stringify({ name: "app", dependencies: { extpkg: "1" } }),
      "node_modules/extpkg/package.json": JSON.stringify({ name: "extpkg", version: "1.2.3", pop: "plugins" }),
      "node_modules/extpkg/plugins/ext/m.ts": MARK,
      "mine/m.ts": MARK,
    });
    const roots = JSON.parse((await pop(["tree", "--plugins", dir, "--json"])).stdout).roots;
    expect(roots[0]).toMatchObject({ dir: join(dir, "node_modules/extpkg/plugins"), name: "extpkg", version: "1.2.3" });
    expect(roots[1]).toEqual({ dir, source: "--plugins", conf: null }); // its package.json points elsewhere: no manifest of its own
    const self = writeTree(tmp(), { "package.json": JSON.stringify({ name: "selfy", version: "9.9.9", pop: "." }), "s/m.ts": MARK });
    expect((await pop(["tree", "--plugins", self])).stdout).toStartWith(`roots:\n  ${self}  from --plugins\n    selfy 9.9.9\n`);
  });

  test("a root without a manifest shows no name in pop tree, as before", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": MARK });
    const data = JSON.parse((await pop(["tree", "--plugins", dir, "--json"])).stdout);
    expect(data.roots).toEqual([{ dir, source: "--plugins", conf: null }]);
  });
});

describe("a manifest that is wrong says where, exit 2", () => {
  test.each([
    ["not JSON", "{ nope", "the plugin root's manifest is not valid JSON"],
    ["an array", "[1]", "the plugin root's manifest must be a JSON object"],
    ["a numeric version", JSON.stringify({ version: 1 }), "version must be a non-empty string, got 1"],
    ["engines not an object", JSON.stringify({ engines: ">=1" }), 'engines must be an object, e.g. { "pop": ">=0.1 <1" }'],
    [
      "an empty engines.pop",
      JSON.stringify({ engines: { pop: "" } }),
      'engines.pop must be a non-empty string, got ""; write a semver range such as ">=0.1 <1"',
    ],
    ["an empty name", JSON.stringify({ name: " " }), 'name must be a non-empty string, got " "; write one such as "my-plugins", or leave the field out'],
    ["an isolate mode that does not exist", JSON.stringify({ isolate: { s: "thread" } }), 'isolate.s: mode must be "worker" or "process", got "thread"'],
    [
      "an isolate env that is not names",
      JSON.stringify({ isolate: { s: { mode: "process", env: ["A B"] } } }),
      "isolate.s.env must be a list of environment variable names",
    ],
    ["an isolate field unknown", JSON.stringify({ isolate: { s: { mode: "process", cpus: 2 } } }), 'isolate.s: unknown field "cpus"; known: mode, env, memory'],
    [
      "a memory limit that is not whole MiB",
      JSON.stringify({ isolate: { s: { mode: "process", memory: 1.5 } } }),
      "isolate.s.memory must be a whole number of MiB",
    ],
    ["a remote that is not a URL", JSON.stringify({ remote: { s: "ftp://x" } }), 'remote.s: "ftp://x" is not an http:// or https:// URL'],
  ])("%s", async (_what, text, message) => {
    const dir = writeTree(tmp(), { "pop.json": text, "s/a.ts": MARK });
    const r = await pop(["call", "s.a.f", "--plugins", dir]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: expect.stringContaining(`${dir}/pop.json: `) });
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("placement (in-process: what the hub hands to isolateSub and remoteSub)", () => {
  // Run in a bun test of its own: mock.module would otherwise replace src/isolate and src/remote for every file of this run.
  test("manifest, conf.ts and the hub's options place subs; isolateSub/remoteSub get folders, timeout, env, memory and source", async () => {
    const proc = Bun.spawn([process.execPath, "test", "./test/fixtures/lifecycle/placement.ts"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      env: process.env,
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(`${out}${err}`).toContain("2 pass");
    expect(code).toBe(0);
  }, 20_000);
});
