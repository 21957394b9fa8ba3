// Isolated subs through the compiled executable (pop call --isolate SUB=MODE, a manifest's isolate), one suite for
// both modes: same output as in-process, contracts, calls back into the hub, timeouts, crashes, shutdown; and for
// process mode the granted environment and a child that never outlives its host.
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, cpSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { POP, pop, ROOT as REPO, start, tmp } from "./helpers.ts";

const ROOT = resolve(import.meta.dir, "fixtures/isolate/root");
const GRANTED = resolve(import.meta.dir, "fixtures/isolate/granted");

/** Whether process `pid` has ended (a zombie waiting to be reaped counts), waited for up to `ms`: another process's end has no event to wait on. */
async function gone(pid: number, ms = 5000): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    const stat = await Bun.file(`/proc/${pid}/stat`)
      .text()
      .catch(() => "");
    if (stat === "" || / Z /.test(stat.slice(stat.lastIndexOf(")")))) return true;
    if (performance.now() > until) return false;
    await Bun.sleep(20);
  }
}

/** Start `pop call helper.drive.hangWithPid` with calc in a process; resolves once it printed the child's pid. */
async function hungCall() {
  const proc = Bun.spawn([POP, "call", "helper.drive.hangWithPid", "--plugins", ROOT, "--isolate", "calc=process"], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  const reader = proc.stdout.getReader();
  let seen = "";
  let m: RegExpExecArray | null = null;
  while (!(m = /side (\d+)\n/.exec(seen))) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`pop exited before printing the child's pid: ${await stderr}`);
    seen += new TextDecoder().decode(value);
  }
  return { proc, child: Number(m[1]), stderr };
}

