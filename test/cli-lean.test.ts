// pop call's lean path (src/cli/_lean.ts) runs the common call before pop's hub and CLI code are loaded. It must be
// invisible: every case below is run twice, once as it comes and once with POP_LOAD_TIMEOUT set to its default
// (30000, what the full path uses anyway), which sends the call down the full path. Both must print the same bytes
// and exit the same way, and the cases say what that is.
import { describe, expect, test } from "bun:test";
import { chmodSync, closeSync, constants, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POP, pop, type Result, tmp, writeTree } from "./helpers.ts";

const FULL = { POP_LOAD_TIMEOUT: "30000" };

/** Run `args` both ways; expect the same outcome from each and return it. */
async function both(args: string[], opts: { cwd?: string; oneAtATime?: boolean } = {}): Promise<Result> {
  const [lean, full] = opts.oneAtATime
    ? [await pop(args, opts), await pop(args, { ...opts, env: FULL })]
    : await Promise.all([pop(args, opts), pop(args, { ...opts, env: FULL })]);
  expect(lean).toEqual(full);
  return lean;
}

const root = writeTree(tmp("pop-lean-"), {
  "s/m.ts": [
    "export function num(hub: any, x: number) { return x + 1; }",
    "export function str(hub: any) { return 'text'; }",
    "export function obj(hub: any, o: any) { return { got: o, list: [1, 2], when: new Map([['a', 1]]) }; }",
    "export function none(hub: any) { return undefined; }",
    "export function big(hub: any) { return 10n; }",
    "export function nan(hub: any) { return NaN; }",
    "export async function later(hub: any, x: number) { await Bun.sleep(5); return x * 2; }",
    "export function boom(hub: any) { throw new Error('it broke'); }",
    "export function keys(hub: any) { return Object.keys(hub); }",
    "export function same(hub: any) { return hub.s.m.who() === hub && hub.s.other.who() === hub; }",
    "export function who(hub: any) { return hub; }",
    "export function builtins(hub: any) { return typeof hub.pop.sub.add; }",
    "export function opt(hub: any) { return hub.OPT; }",
    "export function set(hub: any) { hub.extra = 5; hub.s = hub.s; return [hub.extra, typeof hub.s.m.num, Object.getOwnPropertyDescriptor(hub, 'pop')!.value !== undefined]; }",
    "export function reach(hub: any) { return hub.s.other.twice(4); }",
    "export function down(hub: any) { return hub.s.closing.touch(); }",
    "export function forever(hub: any) { console.error('started'); return new Promise(() => {}); }",
    "export function heldOpen(hub: any) { hub.s.closing.touch(); console.error('started'); return new Promise(() => {}); }",
    "export function symbols(hub: any) { return Object.getOwnPropertySymbols(hub).length; }",
    "export function shown(hub: any) { console.log(hub); return Bun.inspect(hub).length > 100; }",
    "export function proto(hub: any) { const first = hub instanceof Object; return [first, Object.keys(hub.s).length > 0, Object.getPrototypeOf(hub) === Object.prototype]; }",
  ].join("\n"),
  "s/other.ts": "export function twice(hub: any, x: number) { return x * 2; }\nexport function who(hub: any) { return hub; }\n",
  "s/closing.ts": "export function touch(hub: any) { return 'touched'; }\nexport function __shutdown__(hub: any) { console.error('closing shut down'); }\n",
  "s/frompop.ts": "import { closeHub } from 'pop';\nexport function kind(hub: any) { return typeof closeHub; }\n",
  "s/exits.ts": "process.exit(3);\nexport function f(hub: any) { return 1; }\n",
  "s/broken.ts": "export function f(hub: any) { return ; ) }\n",
  "s/slow.ts": "await Bun.sleep(30);\nexport function f(hub: any) { return 'after a top-level await'; }\n",
  "s/hooked.ts": "export function __init__(hub: any) { console.error('init of hooked'); }\nexport function f(hub: any) { return 'hooked'; }\n",
  "s/virt.ts": "export function __virtual__(hub: any) { return 'not here'; }\nexport function f(hub: any) { return 1; }\n",
  "s/dflt.ts": "export default function run(hub: any) { return 1; }\nexport function f(hub: any) { return 'named'; }\n",
  "t/x.ts": "export function f(hub: any) { return 't'; }\n",
});
const file = join(root, "s/m.ts");

