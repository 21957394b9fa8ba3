// Isolated subs through the API, one suite run for both modes (worker, process): the same results and contracts as
// in-process, calls back into the hub, errors keeping their class, timeouts and crashes that the next call survives,
// shutdown; and for process mode the environment and memory limits.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ContractError, IsolateError, RefError, TimeoutError } from "../src/errors.ts";
import { addSub, closeHub, createHub, discoverRoots, type Hub } from "../src/hub/index.ts";
import { putOptions } from "../src/hub/_meta.ts";
import { addMonitor } from "../src/hub/_trace.ts";
import { canWatchMemory, type IsolateMode, type IsolateOptions, isolateSub } from "../src/isolate/index.ts";
import { tmp } from "./helpers.ts";

const ROOT = resolve(import.meta.dir, "fixtures/isolate/root");
const CALC = join(ROOT, "calc");
const open: Hub[] = [];

async function hostHub(warn: (message: string) => void = () => {}): Promise<Hub> {
  const hub = createHub({ roots: await discoverRoots({ plugins: [ROOT], packages: false }), warn });
  open.push(hub);
  await addSub(hub, { dyneName: "helper" });
  return hub;
}

async function isolated(mode: IsolateMode, opts: Partial<IsolateOptions> = {}): Promise<Hub> {
  const hub = await hostHub();
  await isolateSub(hub, "calc", { mode, folders: [CALC], source: `test calc=${mode}`, timeout: 2000, ...opts });
  return hub;
}

