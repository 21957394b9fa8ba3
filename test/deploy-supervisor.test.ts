// The deploy agent's local supervision, against real processes: start, stop (signal to the group, SIGKILL after the
// timeout), restart with backoff after kill -9, failed after N quick crashes, adoption by a new supervisor, and the
// log files (rotation, tail, follow).
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, closeSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { follow, LogRotator, logPath, openLog, tail } from "../src/deploy/_logs.ts";
import { httpReady, tcpReady, waitReady } from "../src/deploy/_readiness.ts";
import { isAlive, procStartTime, Supervisor, type SupervisorEvent } from "../src/deploy/_supervisor.ts";
import type { ProcessSpec } from "../src/deploy/_types.ts";
import { tmp } from "./helpers.ts";

const FIX = resolve(import.meta.dir, "fixtures/deploy");
const BUN = process.execPath;

/** Supervisors made by a test, stopped afterwards so a failing test leaks no process. */
const open: Supervisor[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stopAll().catch(() => {});
});

function supervisor(opts: Partial<ConstructorParameters<typeof Supervisor>[0]> = {}) {
  const events: SupervisorEvent[] = [];
  const waiters = new Set<() => void>();
  const sup = new Supervisor({
    stateDir: opts.stateDir ?? tmp("sup-"),
    backoffMs: 20,
    stableMs: 60_000,
    pollMs: 50,
    ...opts,
    onEvent: (e) => {
      events.push(e);
      for (const w of waiters) w();
    },
  });
  open.push(sup);
  /** Resolves with the first event (from index `from`) matching `pred`; rejects after `ms`. */
  const next = (pred: (e: SupervisorEvent) => boolean, from = 0, ms = 10_000) =>
    new Promise<SupervisorEvent>((res, rej) => {
      const look = () => {
        const hit = events.slice(from).find(pred);
        if (hit) {
          waiters.delete(look);
          clearTimeout(t);
          res(hit);
        }
      };
      const t = setTimeout(() => {
        waiters.delete(look);
        rej(new Error(`no matching event within ${ms} ms; saw ${JSON.stringify(events)}`));
      }, ms);
      waiters.add(look);
      look();
    });
  return { sup, events, next };
}

function spec(name: string, script: string, extra: Partial<ProcessSpec> = {}): ProcessSpec {
  return { name, argv: [BUN, join(FIX, script)], stopSignal: "SIGTERM", stopTimeout: 5000, ...extra };
}

/** Wait (bounded) until `file` holds text matching `re`: the service's output reaching its log. */
async function fileMatches(file: string, re: RegExp, ms = 10_000): Promise<string> {
  const r = await waitReady(() => (existsSync(file) && re.test(readFileSync(file, "utf8"))) || `no ${re} yet`, { timeoutMs: ms, intervalMs: 20 });
  if (r !== true) throw new Error(`${file}: ${r}; it holds ${JSON.stringify(existsSync(file) ? readFileSync(file, "utf8") : null)}`);
  return readFileSync(file, "utf8");
}