for (const mode of ["worker", "process"] as const) {
  describe(`pop call --isolate calc=${mode}`, () => {
    const call = (args: string[], env?: Record<string, string>) => pop(["call", ...args, "--plugins", ROOT, "--isolate", `calc=${mode}`], env ? { env } : {});

    test("prints what the in-process call prints, contracts applied", async () => {
      for (const args of [
        ["calc.math.add", "a=1", "b=2"],
        ["calc.math.fib", "--args", "[10]"],
        ["calc.math.bump", "--json"],
      ]) {
        const inProcess = await pop(["call", ...args, "--plugins", ROOT]);
        const isolated = await call(args);
        expect(isolated).toEqual(inProcess);
        expect(isolated.code).toBe(0);
      }
      const refused = await call(["calc.math.add", "a=x", "b=2"]);
      expect(refused).toEqual({
        stdout: "",
        stderr: 'pop: "calc.math.add" failed: Invalid argument "a" for "calc.math.add": Invalid input: expected number, received NaN (got "x")\n',
        code: 1,
      });
    }, 30_000);

    test("a module that fails to load there fails as it does in-process: when reached, with its load error (--strict: at once)", async () => {
      for (const args of [["broken.good.f"], ["broken.bad.f"], ["broken.good.f", "--strict"]]) {
        const inProcess = await pop(["call", ...args, "--plugins", ROOT]);
        expect(await pop(["call", ...args, "--plugins", ROOT, "--isolate", `broken=${mode}`])).toEqual(inProcess);
      }
      expect(await pop(["call", "broken.bad.f", "--plugins", ROOT, "--isolate", `broken=${mode}`])).toEqual({
        stdout: "",
        stderr: `pop: ${ROOT}/broken/bad.ts:1:11: module "broken.bad" not loaded: threw Error: boom\n`,
        code: 1,
      });
    }, 30_000);

    test("a failing init.ts is warned about and the sub's other modules serve, as in-process; --strict makes it fatal, the same message", async () => {
      const BAD = resolve(import.meta.dir, "fixtures/isolate/badinit");
      for (const extra of [[], ["--strict"]]) {
        const inProcess = await pop(["call", "boot.n.g", "--plugins", BAD, ...extra]);
        expect(await pop(["call", "boot.n.g", "--plugins", BAD, "--isolate", `boot=${mode}`, ...extra])).toEqual(inProcess);
      }
      const init = `${join(BAD, "boot/init.ts")}:3:13: module "boot.init" not loaded: __init__ threw Error: init failed on purpose`;
      expect(await pop(["call", "boot.n.g", "--plugins", BAD, "--isolate", `boot=${mode}`])).toEqual({
        code: 0,
        stdout: "2\n",
        stderr: `pop: warning: ${init}\n`,
      });
      expect(await pop(["call", "boot.n.g", "--plugins", BAD, "--isolate", `boot=${mode}`, "--strict"])).toEqual({
        code: 1,
        stdout: "",
        stderr: `pop: ${init}\n`,
      });
    }, 30_000);

    test("a sub whose import never yields fails after --load-timeout, where in-process pop could only hang", async () => {
      const r = await pop([
        "call",
        "spin.loop.f",
        "--plugins",
        resolve(import.meta.dir, "fixtures/isolate/spin"),
        "--isolate",
        `spin=${mode}`,
        "--load-timeout",
        "300",
      ]);
      expect(r).toEqual({
        stdout: "",
        stderr: `pop: sub "spin" (${mode}): the ${mode} did not load the sub within 300 ms and was ended (an import or __init__ that never yields?); raise the limit with --load-timeout MS\n`,
        code: 1,
      });
    }, 30_000);

    test("a plugin of the isolated sub calls back into the hub; --audit records both calls, the isolated one as the caller", async () => {
      const audit = join(tmp(), "audit.jsonl");
      const r = await call(["calc.math.greet", "--args", '["ada"]', "--audit", audit]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^hello ada from \d+\n$/);
      expect(r.code).toBe(0);
      const lines = readFileSync(audit, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.ref, l.caller, l.outcome])).toEqual([
        ["helper.util.greet", "calc.math.greet", "ok"],
        ["calc.math.greet", null, "ok"],
      ]);
    }, 30_000);

    test("a hung call (while (true) {}) fails with a timeout naming the ref, and pop exits", async () => {
      const r = await call(["calc.math.hang", "--timeout", "300"]);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `pop: call "calc.math.hang" timed out after 300 ms; sub "calc" runs in a ${mode}, which was ended (the next call starts a fresh one)\n`,
      );
      expect(r.code).toBe(1);
    }, 30_000);

    test("an async call that never settles times out with its result abandoned (the side still answers), and pop exits", async () => {
      const r = await call(["calc.math.wait", "--timeout", "300"]);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `pop: call "calc.math.wait" timed out after 300 ms; its result is abandoned (sub "calc" runs in a ${mode}, which still answers and keeps running; raise the limit with --timeout MS, or 0 for none)\n`,
      );
      expect(r.code).toBe(1);
    }, 30_000);

    test("a crash fails the call with what happened; the next call gets a fresh side", async () => {
      const r = await call(["helper.drive.afterExit", "--json"]);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({
        failed: `IsolateError: sub "calc" (${mode}): the ${mode} exited with code 3 while "calc.math.exit" was running; the next call starts a fresh one`,
        next: { count: 1, starts: 1 },
      });
      expect(r.code).toBe(0);
      const direct = await call(["calc.math.exit", "--args", "[3]"]);
      expect(direct.stderr).toBe(
        `pop: "calc.math.exit" failed: sub "calc" (${mode}): the ${mode} exited with code 3 while "calc.math.exit" was running; the next call starts a fresh one\n`,
      );
      expect(direct.code).toBe(1);
      const uncaught = await call(["calc.math.crash"]);
      expect(uncaught.stderr).toBe(
        `pop: "calc.math.crash" failed: sub "calc" (${mode}): the ${mode} threw an uncaught Error: uncaught on purpose while "calc.math.crash" was running; the next call starts a fresh one\n`,
      );
      expect(uncaught.code).toBe(1);
    }, 30_000);

    test("the isolated modules' __shutdown__ runs when pop closes the hub", async () => {
      const mark = join(tmp(), "mark.txt");
      const r = await call(["calc.shut.markTo", "--args", JSON.stringify([mark])]);
      expect(r).toEqual({ stdout: "", stderr: "", code: 0 });
      expect(readFileSync(mark, "utf8")).toBe("calc down after 0 calls\n");
    }, 30_000);

    test("SIGTERM while a call is in flight: the isolated modules shut down, pop exits 143", async () => {
      const mark = join(tmp(), "mark.txt");
      const run = await start(
        ["call", "helper.drive.markThenWait", "--args", JSON.stringify([mark]), "--plugins", ROOT, "--isolate", `calc=${mode}`],
        /waiting\n/,
      );
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(143);
      expect(readFileSync(mark, "utf8")).toBe("calc down after 0 calls\n");
    }, 30_000);
  });
}

