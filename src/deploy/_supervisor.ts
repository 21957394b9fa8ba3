// The deploy agent's local process supervision: it starts services in their own process groups with their output
// appended straight to their log files (so `kill -9` of the agent leaves them running and logging), restarts crashed
// ones with exponential backoff, marks a service that keeps crashing "failed", stops a service's whole process group
// (its stop signal, then SIGKILL after its stop timeout), and adopts what a previous agent started (pid file plus the
// process's start time from /proc, so a reused pid is never mistaken for the service). It knows nothing of ZooKeeper:
// the agent listens to its events and writes the nodes. Idle, it uses no CPU: exits of its own children arrive as
// events; adopted processes (not its children) are checked by one low-rate timer.
import { closeSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { messageOf } from "../errors.ts";
import { openLog } from "./_logs.ts";
import { waitReady, type ReadyCheck } from "./_readiness.ts";
import type { ProcessSpec, ProcessStatus, RunState } from "./_types.ts";

/** What the supervisor reports, for the agent to write ZooKeeper nodes from. */
export type SupervisorEvent =
  | { type: "started"; name: string; pid: number; adopted: boolean }
  | { type: "exited"; name: string; pid: number; code: number | null; signal: string | null; requested: boolean }
  | { type: "backoff"; name: string; ms: number }
  | { type: "failed"; name: string; reason: string }
  | { type: "ready"; name: string; pid: number }
  | { type: "unready"; name: string; pid: number; reason: string }
  | { type: "stopped"; name: string };

/** Options of a Supervisor. */
export interface SupervisorOptions {
  /** Where pid files (`run/<name>.json`) and logs (`logs/<name>.log`) live. */
  stateDir: string;
  /** The first restart delay after a crash (default 250 ms); it doubles with each quick crash. */
  backoffMs?: number;
  /** The largest restart delay (default 30000 ms). */
  backoffMaxMs?: number;
  /** A process that ran this long before exiting was stable: its backoff and quick-crash count start over (default 10000 ms). */
  stableMs?: number;
  /** After this many quick crashes in a row the service is "failed", not restarted (default 5). */
  maxCrashes?: number;
  /** How often adopted processes (not our children) are checked for exit (default 1000 ms). */
  pollMs?: number;
  /** Called for every event (also `on`). */
  onEvent?: (e: SupervisorEvent) => void;
}

/** What a pid file holds: enough for a restarted agent to adopt the process and restart it if it later crashes. */
interface PidFile {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot): with the pid, names one process. */
  startTime: string;
  startedAt: string;
  argv: string[];
  spec: Omit<ProcessSpec, "ready">;
  /** The service's history so far, carried to an agent that adopts it: restarts, the last exit and why. */
  restarts?: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  lastError?: string;
}

interface Entry {
  spec: ProcessSpec;
  state: RunState;
  pid: number | undefined;
  proc: ReturnType<typeof Bun.spawn> | undefined;
  adopted: boolean;
  startedAtMs: number;
  startedAt: string | undefined;
  restarts: number;
  crashes: number;
  nextBackoff: number;
  lastExit: ProcessStatus["lastExit"];
  lastError: string | undefined;
  ready: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  readyAbort: AbortController | undefined;
  /** Resolves when the current process is gone. */
  gone: Promise<void> | undefined;
  markGone: (() => void) | undefined;
  stopping: boolean;
  /** The pid whose exit was handled (an adopted one may be seen by the poll and by stop). */
  exitHandled: number | undefined;
}

/**
 * This machine's service processes.
 * @example
 * const sup = new Supervisor({ stateDir, onEvent: (e) => agent.onProcessEvent(e) });
 * await sup.adopt();
 * await sup.start({ name: "web", argv: ["sleep", "60"], stopSignal: "SIGTERM", stopTimeout: 10_000 });
 * await sup.stop("web");
 */
export class Supervisor {
  readonly stateDir: string;
  readonly #opt: Required<Omit<SupervisorOptions, "onEvent" | "stateDir">>;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(e: SupervisorEvent) => void>();
  #poll: ReturnType<typeof setInterval> | undefined;
  #detached = false;

