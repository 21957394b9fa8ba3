// The lifecycle through dist/pop: SIGTERM closes the hub in reverse load order; pop app --watch reloads a changed
// plugin file in the running app, and a broken one leaves the old version serving and says why.
import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { POP, ROOT, tmp, writeTree } from "./helpers.ts";
import { serve } from "./fixtures/serve/_harness.ts";

/** Start dist/pop with piped stdio; `until(stream, re)` waits (bounded) for what that stream has printed so far to match. */
function run(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const proc = Bun.spawn([POP, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const text = { stdout: "", stderr: "" };
  const waiters: Array<() => void> = [];
  const pump = async (name: "stdout" | "stderr", stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text[name] += decoder.decode(chunk);
      for (const w of waiters.splice(0)) w();
    }
  };
  const pumps = Promise.all([pump("stdout", proc.stdout), pump("stderr", proc.stderr)]);
  const until = (name: "stdout" | "stderr", re: RegExp, ms = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} on ${name}; so far: ${JSON.stringify(text)}`)), ms);
      const check = () => {
        if (re.test(text[name])) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  const done = async () => {
    const code = await proc.exited;
    await pumps;
    return { ...text, code };
  };
  const send = (line: string) => {
    proc.stdin.write(line);
    proc.stdin.flush();
  };
  return { proc, text, until, done, send };
}

/**
 * A project init.ts whose cli reads stdin line by line until "quit" and runs `onLine` (a statement using `line`) for
 * each; `before` runs first. With `concurrent`, a line's work is not awaited before the next is read ("quit" waits for all).
 */
function stdinCli(onLine: string, opts: { before?: string; concurrent?: boolean } = {}): string {
  const handle = opts.concurrent ? `pending.push((async () => { ${onLine} })());` : onLine;
  return [
    "export async function cli(hub) {",
    ...(opts.before ? [`  ${opts.before}`] : []),
    "  console.error('ready');",
    "  const decoder = new TextDecoder();",
    "  const pending = [];",
    "  for await (const chunk of Bun.stdin.stream()) {",
    "    for (const line of decoder.decode(chunk).split('\\n').slice(0, -1)) {",
    "      if (line === 'quit') { await Promise.all(pending); return; }",
    `      ${handle}`,
    "    }",
    "  }",
    "}",
  ].join("\n");
}

describe("SIGTERM", () => {
  test.each([
    ["a,b,c", "c\nb\na\nmain\n"],
    ["c,a,b", "b\na\nc\nmain\n"],
  ])("loaded in the order %s: shut down in reverse (%j), exit 143", async (order, expected) => {
    const marker = join(tmp(), "marker");
    const p = run(["call", "ord.main.run", "--plugins", "test/fixtures/lifecycle/order"], { POP_TEST_MARKER: marker, POP_TEST_ORDER: order });
    await p.until("stderr", /ready\n/);
    p.proc.kill("SIGTERM");
    const r = await p.done();
    expect(r.code).toBe(143);
    expect(readFileSync(marker, "utf8")).toBe(expected);
  });

  test("while a plugin is still loading: the hub closes and pop exits 143 at once, not a trapped process.exit", async () => {
    const dir = writeTree(tmp(), {
      "sl/a.ts": 'export function __shutdown__(hub) { console.error("shutdown a"); }\nexport function f(hub) { return 1; }',
      "sl/b.ts":
        'console.error("loading b");\nawait new Promise((r) => setTimeout(r, 20000));\nexport function __shutdown__(hub) { console.error("shutdown b"); }\nexport function f(hub) { return 2; }',
    });
    const p = run(["call", "sl.b.f", "--plugins", dir, "--strict"]);
    await p.until("stderr", /loading b\n/);
    p.proc.kill("SIGTERM");
    const r = await p.done();
    expect(r).toEqual({
      code: 143,
      stdout: "",
      stderr: "loading b\npop: SIGTERM received: closing the hub (send it again to stop at once)\n",
    });
  });
});

describe("pop app --watch", () => {
  const project = () =>
    writeTree(tmp(), {
      "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"] };',
      "live/greet.ts": "export function hi(hub) { return 'v1'; }",
      "live/init.ts": stdinCli("console.log(hub.live.greet.hi());"),
    });

  test("a changed file serves at once; a broken one leaves the old version running and says why; fixed, it reloads", async () => {
    const dir = project();
    const file = join(dir, "live/greet.ts");
    const p = run(["app", "--watch", dir]);
    await p.until("stderr", /ready\n/);
    p.send("x\n");
    await p.until("stdout", /^v1\n$/);
    await Bun.write(file, "export function hi(hub) { return 'v2'; }");
    await p.until("stderr", /pop: reloaded live\.greet from .*greet\.ts\n/);
    p.send("x\n");
    await p.until("stdout", /^v1\nv2\n$/);
    await Bun.write(file, "export function hi(hub) { return ;; (");
    await p.until("stderr", /reload of "live\.greet" failed, the old version keeps running: .*not loaded/);
    p.send("x\n");
    await p.until("stdout", /^v1\nv2\nv2\n$/);
    await Bun.write(file, "export function hi(hub) { return 'v3'; }");
    await p.until("stderr", /(pop: reloaded live\.greet[^\n]*\n[^]*){2}/);
    p.send("x\n");
    await p.until("stdout", /^v1\nv2\nv2\nv3\n$/);
    p.send("quit\n");
    p.proc.stdin.end();
    const r = await p.done();
    expect(r.code).toBe(0);
    expect(r.stderr).toStartWith("ready\n");
    expect(r.stderr).toContain(`pop: warning: ${file}: reload of "live.greet" failed, the old version keeps running: ${file}:`);
  }, 30_000);

  test("a call in flight while its file changes finishes on the old module, whose resource is still open; the old one shuts down after", async () => {
    const conn = (v: string) =>
      [
        "let open = true;",
        `export function __shutdown__(hub) { open = false; console.error('conn ${v} shutdown'); }`,
        `export async function query(hub) { await globalThis.GATE; if (!open) throw new Error('connection closed under a call in flight'); return '${v} result'; }`,
      ].join("\n");
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "db";\nexport const DYNE = { db: ["db"] };',
      "db/conn.ts": conn("v1"),
      "db/init.ts": [
        "export async function cli(hub) {",
        "  console.error('ready');",
        "  const decoder = new TextDecoder();",
        "  let open;",
        "  const calls = [];",
        "  for await (const chunk of Bun.stdin.stream()) {",
        "    for (const line of decoder.decode(chunk).split('\\n').slice(0, -1)) {",
        "      if (line === 'slow') { globalThis.GATE = new Promise((r) => (open = r)); calls.push(hub.db.conn.query().then(console.log, (e) => console.log('error: ' + e.message))); console.error('started'); }",
        "      if (line === 'release') { open(); await Promise.all(calls); return; }",
        "    }",
        "  }",
        "}",
      ].join("\n"),
    });
    const p = run(["app", "--watch", dir]);
    await p.until("stderr", /ready\n/);
    p.send("slow\n");
    await p.until("stderr", /started\n/);
    await Bun.write(join(dir, "db/conn.ts"), conn("v2"));
    await p.until("stderr", /pop: reloaded db\.conn from /);
    expect(p.text.stderr).not.toContain("shutdown");
    p.send("release\n");
    p.proc.stdin.end();
    const r = await p.done();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("v1 result\n");
    expect(r.stderr).toMatch(/pop: reloaded db\.conn from [^\n]*conn\.ts\nconn v1 shutdown\n(conn v2 shutdown\n)?$/);
  }, 30_000);

  test("an edited contract and an edited helper apply: the modules they apply to reload, and pop says which file changed", async () => {
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"] };',
      "live/_fmt.ts": "export const fmt = (x) => `v1:${x}`;",
      "live/m.ts": 'import { fmt } from "./_fmt.ts";\nexport function show(hub, x) { return fmt(x); }',
      "live/contracts/m.ts": "export function pre_show(hub, ctx) { if (ctx.args[0] < 0) throw new Error('negative refused'); }",
      "live/init.ts": stdinCli("try { console.log(hub.live.m.show(Number(line))); } catch (e) { console.log('refused: ' + e.message); }"),
    });
    const p = run(["app", "--watch", dir]);
    await p.until("stderr", /ready\n/);
    p.send("5\n");
    await p.until("stdout", /^v1:5\n$/);
    await Bun.write(join(dir, "live/contracts/m.ts"), "export function pre_show(hub, ctx) { if (ctx.args[0] < 10) throw new Error('under 10 refused'); }");
    await p.until("stderr", /pop: reloaded live\.m from \S*m\.ts \(\S*contracts\/m\.ts changed\)\n/);
    p.send("5\n");
    await p.until("stdout", /refused: under 10 refused\n$/);
    await Bun.write(join(dir, "live/_fmt.ts"), "export const fmt = (x) => `v2:${x}`;");
    await p.until("stderr", /pop: reloaded live\.m from \S*m\.ts \(\S*_fmt\.ts changed\)\n/);
    p.send("12\nquit\n");
    p.proc.stdin.end();
    const r = await p.done();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("v1:5\nrefused: under 10 refused\nv2:12\n");
  }, 30_000);

  test("a deleted plugin file takes its module off (a read finds no module), and one made there again is read afresh", async () => {
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"] };',
      "live/greet.ts": "export function hi(hub) { return 'v1'; }\nexport function __shutdown__(hub) { console.error('greet v1 shut down'); }",
      "live/init.ts": stdinCli("console.log(typeof hub.live.greet === 'object' ? hub.live.greet.hi() : 'no module');"),
    });
    const file = join(dir, "live/greet.ts");
    const p = run(["app", "--watch", dir]);
    await p.until("stderr", /ready\n/);
    p.send("x\n");
    await p.until("stdout", /^v1\n$/);
    rmSync(file);
    await p.until("stderr", /pop: removed module live\.greet \(\S*greet\.ts was deleted\)\n/);
    expect(p.text.stderr).toContain("greet v1 shut down\n");
    p.send("x\n");
    await p.until("stdout", /^v1\nno module\n$/);
    await Bun.write(file, "export function hi(hub) { return 'v2'; }");
    await Bun.sleep(300); // past the watcher's settle time: the lazy sub reads the new file on the next call anyway
    p.send("x\nquit\n");
    p.proc.stdin.end();
    const r = await p.done();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("v1\nno module\nv2\n");
  }, 30_000);

  for (const mode of ["worker", "process"] as const) {
    test(`an isolated sub (${mode}) restarts on a change: a call in flight finishes on the old side, which then shuts down; a broken file keeps the old side`, async () => {
      const dir = writeTree(tmp(), {
        "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"], side: ["side"] };',
        "side/m.ts": [
          "export function f(hub) { return 'v1'; }",
          "export async function slow(hub, ms) { await Bun.sleep(ms); return 'slow v1'; }",
          "export function __shutdown__(hub) { console.error('side v1 shut down'); }",
        ].join("\n"),
        "live/init.ts": stdinCli(
          "const [fn, arg] = line.split(' '); try { console.log(await hub.side.m[fn](Number(arg))); } catch (e) { console.log('failed: ' + e.message); }",
          { before: "await hub.pop.sub.add({ dyneName: 'side' });", concurrent: true },
        ),
      });
      const p = run(["app", "--watch", "--isolate", `side=${mode}`, dir]);
      await p.until("stderr", /ready\n/);
      p.send("f\n");
      await p.until("stdout", /^v1\n$/);
      p.send("slow 1500\n"); // in flight on the old side across the reload
      await Bun.sleep(100);
      await Bun.write(
        join(dir, "side/m.ts"),
        "export function f(hub) { return 'v2'; }\nexport function added(hub, x) { return x * 2; }\nexport function __shutdown__(hub) { console.error('side v2 shut down'); }",
      );
      await p.until("stderr", /pop: reloaded side from \S*side\/m\.ts\n/);
      p.send("f\nadded 21\n");
      await p.until("stdout", /v2\n42\n/);
      expect(p.text.stderr).not.toContain("side v1 shut down"); // the slow call is still running there
      await p.until("stdout", /slow v1\n/);
      await p.until("stderr", /side v1 shut down\n/);
      await Bun.write(join(dir, "side/m.ts"), "export function f(hub) { return 'v3' +; }");
      await p.until("stderr", /side\/m\.ts: reload of isolated sub "side" failed, the old side keeps running: .+\n/);
      p.send("f\nquit\n");
      p.proc.stdin.end();
      const r = await p.done();
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("v1\nv2\n42\nslow v1\nv2\n");
      expect(r.stderr.match(/side v2 shut down/g)).toHaveLength(1); // closed with the hub at the end, once
    }, 30_000);
  }

  for (const mode of ["worker", "process"] as const) {
    test(`an app whose cli returns while an isolated sub (${mode}) is still starting for a reload ends at once, and so does that side`, async () => {
      const dir = writeTree(tmp(), {
        "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"], side: ["side"] };',
        "side/m.ts": "export function f(hub) { return 'v1'; }",
        "live/init.ts": stdinCli("console.log(await hub.side.m.f());", { before: "await hub.pop.sub.add({ dyneName: 'side' });" }),
      });
      // The load timeout is far past the test's own: only ending the reload lets pop exit in time.
      const p = run(["app", "--watch", "--load-timeout", "600000", "--isolate", `side=${mode}`, dir]);
      await p.until("stderr", /ready\n/);
      p.send("f\n");
      await p.until("stdout", /^v1\n$/);
      await Bun.write(join(dir, "side/m.ts"), "while (true) {}\nexport function f(hub) { return 'v2'; }");
      await Bun.sleep(1500); // the reload has started its side, which spins
      p.send("quit\n");
      p.proc.stdin.end();
      const r = await p.done();
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("v1\n");
      // No process of pop's is left spinning (a child side would be, with its parent gone).
      const left = Bun.spawnSync(["pgrep", "-f", dir]).stdout.toString().trim();
      expect(left).toBe("");
    }, 20_000);
  }

  test("a remote sub's function list is asked for again: a function its server's --watch added is callable without a restart", async () => {
    const server = writeTree(tmp(), { "far/m.ts": "export function f(hub) { return 'f1'; }" });
    await using s = await serve(["--plugins", server, "--sub", "far", "--watch"]);
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"] };',
      "live/init.ts": stdinCli("try { console.log(await hub.far.m[line]()); } catch (e) { console.log('failed: ' + e.message); }"),
    });
    const p = run(["app", "--watch", "--remote", `far=${s.url}`, dir]);
    await p.until("stderr", /ready\n/);
    p.send("f\ng\n");
    await p.until("stdout", /^f1\nfailed: .+\n$/);
    await Bun.write(join(server, "far/m.ts"), "export function f(hub) { return 'f2'; }\nexport function g(hub) { return 'g1'; }");
    await s.waitFor("stderr", /pop: reloaded far\.m from /);
    await p.until("stderr", /pop: reloaded far from http:\/\/\S+\n/);
    p.send("f\ng\nquit\n");
    p.proc.stdin.end();
    const r = await p.done();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^f1\nfailed: .+\nf2\ng1\n$/);
    expect(r.stderr).not.toContain("not watched");
  }, 30_000);

  test("a remote sub's functions in sub-subs left out: said once per set left out, not on each new list", async () => {
    const server = writeTree(tmp(), { "far/m.ts": "export function f(hub) { return 'f1'; }", "far/deep/d.ts": "export function x(hub) { return 1; }" });
    await using s = await serve(["--plugins", server, "--sub", "far", "--watch"]);
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"] };',
      "live/init.ts": stdinCli("console.log(await hub.far.m[line]());"),
    });
    const p = run(["app", "--watch", "--remote", `far=${s.url}`, dir]);
    await p.until("stderr", /ready\n/);
    const leftOut = (n: string, refs: string) =>
      `pop: warning: remote sub "far" (${s.url}): ${n} in sub-subs left out (${refs}); remote subs carry modules of the sub itself\n`;
    expect(p.text.stderr).toContain(leftOut("1 function", "deep.d.x"));
    await Bun.write(join(server, "far/m.ts"), "export function f(hub) { return 'f2'; }\nexport function g(hub) { return 'g1'; }");
    await p.until("stderr", /pop: reloaded far from http:\/\/\S+\n/);
    await Bun.write(join(server, "far/deep/d.ts"), "export function x(hub) { return 1; }\nexport function y(hub) { return 2; }");
    await p.until("stderr", /in sub-subs left out \(deep\.d\.x, deep\.d\.y\)/);
    p.send("g\nquit\n");
    p.proc.stdin.end();
    const r = await p.done();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("g1\n");
    expect(r.stderr.split(leftOut("1 function", "deep.d.x"))).toHaveLength(2); // once, at the start
    expect(r.stderr.split(leftOut("2 functions", "deep.d.x, deep.d.y"))).toHaveLength(2);
  }, 30_000);

  test("a remote sub whose server was down at the start is called once the server is up, without a restart", async () => {
    const free = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = free.port;
    free.stop(true);
    const server = writeTree(tmp(), { "far/m.ts": "export function f(hub) { return 'up'; }" });
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"] };',
      "live/init.ts": stdinCli("try { console.log(await hub.far.m.f()); } catch (e) { console.log('failed: ' + e.name); }"),
    });
    const p = run(["app", "--watch", "--remote", `far=http://127.0.0.1:${port}`, dir]);
    await p.until("stderr", /ready\n/);
    expect(p.text.stderr).toContain('calls into sub "far" fail until pop is started again with its server up (under --watch: until the server answers)');
    p.send("f\n");
    await p.until("stdout", /^failed: PluginLoadError\n$/);
    const up = Bun.spawn([POP, "serve", "--plugins", server, "--sub", "far", "--port", String(port)], { stdout: "pipe", stderr: "pipe" });
    try {
      await p.until("stderr", /pop: reloaded far from http:\/\/127\.0\.0\.1:\d+\n/);
      p.send("f\nquit\n");
      p.proc.stdin.end();
      const r = await p.done();
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("failed: PluginLoadError\nup\n");
    } finally {
      up.kill();
      await up.exited;
    }
  }, 30_000);

  test("pop's own options after DIR: a usage error saying they go before DIR", async () => {
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "live";\nexport const DYNE = { live: ["live"] };',
      "live/init.ts": "export async function cli(hub) { await hub.pop.config.load(['live'], { cli: 'live' }); }",
    });
    const trace = await run(["app", dir, "--trace"]).done();
    expect(trace).toEqual({
      code: 2,
      stdout: "",
      stderr: `pop: unknown option "--trace" for the app in ${dir}: pop's own options go before DIR, e.g. "pop app --trace ${dir}"\n`,
    });
    const timeout = await run(["app", dir, "--timeout", "50"]).done();
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain(`pop's own options go before DIR, e.g. "pop app --timeout 50 ${dir}"`);
    const other = await run(["app", dir, "--bogus"]).done();
    expect(other.code).toBe(2);
    expect(other.stderr).not.toContain("pop's own options");
  }, 30_000);

  test("without --watch a change is not picked up", async () => {
    const dir = project();
    const p = run(["app", dir]);
    await p.until("stderr", /ready\n/);
    p.send("x\n");
    await p.until("stdout", /^v1\n$/);
    await Bun.write(join(dir, "live/greet.ts"), "export function hi(hub) { return 'v2'; }");
    p.send("x\n");
    await p.until("stdout", /^v1\nv1\n$/);
    p.send("quit\n");
    p.proc.stdin.end();
    expect(await p.done()).toEqual({ code: 0, stdout: "v1\nv1\n", stderr: "ready\n" });
  });
});