describe("process isolation through pop", () => {
  test("the child sees only the environment variables its manifest grants (not HOME, not PATH)", async () => {
    const r = await pop(["call", "vault.env.seen", "--args", '["POP_TEST_GRANTED", "POP_TEST_SECRET", "HOME", "PATH"]', "--plugins", GRANTED, "--json"], {
      env: { POP_TEST_GRANTED: "yes", POP_TEST_SECRET: "hidden", HOME: "/root" },
    });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ POP_TEST_GRANTED: "yes", POP_TEST_SECRET: null, HOME: null, PATH: null });
    expect(r.code).toBe(0);
    const plain = await pop(["call", "vault.env.seen", "--args", '["POP_TEST_SECRET"]', "--plugins", GRANTED, "--isolate", "vault=worker", "--json"], {
      env: { POP_TEST_SECRET: "hidden" },
    });
    expect(JSON.parse(plain.stdout)).toEqual({ POP_TEST_SECRET: "hidden" }); // a worker shares the process: no boundary
  }, 30_000);

  // Root reads any process's /proc files: the check needs an ordinary user, as which pop then runs.
  const asNobody = process.getuid?.() === 0 && Bun.which("runuser") !== null && process.platform === "linux";
  test.skipIf(!asNobody)(
    "the child cannot read the host's environment from /proc/<host>/environ either",
    async () => {
      const dir = tmp();
      for (let d = dir; d !== "/" && d !== process.env.POP_TEST_TMP; d = join(d, "..")) chmodSync(d, 0o755);
      chmodSync(process.env.POP_TEST_TMP!, 0o755);
      cpSync(GRANTED, join(dir, "granted"), { recursive: true });
      const bin = join(dir, "pop"); // where nobody can reach it: the checkout may sit in a folder only root can enter
      copyFileSync(POP, bin);
      chmodSync(bin, 0o755);
      const p = Bun.spawn(
        ["runuser", "-u", "nobody", "--", bin, "call", "vault.env.hostEnviron", "--args", '["POP_TEST"]', "--plugins", join(dir, "granted"), "--json"],
        {
          cwd: "/",
          env: { PATH: process.env.PATH!, NO_COLOR: "1", POP_TEST_SECRET: "hidden" },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      expect(await new Response(p.stderr).text()).toBe("");
      expect(JSON.parse(await new Response(p.stdout).text())).toBe("EACCES");
    },
    30_000,
  );

  test("pop app keeps running while the isolated child serves (the tutorial's rpc server in a process); SIGTERM ends both", async () => {
    const run = await start(["app", "--isolate", "rpc=process", "examples/poppy", "--port", "0"], /Running on (http:\/\/[\d.]+:\d+)/);
    const res = await fetch(run.match[1]!, { method: "POST", body: JSON.stringify({ ref: "math.fib", kwargs: { num: 11 } }) });
    expect(await res.json()).toEqual({ ref: 89 });
    run.proc.kill("SIGTERM");
    expect(await run.proc.exited).toBe(143);
  }, 30_000);

  test("kill -9 of the child fails the call in flight naming the signal; pop exits 1", async () => {
    const run = await hungCall();
    process.kill(run.child, "SIGKILL");
    expect(await run.proc.exited).toBe(1);
    expect(await run.stderr).toBe(
      'pop: "helper.drive.hangWithPid" failed: sub "calc" (process): the process was killed by SIGKILL while "calc.math.hang" was running; the next call starts a fresh one\n',
    );
  }, 30_000);

  // PR_SET_PDEATHSIG is Linux's; elsewhere only an idle child notices that its host is gone.
  test.skipIf(process.platform !== "linux")(
    "kill -9 of pop takes its child with it, even a child stuck in a loop",
    async () => {
      const run = await hungCall();
      process.kill(run.proc.pid, "SIGKILL");
      await run.proc.exited;
      expect(await gone(run.child)).toBe(true);
    },
    30_000,
  );

  test("a child over the manifest's memory limit is killed with a clear error", async () => {
    const r = await pop(["call", "vault.hog.grow", "--args", "[16]", "--plugins", GRANTED]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^pop: "vault\.hog\.grow" failed: sub "vault" \(process\): the process went over its memory limit of 200 MiB \(resident \d+ MiB\) and was killed while "vault\.hog\.grow" was running; the next call starts a fresh one\n$/,
    );
    expect(r.code).toBe(1);
  }, 30_000);
});
