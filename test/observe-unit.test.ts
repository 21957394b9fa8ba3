// The call monitor and per-call timeout in-process: what only the API shows (a promise rejecting, a sync call that
// cannot be interrupted, callers across awaits, the bare functions coming back).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { TimeoutError } from "../src/errors.ts";
import { addMonitor, addSub, type CallEnd, createHub, setCallTimeout } from "../src/hub/index.ts";
import { AuditError, auditMonitor } from "../src/observe/_audit.ts";
import { tmp, writeTree } from "./helpers.ts";

const FILES = {
  "s/m.ts": [
    "export function sync(hub) { return 'sync'; }",
    "export async function slow(hub, ms) { await new Promise((r) => setTimeout(r, ms)); return 'slow'; }",
    "export function never(hub) { return new Promise(() => {}); }",
    "export async function outer(hub) { await null; const a = await hub.s.m.inner(); await new Promise((r) => setTimeout(r, 1)); return [a, hub.s.m.sync()]; }",
    "export async function inner(hub) { await null; return hub.s.m.sync(); }",
  ].join("\n"),
};

async function hubOf(opts: { callTimeout?: number } = {}) {
  const dir = writeTree(tmp(), FILES);
  const hub = createHub({ warn: () => {}, ...opts });
  await addSub(hub, { path: join(dir, "s"), name: "s", load: "eager" });
  return hub;
}

describe("a monitor with failCalls", () => {
  test("its after throwing fails the call with that error, sync and async, once every monitor ran; others' throws are only reported", async () => {
    const hub = await hubOf();
    const seen: string[] = [];
    const undoA = addMonitor(hub, {
      failCalls: true,
      after(c) {
        throw new Error(`cannot record ${c.ref}`);
      },
    });
    const undoB = addMonitor(hub, { after: (c) => void seen.push(c.ref) });
    const undoC = addMonitor(hub, {
      after() {
        throw new Error("only reported");
      },
    });
    expect(() => hub.s.m.sync()).toThrow("cannot record s.m.sync");
    await expect(hub.s.m.slow(1)).rejects.toThrow("cannot record s.m.slow");
    expect(seen).toEqual(["s.m.sync", "s.m.slow"]);
    undoA();
    undoB();
    undoC();
    expect(hub.s.m.sync()).toBe("sync");
  });

  test.skipIf(!existsSync("/dev/full"))(
    "the audit monitor on /dev/full: the call rejects with an AuditError naming the file; close says how many were lost",
    async () => {
      const hub = await hubOf();
      const audit = auditMonitor("/dev/full");
      const undo = addMonitor(hub, audit.monitor);
      expect(() => hub.s.m.sync()).toThrow(AuditError);
      await expect(hub.s.m.slow(1)).rejects.toThrow(
        'call "s.m.slow" could not be recorded: cannot write to the audit file "/dev/full" (option --audit): ENOSPC',
      );
      undo();
      expect(() => audit.close()).toThrow('the audit file "/dev/full" (option --audit) is missing 2 calls that could not be recorded');
    },
  );
});

describe("per-call timeout", () => {
  test("an async call still running after the limit rejects with a TimeoutError naming the ref", async () => {
    const hub = await hubOf({ callTimeout: 20 });
    const err = await hub.s.m.never().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toStartWith('call "s.m.never" timed out after 20 ms');
    expect((err as TimeoutError).ms).toBe(20);
  });

  test("a call that settles in time is untouched; a sync call passes through (it cannot be interrupted in-process)", async () => {
    const hub = await hubOf({ callTimeout: 5000 });
    expect(await hub.s.m.slow(1)).toBe("slow");
    expect(hub.s.m.sync()).toBe("sync");
  });

  test("setCallTimeout turns it on and off on a loaded hub: off, the bare function is back", async () => {
    const hub = await hubOf();
    const bare = hub.s.m.never;
    setCallTimeout(hub, 10);
    expect(hub.s.m.never).not.toBe(bare);
    await expect(hub.s.m.never()).rejects.toBeInstanceOf(TimeoutError);
    setCallTimeout(hub, 0);
    expect(hub.s.m.never).toBe(bare);
    expect(() => setCallTimeout(hub, -1)).toThrow(/whole number of milliseconds/);
  });
});

describe("callers", () => {
  test("each call names the hub call it was made from, across awaits; a top call has none", async () => {
    const hub = await hubOf();
    const seen: Array<[string, string | undefined, number]> = [];
    const undo = addMonitor(hub, { callers: true, after: (c: CallEnd) => void seen.push([c.ref, c.caller, c.time]) });
    // Two at once: their callers do not mix.
    const [a, b] = await Promise.all([hub.s.m.outer(), hub.s.m.outer()]);
    expect(a).toEqual(["sync", "sync"]);
    expect(b).toEqual(["sync", "sync"]);
    undo();
    const pairs = seen.map(([ref, caller]) => `${ref}<${caller ?? "-"}`).sort();
    expect(pairs).toEqual([
      "s.m.inner<s.m.outer",
      "s.m.inner<s.m.outer",
      "s.m.outer<-",
      "s.m.outer<-",
      "s.m.sync<s.m.inner",
      "s.m.sync<s.m.inner",
      "s.m.sync<s.m.outer",
      "s.m.sync<s.m.outer",
    ]);
    for (const [, , time] of seen) expect(Math.abs(time - Date.now())).toBeLessThan(60_000);
  });

  test("a monitor that does not ask for callers gets none", async () => {
    const hub = await hubOf();
    const seen: Array<string | undefined> = [];
    addMonitor(hub, { after: (c: CallEnd) => void seen.push(c.caller) });
    await hub.s.m.outer();
    expect(seen).toEqual([undefined, undefined, undefined, undefined]);
  });

  test("a timed-out call is reported to the monitors as an error", async () => {
    const hub = await hubOf({ callTimeout: 10 });
    const ends: CallEnd[] = [];
    addMonitor(hub, { after: (c) => void ends.push(c) });
    await expect(hub.s.m.never()).rejects.toBeInstanceOf(TimeoutError);
    expect(ends.map((e) => [e.ref, e.outcome, e.error instanceof TimeoutError])).toEqual([["s.m.never", "error", true]]);
  });
});

describe("loaded only when asked for", () => {
  test("a hub loaded and called without trace, audit or placement evaluates none of src/observe, src/isolate, src/remote; --trace does load observe", async () => {
    const dir = writeTree(tmp(), FILES);
    const script = join(dir, "main.ts");
    const hubIndex = JSON.stringify(join(import.meta.dir, "../src/hub/index.ts"));
    await Bun.write(
      script,
      `import { closeHub, loadHub } from ${hubIndex};\n` +
        `const hub = await loadHub({ plugins: [${JSON.stringify(dir)}], packages: false, trace: process.argv[2] === "trace", warn: () => {} });\n` +
        `hub.s.m.sync();\nawait hub.s.m.slow(1);\nawait closeHub(hub);\n` +
        `const seen = Object.keys(require.cache).filter((f) => /\\/src\\/(observe|isolate|remote)\\//.test(f)).map((f) => f.replace(/.*\\/src\\//, ""));\n` +
        `console.log(JSON.stringify([...new Set(seen.map((f) => f.split("/")[0]))]));\n`,
    );
    const run = async (arg: string) => {
      const p = Bun.spawn([process.execPath, script, arg], { stdout: "pipe", stderr: "pipe" });
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      expect(code).toBe(0);
      return JSON.parse(out.trim().split("\n").pop()!);
    };
    expect(await run("plain")).toEqual([]);
    expect(await run("trace")).toEqual(["observe"]);
  });
});