describe("pop call's lean path does what the full path does", () => {
  test("results: numbers, text, JSON, nothing, bigints, NaN, async", async () => {
    expect(await both(["call", "s.m.num", "--args", "[1]", "--plugins", root])).toEqual({ code: 0, stdout: "2\n", stderr: "" });
    expect(await both(["call", "s.m.str", "--plugins", root])).toEqual({ code: 0, stdout: "text\n", stderr: "" });
    expect((await both(["call", "s.m.obj", "a=1", "b=x", "--plugins", root])).stdout).toBe(
      `${JSON.stringify({ got: { a: 1, b: "x" }, list: [1, 2], when: { a: 1 } }, null, 2)}\n`,
    );
    expect(await both(["call", "s.m.none", "--plugins", root])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await both(["call", "s.m.big", "--plugins", root])).toEqual({ code: 0, stdout: "10\n", stderr: "" });
    expect(await both(["call", "s.m.nan", "--plugins", root])).toEqual({ code: 0, stdout: "NaN\n", stderr: "" });
    expect(await both(["call", "--plugins", root, "s.m.later", "--args=[21]"])).toEqual({ code: 0, stdout: "42\n", stderr: "" });
  });

  test("KEY=VALUE builds one object; __proto__ is a key like any other", async () => {
    const r = await both(["call", "s.m.obj", '__proto__={"polluted":1}', "--plugins", root]);
    expect(JSON.parse(r.stdout).got).toEqual(JSON.parse('{"__proto__":{"polluted":1}}'));
  });

  test("a function that throws: the error names its file and line, exit 1", async () => {
    expect(await both(["call", "s.m.boom", "--plugins", root])).toEqual({ code: 1, stdout: "", stderr: `pop: ${file}:8:44: "s.m.boom" failed: it broke\n` });
  });

  test("the hub the function gets is the hub: its keys, pop's sub, OPT, other modules, one identity", async () => {
    expect(JSON.parse((await both(["call", "s.m.keys", "--plugins", root])).stdout)).toEqual(["OPT", "pop", "s", "t"]);
    expect((await both(["call", "s.m.same", "--plugins", root])).stdout).toBe("true\n");
    expect((await both(["call", "s.m.builtins", "--plugins", root])).stdout).toBe("function\n");
    expect((await both(["call", "s.m.opt", "--plugins", root])).stdout).toBe("{}\n");
    expect((await both(["call", "s.m.reach", "--plugins", root])).stdout).toBe("8\n");
    expect(JSON.parse((await both(["call", "s.m.set", "--plugins", root])).stdout)).toEqual([5, "function", true]);
    expect((await both(["call", "s.m.symbols", "--plugins", root])).stdout).toBe("1\n");
    expect((await both(["call", "s.frompop.kind", "--plugins", root])).stdout).toBe("function\n");
    // console.log(hub) shows the hub, not stand-in getters ([Getter/Setter]): the same entries (Bun lists the hidden
    // state symbol last for an object that once had accessors, second otherwise)
    const args = ["call", "s.m.shown", "--plugins", root];
    const [shown, full] = await Promise.all([pop(args), pop(args, { env: FULL })]);
    const entries = (r: Result) => r.stdout.split("\n").sort();
    expect(entries(shown)).toEqual(entries(full));
    expect(shown.stdout).toContain("OPT: {},");
    expect(shown.stdout).not.toContain("Getter");
    // Only reflection before the first read can tell the stand-in (its prototype, its own descriptors); after, nothing
    expect(JSON.parse((await both(["call", "s.m.proto", "--plugins", root])).stdout)).toEqual([true, true, true]);
  });

  test("a module the function reaches is shut down when pop call ends", async () => {
    expect(await both(["call", "s.m.down", "--plugins", root])).toEqual({ code: 0, stdout: "touched\n", stderr: "closing shut down\n" });
  });

  test("what the lean path leaves to the full path: exit at import, a syntax error, a top-level await, hooks, a default export", async () => {
    const exits = await both(["call", "s.exits.f", "--plugins", root]);
    expect(exits.code).toBe(1);
    expect(exits.stderr).toContain("process.exit(3) called while the plugin loaded");
    const broken = await both(["call", "s.broken.f", "--plugins", root]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(join(root, "s/broken.ts"));
    expect(await both(["call", "s.slow.f", "--plugins", root])).toEqual({ code: 0, stdout: "after a top-level await\n", stderr: "" });
    expect(await both(["call", "s.hooked.f", "--plugins", root])).toEqual({ code: 0, stdout: "hooked\n", stderr: "init of hooked\n" });
    expect((await both(["call", "s.virt.f", "--plugins", root])).stderr).toContain("not here");
    expect((await both(["call", "s.dflt.f", "--plugins", root])).stderr).toContain("its default export is not on the hub");
  });

  test("refs and words it does not take: a missing function, a class-like name, a nested ref, options", async () => {
    expect((await both(["call", "s.m.nope", "--plugins", root])).code).toBe(2);
    expect((await both(["call", "s.m.Nope", "--plugins", root])).code).toBe(2);
    expect((await both(["call", "s.m", "--plugins", root])).code).toBe(2);
    expect((await both(["call", "s.m.num", "x", "--plugins", root])).code).toBe(2);
    expect((await both(["call", "s.m.num", "--args", "{}", "--plugins", root])).code).toBe(2);
    expect((await both(["call", "s.m.num", "--args", "[1]", "--plugins", root, "--json"])).stdout).toBe("2\n");
    expect((await both(["call", "s.m.num", "--args", "[1]", "--plugins", `${root}/./`])).stdout).toBe("2\n");
  });

  test("roots it leaves to the full path: another sub's init runs, a package.json, a file that may be a folder", async () => {
    const withInit = writeTree(tmp("pop-lean-init-"), {
      "a/m.ts": "export function f(hub: any) { return 'a'; }\n",
      "b/init.ts": "export function __init__(hub: any) { console.error('init of b'); }\n",
    });
    expect(await both(["call", "a.m.f", "--plugins", withInit])).toEqual({ code: 0, stdout: "a\n", stderr: "init of b\n" });
    const withPkg = writeTree(tmp("pop-lean-pkg-"), { "a/m.ts": "export function f(hub: any) { return 'a'; }\n", "package.json": "{}" });
    expect(await both(["call", "a.m.f", "--plugins", withPkg])).toEqual({ code: 0, stdout: "a\n", stderr: "" });
    const withFiles = writeTree(tmp("pop-lean-files-"), {
      "a/m.ts": "export function f(hub: any) { return Object.keys(hub); }\n",
      LICENSE: "MIT",
      "1bad/x.ts": "",
    });
    const r = await both(["call", "a.m.f", "--plugins", withFiles]);
    expect(JSON.parse(r.stdout)).toEqual(["OPT", "pop", "a"]);
    expect(r.stderr).toContain("1bad");
    // A sub folder pop cannot search (root searches any: only a user sees the difference).
    if (process.getuid?.() !== 0) {
      const hidden = writeTree(tmp("pop-lean-perm-"), { "a/m.ts": "export function f(hub: any) { return 1; }\n", "locked/x.ts": "" });
      chmodSync(join(hidden, "locked"), 0o000);
      try {
        await both(["call", "a.m.f", "--plugins", hidden]);
      } finally {
        chmodSync(join(hidden, "locked"), 0o755);
      }
    }
  });

  test("a relative root, and the working directory's own files unread", async () => {
    const dir = tmp("pop-lean-rel-");
    writeTree(dir, { "r/a/m.ts": "export function f(hub: any) { return 'rel'; }\n" });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ dependencies: { nope: "1" } }));
    expect(await both(["call", "a.m.f", "--plugins", "r"], { cwd: dir })).toEqual({ code: 0, stdout: "rel\n", stderr: "" });
  });

  test("a result that cannot be written: the same error, exit 1", async () => {
    const sh = (env: string) =>
      Bun.spawnSync(["sh", "-c", `${env} "$POP" call s.m.str --plugins "$ROOT" > /dev/full`], {
        env: { ...process.env, POP: process.env.POP_BIN ?? join(import.meta.dir, "../dist/pop"), ROOT: root, NO_COLOR: "1" },
      });
    const lean = sh("");
    const full = sh("POP_LOAD_TIMEOUT=30000");
    expect(lean.exitCode).toBe(1);
    expect(lean.stderr.toString()).toBe("pop: cannot write the output: no space left on the device stdout writes to (ENOSPC)\n");
    expect(full.stderr.toString()).toBe(lean.stderr.toString());
  });

  test.each([
    ["SIGINT", 130, "s.m.forever", ""],
    ["SIGTERM", 143, "s.m.heldOpen", "closing shut down\n"],
  ] as const)("%s during a call: the same line, the hub closed (a module it reached shut down), exit %d", async (signal, code, ref, shutdown) => {
    const run = async (env: Record<string, string>) => {
      const proc = Bun.spawn([POP, "call", ref, "--plugins", root], { env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
      const reader = proc.stderr.getReader();
      let stderr = "";
      while (!stderr.includes("started\n")) stderr += new TextDecoder().decode((await reader.read()).value);
      proc.kill(signal);
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) stderr += new TextDecoder().decode(chunk.value);
      return { code: await proc.exited, stdout: await new Response(proc.stdout).text(), stderr };
    };
    const [lean, full] = await Promise.all([run({}), run(FULL)]);
    expect(lean).toEqual({ code, stdout: "", stderr: `started\npop: ${signal} received: closing the hub (send it again to stop at once)\n${shutdown}` });
    expect(full).toEqual(lean);
  });

  test("found by a second, adversarial pass: each the same both ways", async () => {
    const r = writeTree(tmp("pop-lean-adv-"), {
      "s/frompop.ts":
        'import { onHubClose } from "pop";\nexport function f(hub: any) { onHubClose(hub, () => { console.log("closing"); }); return "result"; }\n',
      "s/m.ts": [
        "export function envFirst(hub: any) { process.env.POP_DISABLE = 't'; return typeof hub.t; }",
        "export function rejected(hub: any) { Promise.reject(new Error('unhandled')); }",
        "export function addFile(hub: any) { require('node:fs').writeFileSync(import.meta.dir + '/m.js', ''); const k = typeof hub.s.m.envFirst; require('node:fs').unlinkSync(import.meta.dir + '/m.js'); return k; }",
        "export function big(hub: any) { hub.t.d.x(); return 'y'.repeat(300000); }",
      ].join("\n"),
      "s/qm.ts": "queueMicrotask(() => { throw new Error('at import'); });\nexport function f(hub: any) { return 'ok'; }\n",
      "t/d.ts": "export function x(hub: any) { return 1; }\nexport function __shutdown__(hub: any) { console.log('shutdown d'); }\n",
    });
    // A plugin that imports "pop" gets the hub its functions expect (onHubClose keys on it): its hooks run.
    expect(await both(["call", "s.frompop.f", "--plugins", r])).toEqual({ code: 0, stdout: "result\nclosing\n", stderr: "" });
    // The hub is made from what pop started with, not from what the function changed before reading it.
    expect(await both(["call", "s.m.envFirst", "--plugins", r])).toEqual({ code: 0, stdout: "object\n", stderr: "" });
    expect(await both(["call", "s.m.addFile", "--plugins", r], { oneAtATime: true })).toEqual({ code: 0, stdout: "function\n", stderr: "" });
    // A rejection nobody handles during a sync call, an error thrown at import by a microtask: reported, exit 1.
    expect(await both(["call", "s.m.rejected", "--plugins", r])).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${join(r, "s/m.ts")}:2:57: uncaught error: unhandled\n`,
    });
    expect(await both(["call", "s.qm.f", "--plugins", r])).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${join(r, "s/qm.ts")}:1:34: uncaught error: at import\n`,
    });
    // The result is written whole before a __shutdown__ hook prints (it was spliced in at 64 KiB on a pipe).
    expect((await both(["call", "s.m.big", "--plugins", r])).stdout).toBe(`${"y".repeat(300000)}\nshutdown d\n`);
  });

  test("found by a review: each the same both ways, and the lean path is the one taken", async () => {
    const r = writeTree(tmp("pop-lean-review-"), {
      "s/m.ts": [
        // The one documented difference: reflection before the first read sees the stand-in's accessors.
        "export function standIn(hub: any) { return typeof Object.getOwnPropertyDescriptor(hub, 's')?.get; }",
        "export async function closes(hub: any) { const { onHubClose } = await import('pop'); onHubClose(hub, () => console.log('closing')); return 'result'; }",
        "export class Thing {}",
        "export class thing {}",
      ].join("\n"),
      "s/qm.ts": "queueMicrotask(() => { throw new Error('at import'); });\nexport function f(hub: any) { console.log('fn ran'); return 'ok'; }\n",
    });
    const [lean, full] = await Promise.all([pop(["call", "s.m.standIn", "--plugins", r]), pop(["call", "s.m.standIn", "--plugins", r], { env: FULL })]);
    expect([lean.stdout, full.stdout]).toEqual(["function\n", "undefined\n"]);
    // onHubClose through a "pop" imported during the call: its hook runs.
    expect(await both(["call", "s.m.closes", "--plugins", r])).toEqual({ code: 0, stdout: "result\nclosing\n", stderr: "" });
    // A class is no function to call, capitalised or not: the same error both ways.
    for (const ref of ["s.m.Thing", "s.m.thing"]) expect((await both(["call", ref, "--plugins", r])).code).not.toBe(0);
    // An error no caller caught at import ends pop before the function runs.
    expect(await both(["call", "s.qm.f", "--plugins", r])).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${join(r, "s/qm.ts")}:1:34: uncaught error: at import\n`,
    });
  });

  test("from a new user's pass: a generator's chunks are the result, a key given twice is refused", async () => {
    const r = writeTree(tmp("pop-lean-user-"), {
      "s/m.ts":
        "export async function* chunks(hub: any) { yield 1; await Bun.sleep(5); yield { a: 2 }; }\nexport function* words(hub: any) { yield 'x'; yield 'y'; }\nexport function f(hub: any, o: any) { return o; }\n",
    });
    expect(JSON.parse((await both(["call", "s.m.chunks", "--plugins", r])).stdout)).toEqual([1, { a: 2 }]);
    expect(JSON.parse((await both(["call", "s.m.words", "--plugins", r, "--json"])).stdout)).toEqual(["x", "y"]);
    const twice = await both(["call", "s.m.f", "a=1", "a=2", "--plugins", r]);
    expect(twice.code).toBe(2);
    expect(twice.stderr.split("\n")[0]).toBe('pop: "a=2" gives a key "a=1" gave already; give each key once');
  });

  test("a second adversarial pass: a signal while a big result is still being written lets it finish; iterators print what they give", async () => {
    const r = writeTree(tmp("pop-lean-adv2-"), {
      "s/m.ts": [
        "export function big(hub: any) { return 'x'.repeat(2_000_000); }",
        "export function entries(hub: any) { return new Map([['a', 1]]).entries(); }",
        "export function* promised(hub: any) { yield Promise.resolve(1); yield 2; }",
        "export function tagged(hub: any) { return { [Symbol.toStringTag]: 'Generator', a: 1 }; }",
      ].join("\n"),
    });
    // stdout is a FIFO the test does not read until after the signal: pop's write of the result is stuck on it.
    const run = async (env: Record<string, string>) => {
      const fifo = join(tmp("pop-lean-fifo-"), "out");
      expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
      const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const proc = Bun.spawn(["sh", "-c", 'exec "$POP" call s.m.big --plugins "$ROOT" > "$FIFO"'], {
        env: { ...process.env, NO_COLOR: "1", POP, ROOT: r, FIFO: fifo, ...env },
        stdout: "ignore",
        stderr: "pipe",
      });
      await Bun.sleep(700);
      proc.kill("SIGTERM");
      let length = 0;
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf);
        } catch (e) {
          if ((e as { code?: string }).code !== "EAGAIN") throw e;
          await Bun.sleep(5);
          continue;
        }
        if (n === 0) break; // the writer closed it: pop has exited
        length += n;
      }
      closeSync(fd);
      return { length, code: await proc.exited };
    };
    const [lean, full] = await Promise.all([run({}), run(FULL)]);
    expect(lean).toEqual({ length: 2_000_001, code: 143 });
    expect(full).toEqual(lean);
    expect(JSON.parse((await both(["call", "s.m.entries", "--plugins", r])).stdout)).toEqual([["a", 1]]);
    expect(JSON.parse((await both(["call", "s.m.promised", "--plugins", r])).stdout)).toEqual([1, 2]);
    expect(JSON.parse((await both(["call", "s.m.tagged", "--plugins", r])).stdout)).toEqual({ a: 1 });
  });
});