  constructor(opts: SupervisorOptions) {
    this.stateDir = opts.stateDir;
    this.#opt = {
      backoffMs: opts.backoffMs ?? 250,
      backoffMaxMs: opts.backoffMaxMs ?? 30_000,
      stableMs: opts.stableMs ?? 10_000,
      maxCrashes: opts.maxCrashes ?? 5,
      pollMs: opts.pollMs ?? 1000,
    };
    if (opts.onEvent) this.#listeners.add(opts.onEvent);
    mkdirSync(join(this.stateDir, "run"), { recursive: true });
  }

  /** Listen to events; returns a disposer. */
  on(cb: (e: SupervisorEvent) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Start a service (a no-op when it is already starting or running; a failed or backing-off one starts afresh, its crash count reset). Resolves once spawned, with its pid. */
  async start(spec: ProcessSpec): Promise<number> {
    this.#live();
    const cur = this.#entries.get(spec.name);
    if (cur && (cur.state === "running" || cur.state === "starting") && cur.pid !== undefined) return cur.pid;
    if (cur?.state === "stopping") await cur.gone;
    if (cur?.timer) clearTimeout(cur.timer);
    const e: Entry = cur ?? newEntry(spec);
    e.spec = spec;
    e.timer = undefined;
    this.#reset(e);
    this.#entries.set(spec.name, e);
    this.#spawn(e);
    return e.pid!;
  }

  /** Stop a service: its stop signal to the whole process group, SIGKILL after its stop timeout; resolves when it is gone. */
  async stop(name: string): Promise<void> {
    const e = this.#entries.get(name);
    if (!e) {
      this.#removePidFile(name);
      return;
    }
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    e.readyAbort?.abort();
    if (e.pid !== undefined && e.gone) {
      e.stopping = true;
      e.state = "stopping";
      const pid = e.pid;
      const gone = e.gone;
      signalGroup(pid, e.spec.stopSignal);
      const deadline = Date.now() + e.spec.stopTimeout;
      if (!(await leaderGone(e, pid, gone, deadline))) {
        signalGroup(pid, "SIGKILL");
        await leaderGone(e, pid, gone, Number.POSITIVE_INFINITY);
      }
      if (e.adopted) this.#exitedAdopted(e, pid);
      // The leader is gone; what else it started in its group gets the rest of the timeout, then SIGKILL.
      while (groupAlive(pid) && Date.now() < deadline) await delay(50);
      if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
    }
    e.state = "stopped";
    e.pid = undefined;
    e.stopping = false;
    e.ready = false;
    this.#removePidFile(name);
    this.#pollUpdate();
    this.#emit({ type: "stopped", name });
  }

  /** Stop every service (in parallel). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((n) => this.stop(n)));
  }

  /** Forget a failed (or backing-off) service's crash history so the next `start` (or this call's restart) begins afresh: `pop set`, a redeploy. */
  clear(name: string): void {
    const e = this.#entries.get(name);
    if (!e) return;
    this.#reset(e);
    e.lastError = undefined; // a fresh start asked for: an old crash's reason would sit beside "ready"
    if (e.state === "failed") e.state = "stopped";
  }

  /** Drop the supervision and leave every service running (the agent stopping with --keep-services): pid files stay for the next agent to adopt. */
  detach(): void {
    this.#detached = true;
    for (const e of this.#entries.values()) {
      if (e.timer) clearTimeout(e.timer);
      e.readyAbort?.abort();
      e.proc?.unref();
    }
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = undefined;
    this.#entries.clear();
  }

  /**
   * Adopt what a previous agent started: each pid file whose pid is alive and is still that process (same /proc start
   * time) becomes a running service, watched for exit; stale pid files are removed. `ready(name)` may give a readiness
   * check to run for an adopted service (else it is ready at once). Returns the adopted names.
   */
  async adopt(opts: { ready?: (name: string) => { check: ReadyCheck; timeoutMs?: number } | undefined } = {}): Promise<string[]> {
    this.#live();
    const dir = join(this.stateDir, "run");
    const adopted: string[] = [];
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    } catch {
      return adopted;
    }
    for (const f of files) {
      const name = f.slice(0, -5);
      if (this.#entries.has(name)) continue;
      const rec = readPidFile(join(dir, f));
      if (!rec || !isAlive(rec.pid) || procStartTime(rec.pid) !== rec.startTime) {
        rmSync(join(dir, f), { force: true });
        continue;
      }
      const given = opts.ready?.(name);
      const spec: ProcessSpec = {
        ...rec.spec,
        name,
        ...(given ? { ready: given.check, ...(given.timeoutMs === undefined ? {} : { readyTimeout: given.timeoutMs }) } : {}),
      };
      const e = newEntry(spec);
      e.pid = rec.pid;
      e.adopted = true;
      e.startedAt = rec.startedAt;
      e.startedAtMs = Date.parse(rec.startedAt) || Date.now();
      e.state = "starting";
      e.restarts = rec.restarts ?? 0;
      if (rec.lastExit) e.lastExit = rec.lastExit;
      if (rec.lastError) e.lastError = rec.lastError;
      const { promise, resolve } = Promise.withResolvers<void>();
      e.gone = promise;
      e.markGone = resolve;
      this.#entries.set(name, e);
      adopted.push(name);
      this.#emit({ type: "started", name, pid: rec.pid, adopted: true });
      this.#awaitReady(e, rec.pid);
    }
    this.#pollUpdate();
    return adopted;
  }

  /** One service's status (undefined when the supervisor knows nothing of it). */
  status(name: string): ProcessStatus | undefined {
    const e = this.#entries.get(name);
    if (!e) return undefined;
    return {
      name,
      pid: e.pid,
      state: e.state,
      restarts: e.restarts,
      lastExit: e.lastExit,
      lastError: e.lastError,
      ready: e.ready,
      startedAt: e.startedAt,
      adopted: e.adopted,
    };
  }

  /** Every service's status, by name. */
  list(): ProcessStatus[] {
    return [...this.#entries.keys()].sort().map((n) => this.status(n)!);
  }

  #live(): void {
    if (this.#detached) throw new Error("this supervisor was detached: create a new one");
  }

  #reset(e: Entry): void {
    e.crashes = 0;
    e.nextBackoff = this.#opt.backoffMs;
  }

  #emit(ev: SupervisorEvent): void {
    for (const cb of this.#listeners) {
      try {
        cb(ev);
      } catch {
        // a listener's fault is its own
      }
    }
  }

  #spawn(e: Entry): void {
    const { spec } = e;
    e.state = "starting";
    e.ready = false;
    e.stopping = false;
    let proc: ReturnType<typeof Bun.spawn>;
    const fd = openLog(this.stateDir, spec.name);
    try {
      proc = Bun.spawn(spec.argv, {
        cwd: spec.cwd ?? this.stateDir,
        env: { ...(process.env as Record<string, string>), ...spec.env },
        stdin: "ignore",
        stdout: fd,
        stderr: fd,
        detached: true,
      });
    } catch (err) {
      closeSync(fd);
      e.pid = undefined;
      e.state = "failed";
      e.lastError = `could not start ${JSON.stringify(spec.argv[0] ?? "")}: ${messageOf(err)}`;
      this.#removePidFile(spec.name);
      this.#emit({ type: "failed", name: spec.name, reason: e.lastError });
      return;
    }
    closeSync(fd);
    const pid = proc.pid;
    e.proc = proc;
    e.pid = pid;
    e.adopted = false;
    e.startedAtMs = Date.now();
    e.startedAt = new Date(e.startedAtMs).toISOString();
    const { promise, resolve } = Promise.withResolvers<void>();
    e.gone = promise;
    e.markGone = resolve;
    this.#writePidFile(e, pid);
    this.#emit({ type: "started", name: spec.name, pid, adopted: false });
    void proc.exited.then(() => this.#exited(e, pid, proc.exitCode, typeof proc.signalCode === "string" ? proc.signalCode : null));
    this.#awaitReady(e, pid);
  }

  #awaitReady(e: Entry, pid: number): void {
    const check = e.spec.ready;
    const done = (r: true | string) => {
      if (this.#detached || e.pid !== pid || e.state !== "starting") return;
      if (r === true) {
        e.state = "running";
        e.ready = true;
        this.#emit({ type: "ready", name: e.spec.name, pid });
      } else {
        e.state = "running";
        e.lastError = r;
        this.#emit({ type: "unready", name: e.spec.name, pid, reason: r });
      }
    };
    if (!check) return done(true);
    const ac = new AbortController();
    e.readyAbort = ac;
    void waitReady(() => check(pid), { timeoutMs: e.spec.readyTimeout ?? 30_000, signal: ac.signal }).then((r) => {
      if (!ac.signal.aborted) done(r);
    });
  }

  #exited(e: Entry, pid: number, code: number | null, signal: string | null): void {
    if ((e.pid !== pid && e.pid !== undefined) || e.exitHandled === pid) return;
    e.exitHandled = pid;
    e.markGone?.();
    if (this.#detached) return;
    e.readyAbort?.abort();
    const requested = e.stopping;
    e.lastExit = { code, signal, at: new Date().toISOString() };
    e.proc = undefined;
    this.#emit({ type: "exited", name: e.spec.name, pid, code, signal, requested });
    if (requested) return;
    e.pid = undefined;
    e.ready = false;
    const ranMs = Date.now() - e.startedAtMs;
    if (ranMs >= this.#opt.stableMs) this.#reset(e);
    e.crashes++;
    // An adopted process is no child of this agent: it is seen gone, its exit status cannot be known.
    const how = signal ? `killed by ${signal}` : code === null ? "exit status unknown: adopted from an earlier agent, so not its child" : `exit code ${code}`;
    if (e.crashes >= this.#opt.maxCrashes) {
      e.state = "failed";
      e.lastError = `crashed ${e.crashes} times in a row, each within ${this.#opt.stableMs} ms of starting (last: ${how}); not restarted until cleared (pop set, or a redeploy)`;
      this.#removePidFile(e.spec.name);
      this.#emit({ type: "failed", name: e.spec.name, reason: e.lastError });
      return;
    }
    const ms = e.nextBackoff;
    e.nextBackoff = Math.min(e.nextBackoff * 2, this.#opt.backoffMaxMs);
    e.state = "backoff";
    e.lastError = `exited unexpectedly (${how}); restarting in ${ms} ms`;
    this.#emit({ type: "backoff", name: e.spec.name, ms });
    e.timer = setTimeout(() => {
      e.timer = undefined;
      if (this.#detached || e.state !== "backoff") return;
      e.lastError = `exited unexpectedly (${how}) at ${e.lastExit?.at}; restarted`; // no "restarting in" beside a running process
      e.restarts++;
      this.#spawn(e);
    }, ms);
  }

  /** One timer, only while adopted processes are watched: they are not our children, so their exit is seen in /proc. */
  #pollUpdate(): void {
    const any = [...this.#entries.values()].some((e) => e.adopted && e.pid !== undefined);
    if (any && !this.#poll) {
      this.#poll = setInterval(() => {
        for (const e of this.#entries.values()) if (e.adopted && e.pid !== undefined && !isAlive(e.pid)) this.#exitedAdopted(e, e.pid);
      }, this.#opt.pollMs);
      this.#poll.unref?.();
    } else if (!any && this.#poll) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
  }

  #exitedAdopted(e: Entry, pid: number): void {
    const stopping = e.stopping;
    this.#exited(e, pid, null, null);
    if (!stopping) e.adopted = false;
    this.#pollUpdate();
  }

  #writePidFile(e: Entry, pid: number): void {
    const { ready: _ready, ...spec } = e.spec;
    const rec: PidFile = { pid, startTime: procStartTime(pid) ?? "", startedAt: e.startedAt!, argv: e.spec.argv, spec, restarts: e.restarts };
    if (e.lastExit) rec.lastExit = e.lastExit;
    if (e.lastError) rec.lastError = e.lastError;
    const file = join(this.stateDir, "run", `${e.spec.name}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(rec, null, 2) + "\n", { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  #removePidFile(name: string): void {
    rmSync(join(this.stateDir, "run", `${name}.json`), { force: true });
  }
}

function newEntry(spec: ProcessSpec): Entry {
  return {
    spec,
    state: "stopped",
    pid: undefined,
    proc: undefined,
    adopted: false,
    startedAtMs: 0,
    startedAt: undefined,
    restarts: 0,
    crashes: 0,
    nextBackoff: 0,
    lastExit: undefined,
    lastError: undefined,
    ready: false,
    timer: undefined,
    readyAbort: undefined,
    gone: undefined,
    markGone: undefined,
    stopping: false,
    exitHandled: undefined,
  };
}

function readPidFile(file: string): PidFile | undefined {
  try {
    const rec = JSON.parse(readFileSync(file, "utf8")) as PidFile;
    if (!Number.isInteger(rec.pid) || rec.pid <= 0 || typeof rec.startTime !== "string" || !rec.spec || !Array.isArray(rec.spec.argv)) return undefined;
    return rec;
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/stat, split after the command name (which may hold spaces and parentheses): index 0 is field 3 (state). */
function procStat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
export function procStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Is `pid` a live process (not gone, not a zombie)? */
export function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st[0] !== "Z" && st[0] !== "X";
}

/** Wait for a stopped service's leader to be gone, until `deadline`: our child's exit event, or (adopted: not our child) /proc, checked briefly while stopping. */
async function leaderGone(e: Entry, pid: number, gone: Promise<void>, deadline: number): Promise<boolean> {
  if (!e.adopted) {
    if (deadline === Number.POSITIVE_INFINITY) return gone.then(() => true);
    return await Promise.race([gone.then(() => true), delay(Math.max(0, deadline - Date.now())).then(() => false)]);
  }
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(25);
  }
  return true;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // the group is gone already
  }
}

/** Is any process of group `pgid` left (other than zombies nobody has reaped yet, which signals reach too)? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // kill(-pgid, 0) also succeeds for zombies: look for a live member.
  try {
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      const st = procStat(Number(d));
      if (st && st[2] === String(pgid) && st[0] !== "Z") return true;
    }
  } catch {
    return true;
  }
  return false;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