/** The rejection of `p` (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to fail, it returned");
}

afterEach(async () => {
  for (const hub of open.splice(0)) await closeHub(hub).catch(() => {});
});

for (const mode of ["worker", "process"] as const) {
  describe(`isolate: ${mode}`, () => {
    test("gives the results an in-process sub gives, its contracts applied on the isolated side", async () => {
      const plain = await hostHub();
      await addSub(plain, { dyneName: "calc" });
      const hub = await isolated(mode);
      for (const h of [plain, hub]) {
        expect(await h.calc.math.add({ a: 1, b: "2" })).toBe(3); // the schema contract coerces "2"
        expect(await h.calc.math.fib(10)).toBe(110); // post_fib doubles each result, recursion included
        expect(await h.calc.math.bump()).toEqual({ count: 1, starts: 1 });
        expect(h.calc.math.LIMIT).toBe(100);
      }
      expect(hub.calc.math.add({ a: 1, b: 2 })).toBeInstanceOf(Promise);
    }, 20_000);

    test("errors cross with their class, code and message", async () => {
      const hub = await isolated(mode);
      const contract = await rejection(hub.calc.math.add({ a: "x", b: 1 }));
      expect(contract).toBeInstanceOf(ContractError);
      expect(contract.code).toBe("POP_CONTRACT");
      expect(contract.field).toBe("a");
      expect(contract.message).toBe('Invalid argument "a" for "calc.math.add": Invalid input: expected number, received NaN (got "x")');
      expect((await rejection(hub.calc.math.add({ a: 13, b: 1 }))).message).toBe("13 is unlucky");
      const type = await rejection(hub.calc.math.fail("type"));
      expect(type).toBeInstanceOf(TypeError);
      expect(type.message).toBe('not a number: "x"');
      const ref = await rejection(hub.calc.math.fail("ref"));
      expect(ref).toBeInstanceOf(RefError);
      expect(ref.exitCode).toBe(2);
      expect(ref.ref).toBe("a.b");
      expect((await rejection(hub.calc.math.fnResult())).message).toStartWith(
        'the result of "calc.math.fnResult" cannot cross to the host: it holds a function at ',
      );
      expect((await rejection(hub.calc.math.fnResult())).message).toEndWith(
        "; only plain data crosses (structured clone: no functions, symbols or class instances)",
      );
      const args = await rejection(hub.calc.echo.echo(() => 1));
      expect(args).toBeInstanceOf(TypeError);
      expect(args.message).toStartWith(
        `the arguments of "calc.echo.echo" cannot cross to the ${mode} of sub "calc": it holds a function at [0]; only plain data crosses`,
      );
      expect(await hub.calc.echo.echo({ at: new Date(0), tags: new Set(["a"]) })).toEqual({ at: new Date(0), tags: new Set(["a"]) });
    }, 20_000);

    test("its plugins call back into the hub, which answers from the host", async () => {
      const hub = await isolated(mode);
      expect(await hub.calc.math.greet("ada")).toBe(`hello ada from ${process.pid}`);
      const missing = await rejection(hub.calc.math.missing());
      expect(missing).toBeInstanceOf(RefError);
      expect(missing.message).toContain('"helper.util.nope"');
    }, 20_000);

    test("a contract of the isolated sub calls back into the hub too", async () => {
      const plain = await hostHub();
      await addSub(plain, { dyneName: "calc" });
      const hub = await isolated(mode);
      for (const h of [plain, hub]) expect(await h.calc.math.greeted("ada")).toBe(`HELLO ADA FROM ${process.pid}`); // the host's helper answered
    }, 20_000);

    test("hub.OPT reaches the isolated side: at start, and each project's config once it is loaded", async () => {
      const hub = await hostHub();
      putOptions(hub, { early: Object.freeze({ port: 1 }) });
      await isolateSub(hub, "calc", { mode, folders: [CALC], source: "test" });
      expect(await hub.calc.echo.opt()).toEqual({ early: { port: 1 } });
      putOptions(hub, { calc: Object.freeze({ greeting: "hi" }) }); // what hub.pop.config.load does for a project
      expect(await hub.calc.echo.opt()).toEqual({ early: { port: 1 }, calc: { greeting: "hi" } });
    }, 20_000);

    test("calls are traced by the hub's call monitor like any other", async () => {
      const hub = await isolated(mode);
      const seen: string[] = [];
      const undo = addMonitor(hub, { after: (c) => seen.push(`${c.ref} ${c.outcome}`) });
      await hub.calc.math.add({ a: 1, b: 1 });
      await rejection(hub.calc.math.fail("plain"));
      undo();
      expect(seen).toEqual(["calc.math.add ok", "calc.math.fail error"]);
    }, 20_000);

    test("a call back into the hub names the isolated call it was made from as its caller (audit, --trace)", async () => {
      const hub = await isolated(mode);
      const seen: string[] = [];
      const undo = addMonitor(hub, { callers: true, after: (c) => seen.push(`${c.ref} from ${c.caller ?? "none"}`) });
      await hub.calc.math.greet("ada");
      undo();
      expect(seen).toEqual(["helper.util.greet from calc.math.greet", "calc.math.greet from none"]);
    }, 20_000);

    test("a hung call times out naming its ref; the next call gets a fresh side", async () => {
      const hub = await isolated(mode, { timeout: 300 });
      expect(await hub.calc.math.bump()).toEqual({ count: 1, starts: 1 });
      const err = await rejection(hub.calc.math.hang()); // while (true) {}
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err.message).toBe(
        `call "calc.math.hang" timed out after 300 ms; sub "calc" runs in a ${mode}, which was ended (the next call starts a fresh one)`,
      );
      expect(await hub.calc.math.bump()).toEqual({ count: 1, starts: 1 }); // fresh: its __init__ ran again
    }, 20_000);

    test("an async call that never settles times out alone: the side still answers, so it is kept, with its state", async () => {
      const hub = await isolated(mode, { timeout: 300 });
      expect(await hub.calc.math.bump()).toEqual({ count: 1, starts: 1 });
      const err = await rejection(hub.calc.math.wait()); // awaits for ever, never spins
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err.message).toBe(
        `call "calc.math.wait" timed out after 300 ms; its result is abandoned (sub "calc" runs in a ${mode}, which still answers and keeps running; raise the limit with --timeout MS, or 0 for none)`,
      );
      expect(await hub.calc.math.bump()).toEqual({ count: 2, starts: 1 }); // the same side: not restarted
    }, 20_000);

    test("a crash fails the calls in flight with what happened; the next call gets a fresh side", async () => {
      const hub = await isolated(mode);
      await hub.calc.math.bump();
      const exited = await rejection(hub.calc.math.exit(3));
      expect(exited).toBeInstanceOf(IsolateError);
      expect(exited.message).toBe(`sub "calc" (${mode}): the ${mode} exited with code 3 while "calc.math.exit" was running; the next call starts a fresh one`);
      expect(await hub.calc.math.bump()).toEqual({ count: 1, starts: 1 });
      const uncaught = await rejection(hub.calc.math.crash());
      expect(uncaught).toBeInstanceOf(IsolateError);
      expect(uncaught.message).toBe(
        `sub "calc" (${mode}): the ${mode} threw an uncaught Error: uncaught on purpose while "calc.math.crash" was running; the next call starts a fresh one`,
      );
      expect(await hub.calc.math.add({ a: 2, b: 2 })).toBe(4);
    }, 20_000);

    test("a side that ends between calls is reported as a warning at once; the next call gets a fresh side", async () => {
      let warned!: (message: string) => void;
      const warning = new Promise<string>((res) => (warned = res));
      const hub = await hostHub((m) => warned(m));
      await isolateSub(hub, "calc", { mode, folders: [CALC], source: "test" });
      expect(await hub.calc.math.crashLater()).toBe("returned");
      expect(await warning).toBe(`sub "calc" (${mode}): the ${mode} threw an uncaught Error: later, on purpose; the next call starts a fresh one`);
      expect(await hub.calc.math.bump()).toEqual({ count: 1, starts: 1 });
    }, 20_000);

    test("closing the hub runs the isolated modules' __shutdown__ and ends the side", async () => {
      const hub = await isolated(mode);
      const mark = join(tmp(), "mark.txt");
      await hub.calc.shut.markTo(mark);
      await hub.calc.math.bump();
      await hub.calc.math.bump();
      const pid = await hub.calc.math.pid();
      const kept = hub.calc.math.bump; // a caller holding the function keeps it past the close
      await closeHub(hub);
      expect(readFileSync(mark, "utf8")).toBe("calc down after 2 calls\n");
      const after = await rejection(kept());
      expect(after).toBeInstanceOf(IsolateError);
      expect(after.message).toBe('cannot call "calc.math.bump": the hub is closed, and with it the ' + mode + ' of sub "calc"');
      if (mode === "process") expect(() => process.kill(pid, 0)).toThrow();
    }, 20_000);

    test("a sub whose import never yields (while (true) {} at top level) fails the start after the load timeout; the host goes on", async () => {
      const hub = createHub({ loadTimeout: 300, warn: () => {} });
      open.push(hub);
      const folder = resolve(import.meta.dir, "fixtures/isolate/spin/spin");
      const err = await rejection(isolateSub(hub, "spin", { mode, folders: [folder], source: "test" }));
      expect(err).toBeInstanceOf(IsolateError);
      expect(err.message).toBe(
        `sub "spin" (${mode}): the ${mode} did not load the sub within 300 ms and was ended (an import or __init__ that never yields?); raise the limit with --load-timeout MS`,
      );
      expect(hub.spin).toBeUndefined();
    }, 20_000);

    test("a script that never closes its hub still ends once its calls are done, as in-process", async () => {
      const p = Bun.spawn([process.execPath, resolve(import.meta.dir, "fixtures/isolate/oneshot.ts"), mode], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect({ out, err, code }).toEqual({ out: "42\n", err: "", code: 0 });
    }, 20_000);

    test("removing the sub (hub.pop.sub.remove) runs its modules' __shutdown__ there and ends the side", async () => {
      const hub = await isolated(mode);
      const mark = join(tmp(), "mark.txt");
      await hub.calc.shut.markTo(mark);
      const kept = hub.calc.math.bump;
      await hub.pop.sub.remove("calc");
      expect(readFileSync(mark, "utf8")).toBe("calc down after 0 calls\n");
      expect(hub.calc).toBeUndefined();
      expect((await rejection(kept())).message).toBe(
        `cannot call "calc.math.bump": sub "calc" was removed from the hub, and with it the ${mode} of sub "calc"`,
      );
    }, 20_000);

    test("a failing init.ts: a load failure of init and the other modules serve; with tolerant: false the start fails", async () => {
      const BOOT = resolve(import.meta.dir, "fixtures/isolate/badinit/boot");
      const warned: string[] = [];
      const hub = await hostHub((m) => warned.push(m));
      await isolateSub(hub, "boot", { mode, folders: [BOOT], source: "test" });
      expect(await hub.boot.n.g()).toBe(2);
      expect(warned).toEqual([`${BOOT}/init.ts:3:13: module "boot.init" not loaded: __init__ threw Error: init failed on purpose`]);
      const strict = await hostHub();
      const err = await rejection(isolateSub(strict, "boot", { mode, folders: [BOOT], source: "test", tolerant: false }));
      expect(err.message).toBe(`${BOOT}/init.ts:3:13: module "boot.init" not loaded: __init__ threw Error: init failed on purpose`);
    }, 20_000);

    test("bad options are usage errors naming where they came from", async () => {
      const hub = await hostHub();
      const bad = (o: Partial<IsolateOptions>) => rejection(isolateSub(hub, "calc", { mode, folders: [CALC], source: "--isolate calc=x", ...o }));
      expect((await bad({ folders: [] })).message).toBe(
        'cannot isolate sub "calc" (--isolate calc=x): no folder holds it; add its plugin root with --plugins DIR',
      );
      expect((await bad({ timeout: -1 })).message).toBe('cannot isolate sub "calc" (--isolate calc=x): timeout must be a number of ms, got -1');
      expect((await bad({ timeout: 3_000_000_000 })).message).toBe(
        'cannot isolate sub "calc" (--isolate calc=x): timeout must be at most 2147483647 ms (about 24.8 days, the longest timer), got 3000000000',
      );
      expect((await rejection(isolateSub(hub, "helper", { mode, folders: [CALC], source: "s" }))).message).toContain("already on the hub");
    }, 20_000);
  });
}

describe("isolate: process only", () => {
  test("the child sees only the environment variables it is granted (not even HOME or PATH)", async () => {
    process.env.POP_TEST_GRANTED = "yes";
    process.env.POP_TEST_SECRET = "hidden";
    try {
      const hub = await isolated("process", { env: ["POP_TEST_GRANTED", "POP_TEST_UNSET"] });
      expect(await hub.calc.math.env("POP_TEST_GRANTED")).toBe("yes");
      expect(await hub.calc.math.env("POP_TEST_SECRET")).toBeNull();
      expect(await hub.calc.math.envNames()).toEqual(["POP_TEST_GRANTED"]);
      const none = await isolated("process");
      expect(await none.calc.math.envNames()).toEqual([]);
    } finally {
      delete process.env.POP_TEST_GRANTED;
      delete process.env.POP_TEST_SECRET;
    }
  }, 20_000);

  test("kill -9 of the child fails the call in flight naming the signal; the next call gets a fresh child", async () => {
    const hub = await isolated("process", { timeout: 0 });
    const pid = await hub.calc.math.pid();
    const inFlight = rejection(hub.calc.math.hang());
    process.kill(pid, "SIGKILL");
    const err = await inFlight;
    expect(err).toBeInstanceOf(IsolateError);
    expect(err.message).toBe('sub "calc" (process): the process was killed by SIGKILL while "calc.math.hang" was running; the next call starts a fresh one');
    expect(await hub.calc.math.pid()).not.toBe(pid);
  }, 20_000);

  test.skipIf(!canWatchMemory())(
    "a child over its memory limit is killed with a clear error; the next call works",
    async () => {
      const hub = await isolated("process", { memory: 200, timeout: 0 });
      const err = await rejection(hub.calc.math.hog(16));
      expect(err).toBeInstanceOf(IsolateError);
      expect(err.message).toMatch(
        /^sub "calc" \(process\): the process went over its memory limit of 200 MiB \(resident \d+ MiB\) and was killed while "calc\.math\.hog" was running; the next call starts a fresh one$/,
      );
      expect(await hub.calc.math.add({ a: 1, b: 1 })).toBe(2);
    },
    30_000,
  );

  test("worker mode refuses env and memory limits (a worker shares the process)", async () => {
    const hub = await hostHub();
    const e = await rejection(isolateSub(hub, "calc", { mode: "worker", folders: [CALC], env: ["HOME"], source: "--isolate calc=worker" }));
    expect(e.message).toBe(
      'cannot isolate sub "calc" (--isolate calc=worker): env and memory limits need mode "process": a worker shares this process\'s environment and memory',
    );
    expect(existsSync(CALC)).toBe(true);
  });
});