describe("start and stop", () => {
  test("a started service writes its output to its log file, has a pid file, and stop ends it", async () => {
    const { sup, next } = supervisor();
    const pid = await sup.start(spec("web", "sleeper.ts", { argv: [BUN, join(FIX, "sleeper.ts"), "a b"], env: { EXTRA: "1" } }));
    await next((e) => e.type === "ready");
    expect(sup.status("web")).toMatchObject({ name: "web", pid, state: "running", restarts: 0, ready: true });
    const log = await fileMatches(logPath(sup.stateDir, "web"), /stderr line/);
    expect(log).toContain(`hello from ${pid} a b`);
    const rec = JSON.parse(readFileSync(join(sup.stateDir, "run/web.json"), "utf8"));
    expect(rec).toMatchObject({ pid, startTime: procStartTime(pid), argv: [BUN, join(FIX, "sleeper.ts"), "a b"] });
    expect(isAlive(pid)).toBe(true);
    await sup.stop("web");
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(sup.stateDir, "run/web.json"))).toBe(false);
    expect(sup.status("web")?.state).toBe("stopped");
    expect(sup.list().map((s) => s.name)).toEqual(["web"]);
  });

  test("stop signals the whole process group: a child the service started is stopped too", async () => {
    const { sup } = supervisor();
    const s = spec("group", "", { argv: ["sh", "-c", "sleep 60 & echo child $!; wait"] });
    await sup.start(s);
    const log = await fileMatches(logPath(sup.stateDir, "group"), /child \d+/);
    const child = Number(/child (\d+)/.exec(log)![1]);
    expect(isAlive(child)).toBe(true);
    await sup.stop("group");
    expect(isAlive(child)).toBe(false);
  });

  test("a process that traps the stop signal gets it, then SIGKILL after the stop timeout", async () => {
    const { sup, next, events } = supervisor();
    const pid = await sup.start(spec("stubborn", "stubborn.ts", { stopTimeout: 300 }));
    await fileMatches(logPath(sup.stateDir, "stubborn"), /stubborn \d+ ready/);
    const from = events.length;
    await sup.stop("stubborn");
    expect(isAlive(pid)).toBe(false);
    await fileMatches(logPath(sup.stateDir, "stubborn"), new RegExp(`got SIGTERM in ${pid}`));
    expect(await next((e) => e.type === "exited", from)).toMatchObject({ signal: "SIGKILL", requested: true });
  });

  test("a readiness check: the service is running and ready once its port accepts connections", async () => {
    const { sup, next } = supervisor();
    const port = freePort();
    await sup.start(spec("tcp", "listen.ts", { env: { PORT: String(port) }, ready: () => tcpReady(port), readyTimeout: 10_000 }));
    await next((e) => e.type === "ready");
    expect(sup.status("tcp")).toMatchObject({ state: "running", ready: true });
    expect(await tcpReady(port)).toBe(true);
    await sup.stop("tcp");
    expect(await tcpReady(port)).toContain(`127.0.0.1:${port}`);
  });
});

describe("supervision", () => {
  test("kill -9 of a service: restarted after a backoff, with a new pid", async () => {
    const { sup, next, events } = supervisor({ backoffMs: 30 });
    const pid = await sup.start(spec("web", "sleeper.ts"));
    await next((e) => e.type === "ready");
    const from = events.length;
    process.kill(pid, "SIGKILL");
    expect(await next((e) => e.type === "exited", from)).toMatchObject({ pid, signal: "SIGKILL", requested: false });
    expect(await next((e) => e.type === "backoff", from)).toMatchObject({ ms: 30 });
    const started = (await next((e) => e.type === "started", from)) as Extract<SupervisorEvent, { type: "started" }>;
    expect(started.pid).not.toBe(pid);
    await next((e) => e.type === "ready", from);
    expect(sup.status("web")).toMatchObject({ state: "running", restarts: 1, pid: started.pid, lastExit: { signal: "SIGKILL" } });
    // The crash stays on record, said as past: no "restarting in 30 ms" beside a running process.
    expect(sup.status("web")!.lastError).toMatch(/^exited unexpectedly \(killed by SIGKILL\) at \d{4}-\d\d-\d\dT[\d:.]+Z; restarted$/);
    expect(JSON.parse(readFileSync(join(sup.stateDir, "run/web.json"), "utf8")).pid).toBe(started.pid);
    // A fresh start asked for (pop set, a redeploy) forgets it.
    sup.clear("web");
    expect(sup.status("web")!.lastError).toBeUndefined();
  });

  test("after N quick crashes the service is failed, with backoff doubling before; clear lets it start again", async () => {
    const { sup, next, events } = supervisor({ backoffMs: 10, maxCrashes: 3 });
    await sup.start(spec("bad", "crash.ts"));
    const failed = await next((e) => e.type === "failed");
    expect(events.filter((e) => e.type === "backoff").map((e) => (e as { ms: number }).ms)).toEqual([10, 20]);
    expect(events.filter((e) => e.type === "started")).toHaveLength(3);
    expect((failed as { reason: string }).reason).toContain("crashed 3 times");
    expect(sup.status("bad")).toMatchObject({ state: "failed", pid: undefined, restarts: 2, lastExit: { code: 3 } });
    expect(sup.status("bad")!.lastError).toContain("exit code 3");
    expect(existsSync(join(sup.stateDir, "run/bad.json"))).toBe(false);
    sup.clear("bad");
    expect(sup.status("bad")).toMatchObject({ state: "stopped", lastError: undefined });
    const from = events.length;
    await sup.start(spec("bad", "sleeper.ts"));
    await next((e) => e.type === "ready", from);
    expect(sup.status("bad")?.state).toBe("running");
  });

  test("stopping a service in backoff cancels its restart", async () => {
    const { sup, next, events } = supervisor({ backoffMs: 60_000 });
    const pid = await sup.start(spec("web", "sleeper.ts"));
    process.kill(pid, "SIGKILL");
    await next((e) => e.type === "backoff");
    expect(sup.status("web")?.state).toBe("backoff");
    await sup.stop("web");
    expect(sup.status("web")?.state).toBe("stopped");
    expect(events.filter((e) => e.type === "started")).toHaveLength(1);
  });
});

