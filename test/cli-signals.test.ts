// SIGINT and SIGTERM through dist/pop: every open hub is closed (its __shutdown__ hooks run), shutdown errors are
// reported, and pop exits 130 or 143 as `pop --help` documents; a second signal while closing exits at once.
// One-shot commands close their hub when they finish, too.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pop, POP, ROOT, tmp } from "./helpers.ts";

const PLUGINS = join(ROOT, "test/fixtures/cli/plugins");

/** Start dist/pop; `waitFor(re)` resolves once stderr so far matches (bounded), `done` with everything at exit. */
function spawn(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([POP, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let stderr = "";
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      stderr += decoder.decode(chunk);
      for (const w of waiters.splice(0)) (w.re.test(stderr) ? w.resolve : () => waiters.push(w))();
    }
  })();
  const waitFor = (re: RegExp, ms = 10_000) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(stderr)) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stderr so far: ${stderr}`)), ms);
      waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      void proc.exited.then(() => setTimeout(() => reject(new Error(`pop exited (${proc.exitCode}) before ${re}; stderr: ${stderr}`)), 50));
    });
  const done = async () => {
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, reading]);
    return { stdout, stderr, code };
  };
  return { proc, waitFor, done };
}

describe("signals during pop call", () => {
  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("%s: the hub is closed (__shutdown__ runs) and pop exits %d", async (signal, code) => {
    const marker = join(tmp(), "marker");
    const p = spawn(["call", "life.held.forever", "--plugins", PLUGINS], { POP_TEST_MARKER: marker });
    await p.waitFor(/held: started/);
    expect(existsSync(marker)).toBe(false);
    p.proc.kill(signal);
    const r = await p.done();
    expect(r).toEqual({ code, stdout: "", stderr: `held: started\npop: ${signal} received: closing the hub (send it again to stop at once)\n` });
    expect(readFileSync(marker, "utf8")).toBe("shutdown\n");
  });

  test("a __shutdown__ that throws is reported, and the exit code is still the signal's", async () => {
    const marker = join(tmp(), "marker");
    const p = spawn(["call", "life.held.forever", "--plugins", PLUGINS], { POP_TEST_MARKER: marker, POP_TEST_SHUTDOWN: "throw" });
    await p.waitFor(/held: started/);
    p.proc.kill("SIGTERM");
    const r = await p.done();
    expect(r.code).toBe(143);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual(["held: started", "pop: SIGTERM received: closing the hub (send it again to stop at once)"]);
    expect(lines[2]).toMatch(/^pop: .*held\.ts:\d+:\d+: module "life\.held": __shutdown__ threw Error: could not flush the queue$/);
    expect(lines).toHaveLength(3);
    expect(readFileSync(marker, "utf8")).toBe("shutdown\n");
  });

  test("a second signal while closing exits at once", async () => {
    const p = spawn(["call", "life.held.forever", "--plugins", PLUGINS], { POP_TEST_SHUTDOWN: "hang" });
    await p.waitFor(/held: started/);
    p.proc.kill("SIGTERM");
    await p.waitFor(/held: shutting down/);
    p.proc.kill("SIGINT");
    const r = await p.done();
    expect(r.code).toBe(130);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("held: started\npop: SIGTERM received: closing the hub (send it again to stop at once)\nheld: shutting down\n");
  });

  test("--json: the signal and shutdown diagnostics are JSON lines", async () => {
    const p = spawn(["call", "life.held.forever", "--plugins", PLUGINS, "--json"], { POP_TEST_SHUTDOWN: "throw" });
    await p.waitFor(/held: started/);
    p.proc.kill("SIGINT");
    const r = await p.done();
    expect(r.code).toBe(130);
    expect(r.stdout).toBe("");
    const [started, ...json] = r.stderr.trimEnd().split("\n");
    expect(started).toBe("held: started");
    const lines = json.map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ level: "info", msg: "SIGINT received: closing the hub (send it again to stop at once)" });
    expect(lines[1]).toMatchObject({ level: "error", code: "POP_SHUTDOWN", exitCode: 1, msg: expect.stringContaining("could not flush the queue") });
    expect(lines).toHaveLength(2);
  });
});

describe("a one-shot command closes its hub", () => {
  test("pop call: __shutdown__ runs after the result is printed", async () => {
    const marker = join(tmp(), "marker");
    expect(await pop(["call", "life.held.quick", "--plugins", PLUGINS], { env: { POP_TEST_MARKER: marker } })).toEqual({
      code: 0,
      stdout: "quick\n",
      stderr: "",
    });
    expect(readFileSync(marker, "utf8")).toBe("shutdown\n");
  });

  test("a failed __shutdown__ after a successful call: the result stands, the failure is reported, exit 1", async () => {
    const r = await pop(["call", "life.held.quick", "--plugins", PLUGINS], { env: { POP_TEST_SHUTDOWN: "throw" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("quick\n");
    expect(r.stderr).toMatch(/^pop: .*held\.ts:\d+:\d+: module "life\.held": __shutdown__ threw Error: could not flush the queue\n$/);
  });

  test("pop tree --strict loads every module and closes them all", async () => {
    const marker = join(tmp(), "marker");
    const r = await pop(["tree", "--plugins", PLUGINS, "--strict", "--json"], { env: { POP_TEST_MARKER: marker, POP_TEST_INIT_MS: "0" } });
    expect(r.code).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("shutdown\n");
  });
});