describe("adoption", () => {
  test("a new supervisor adopts what a detached one left running, removes stale pid files, and watches it", async () => {
    const stateDir = tmp("adopt-");
    const first = supervisor({ stateDir });
    const pid = await first.sup.start(spec("web", "sleeper.ts"));
    await first.next((e) => e.type === "ready");
    first.sup.detach();
    expect(isAlive(pid)).toBe(true);
    // A pid that is gone, and a live pid that is not the recorded process (its start time differs): both stale.
    const stale = { startTime: "1", startedAt: new Date().toISOString(), argv: ["x"], spec: { name: "x", argv: ["x"], stopSignal: "SIGTERM", stopTimeout: 1 } };
    writeFileSync(join(stateDir, "run/gone.json"), JSON.stringify({ ...stale, pid: 2 ** 22 + 1 }));
    writeFileSync(join(stateDir, "run/reused.json"), JSON.stringify({ ...stale, pid: process.pid }));
    writeFileSync(join(stateDir, "run/garbage.json"), "{not json");

    const second = supervisor({ stateDir });
    expect(await second.sup.adopt()).toEqual(["web"]);
    expect(existsSync(join(stateDir, "run/gone.json"))).toBe(false);
    expect(existsSync(join(stateDir, "run/reused.json"))).toBe(false);
    expect(existsSync(join(stateDir, "run/garbage.json"))).toBe(false);
    expect(second.sup.status("web")).toMatchObject({ pid, state: "running", adopted: true });
    expect(second.events[0]).toMatchObject({ type: "started", pid, adopted: true });

    // Its exit is seen (it is not this supervisor's child), and it is restarted from the spec in its pid file.
    const from = second.events.length;
    process.kill(pid, "SIGKILL");
    await second.next((e) => e.type === "exited", from);
    const started = (await second.next((e) => e.type === "started", from)) as Extract<SupervisorEvent, { type: "started" }>;
    expect(started).toMatchObject({ adopted: false });
    // No child of this supervisor: its exit status cannot be known, and the reason says so (not "exit code null").
    expect(second.sup.status("web")!.lastError).toContain("exited unexpectedly (exit status unknown: adopted from an earlier agent, so not its child)");
    await fileMatches(logPath(stateDir, "web"), new RegExp(`hello from ${started.pid}`));
    await second.sup.stop("web");
    expect(isAlive(started.pid)).toBe(false);
  });

  test("kill -9 of the agent process leaves its service running; a new supervisor adopts it and sees its exit", async () => {
    const stateDir = tmp("agent-");
    const agent = Bun.spawn([BUN, join(FIX, "agent.ts"), stateDir], { stdout: "pipe", stderr: "inherit" });
    let pid = 0;
    try {
      const reader = agent.stdout.getReader();
      let text = "";
      const deadline = setTimeout(() => agent.kill("SIGKILL"), 20_000);
      while (!/started \d+/.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the agent ended before starting its service: ${text}`);
        text += new TextDecoder().decode(value);
      }
      clearTimeout(deadline);
      pid = Number(/started (\d+)/.exec(text)![1]);
    } finally {
      agent.kill("SIGKILL");
      await agent.exited;
    }
    expect(isAlive(pid)).toBe(true);
    await fileMatches(logPath(stateDir, "svc"), new RegExp(`hello from ${pid}`));
    const next = supervisor({ stateDir });
    expect(await next.sup.adopt()).toEqual(["svc"]);
    expect(next.sup.status("svc")).toMatchObject({ pid, state: "running", adopted: true });
    const from = next.events.length;
    process.kill(pid, "SIGKILL");
    expect(await next.next((e) => e.type === "exited", from)).toMatchObject({ pid, requested: false });
    const restarted = (await next.next((e) => e.type === "started", from)) as Extract<SupervisorEvent, { type: "started" }>;
    await fileMatches(logPath(stateDir, "svc"), new RegExp(`hello from ${restarted.pid}`));
    await next.sup.stop("svc");
    expect(isAlive(restarted.pid)).toBe(false);
  });

  test("adoption keeps the service's history: its restarts, last exit and last error", async () => {
    const stateDir = tmp("adopt-");
    const first = supervisor({ stateDir, backoffMs: 10 });
    const pid = await first.sup.start(spec("web", "sleeper.ts"));
    await first.next((e) => e.type === "ready");
    const from = first.events.length;
    process.kill(pid, "SIGKILL");
    await first.next((e) => e.type === "started", from);
    await first.next((e) => e.type === "ready", from);
    const before = first.sup.status("web")!;
    expect(before.restarts).toBe(1);
    first.sup.detach();
    const second = supervisor({ stateDir });
    expect(await second.sup.adopt()).toEqual(["web"]);
    expect(second.sup.status("web")).toMatchObject({ restarts: 1, lastExit: before.lastExit, lastError: before.lastError, adopted: true });
    await second.sup.stop("web");
  });

  test("an adopted service is stopped like one's own: signal to its group, pid file removed", async () => {
    const stateDir = tmp("adopt-");
    const first = supervisor({ stateDir });
    const pid = await first.sup.start(spec("stubborn", "stubborn.ts", { stopTimeout: 200 }));
    await fileMatches(logPath(stateDir, "stubborn"), /ready/);
    first.sup.detach();
    const second = supervisor({ stateDir });
    expect(await second.sup.adopt()).toEqual(["stubborn"]);
    await second.sup.stop("stubborn");
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(stateDir, "run/stubborn.json"))).toBe(false);
    await fileMatches(logPath(stateDir, "stubborn"), /got SIGTERM/);
  });
});

describe("logs", () => {
  test("rotation by size keeps K old files; tail reaches into them", () => {
    const stateDir = tmp("logs-");
    const file = logPath(stateDir, "svc");
    closeSync(openLog(stateDir, "svc"));
    const rot = new LogRotator(stateDir, { maxBytes: 50, keep: 2 });
    expect(rot.check()).toEqual([]);
    for (let round = 1; round <= 4; round++) {
      for (let i = 1; i <= 10; i++) appendFileSync(file, `round ${round} line ${i}\n`);
      expect(rot.check()).toEqual(["svc"]);
      expect(readFileSync(file, "utf8")).toBe("");
    }
    expect(readFileSync(`${file}.1`, "utf8")).toContain("round 4 line 10");
    expect(readFileSync(`${file}.2`, "utf8")).toContain("round 3 line 1\n");
    expect(existsSync(`${file}.3`)).toBe(false);
    appendFileSync(file, "now 1\nnow 2\n");
    expect(tail(stateDir, "svc", 3)).toEqual(["round 4 line 10", "now 1", "now 2"]);
    expect(tail(stateDir, "svc", 13)).toEqual([
      ...Array.from({ length: 1 }, () => "round 3 line 10"),
      ...Array.from({ length: 10 }, (_, i) => `round 4 line ${i + 1}`),
      "now 1",
      "now 2",
    ]);
    expect(tail(stateDir, "svc", 100)).toHaveLength(22);
    expect(tail(stateDir, "nothing", 5)).toEqual([]);
  });

  test("tail of a large file reads the end only and handles a last line without a newline", () => {
    const stateDir = tmp("logs-");
    const file = logPath(stateDir, "big");
    closeSync(openLog(stateDir, "big"));
    appendFileSync(file, Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"x".repeat(20)}`).join("\n"));
    expect(tail(stateDir, "big", 2)).toEqual([`line 19998 ${"x".repeat(20)}`, `line 19999 ${"x".repeat(20)}`]);
  });

  test("follow sees new lines, keeps following across a copy-truncate rotation", async () => {
    const stateDir = tmp("logs-");
    const file = logPath(stateDir, "svc");
    const rot = new LogRotator(stateDir, { maxBytes: 10, keep: 1 });
    closeSync(openLog(stateDir, "svc"));
    appendFileSync(file, "old line\n");
    const lines: string[] = [];
    const stop = follow(stateDir, "svc", (l) => lines.push(l), { pollMs: 20 });
    try {
      appendFileSync(file, "one\ntw");
      appendFileSync(file, "o\n");
      expect(await waitReady(() => lines.length >= 2 || "waiting", { timeoutMs: 10_000, intervalMs: 10 })).toBe(true);
      rot.check();
      appendFileSync(file, "three\n");
      expect(await waitReady(() => lines.length >= 3 || "waiting", { timeoutMs: 10_000, intervalMs: 10 })).toBe(true);
      expect(lines).toEqual(["one", "two", "three"]);
    } finally {
      stop();
    }
  });

  test("a supervised service's output goes through rotation without the service noticing", async () => {
    const { sup } = supervisor();
    const s = spec("chatty", "", { argv: ["sh", "-c", "echo first; while :; do echo tick; sleep 0.05; done"] });
    await sup.start(s);
    const file = logPath(sup.stateDir, "chatty");
    await fileMatches(file, /first/);
    new LogRotator(sup.stateDir, { maxBytes: 1, keep: 1 }).check();
    expect(readFileSync(`${file}.1`, "utf8")).toContain("first");
    await fileMatches(file, /tick/);
    expect(readFileSync(file, "utf8")).not.toContain("first");
    expect(readFileSync(file, "utf8")).not.toContain("\0");
    await sup.stop("chatty");
  });
});

describe("readiness", () => {
  test("http: an answer below 500 is ready, 500 and a closed port are not, waitReady is bounded", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => new Response("x", { status: req.url.endsWith("/bad") ? 503 : 404 }) });
    try {
      expect(await httpReady(`http://127.0.0.1:${server.port}/`)).toBe(true);
      expect(await httpReady(`http://127.0.0.1:${server.port}/bad`)).toContain("HTTP 503");
      const r = await waitReady(() => httpReady(`http://127.0.0.1:${server.port}/bad`), { timeoutMs: 100, intervalMs: 20 });
      expect(r).toContain("not ready after 100 ms");
    } finally {
      server.stop(true);
    }
    expect(await tcpReady(freePort())).toContain("does not accept connections");
  });
});

/** A port nothing listens on right now (bound and released). */
function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}
