// The agent: this machine's half of the target state. It watches the layout (never polls), converges each service
// (start what is targeted here and not running, stop what is no longer targeted, restart on a settings change,
// rolling at most maxParallel machines at a time), and reports back: the PID node when a process starts, the
// state node when it is ready (and when it backs off or fails). While ZooKeeper is unreachable nothing changes; a
// new session re-creates the agent's ephemeral nodes and re-converges without restarting healthy services.
import { hostname } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { messageOf, PopError } from "../errors.ts";
import { type Hub, onHubClose } from "../hub/index.ts";
import { log } from "../output.ts";
import { checkLayout, serviceType } from "./_context.ts";
import { layoutVersion, parseMachines, parseSettings, type Paths, paths } from "./_layout.ts";
import type { DeployOptions } from "./_options.ts";
import type { ReadyCheck } from "./_readiness.ts";
import { processSpec, validateSettings } from "./_servicetypes.ts";
import { isAlive, Supervisor, type SupervisorEvent } from "./_supervisor.ts";
import type { ProcessStatus, ServiceContext, ServiceTypeModule, Zk, ZkOp } from "./_types.ts";
import { connectZk, isZkConnectionError, ZkNodeError } from "./_zk.ts";

/** Exports of a service type that are not tasks. */
const RESERVED_EXPORTS = new Set(["settings", "secret", "command", "ready", "stopSignal", "stopTimeout", "readyTimeout"]);

/** What the agent started a service with, kept beside the supervisor's pid file: a restarted agent adopting the process knows whether its settings changed meanwhile. */
function keptFile(stateDir: string, name: string): string {
  return join(stateDir, "run", `${name}.settings`);
}

function writeKept(stateDir: string, name: string, kept: { settingsText: string; type: string }): void {
  mkdirSync(join(stateDir, "run"), { recursive: true });
  writeFileSync(keptFile(stateDir, name), JSON.stringify(kept));
}

function readKept(stateDir: string, name: string): { settingsText: string; type: string } | undefined {
  try {
    return JSON.parse(readFileSync(keptFile(stateDir, name), "utf8"));
  } catch {
    return undefined;
  }
}

/** How often the agent re-reads everything as a safety net (watches do the work). */
const RESYNC_MS = 60_000;
/** A burst of services added or removed lists the services node at most once per this many ms. */
const LIST_EVERY_MS = 50;
/** The session timeout the agent asks for (the server may negotiate it down). */
const SESSION_MS = 10_000;

const zkCode = (e: unknown) => (e as { zkCode?: string } | null)?.zkCode;

interface Running {
  /** The settings text it was started with: a different one restarts it. */
  settingsText: string;
  type: string;
  ready: boolean;
}

export class Agent {
  readonly p: Paths;
  zk!: Zk;
  readonly sup: Supervisor;
  private running = new Map<string, Running>();
  private pending = new Map<string, Promise<void>>();
  private dirty = new Set<string>();
  /** Services seen under services/ (this session). */
  private watched = new Set<string>();
  /** Services targeted at this machine: their settings and type are watched too. */
  private targeted = new Set<string>();
  /** Node paths with a live watch of ours (this session): a watch is armed once and re-armed by its own firing only. */
  private armed = new Set<string>();
  /** What arming a watch read (each arming is a read): the convergence that follows uses it instead of reading again. */
  private fresh = new Map<string, { data: string; version: number } | undefined>();
  /** Ephemeral nodes this session wrote (PID and state): written again with a plain set, not a create that fails first. */
  private written = new Set<string>();
  /** Services whose last convergence failed on ZooKeeper trouble: converged again when the connection is back. */
  private retry = new Set<string>();
  /** What this machine last said about each service (state node), and which reports did not reach ZooKeeper. */
  private lastState = new Map<string, { state: string; lastError?: string }>();
  private unreported = new Set<string>();
  private reportTimer: ReturnType<typeof setTimeout> | undefined;
  /** Supervisor events, handled one at a time in order, so a later state never lands before an earlier one. */
  private events: Promise<void> = Promise.resolve();
  private resync: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private readonly stopping = Promise.withResolvers<void>();
  private keepServices = false;
  private taskWatch = new Set<string>();
  private tasksSeen = new Set<string>();
  /** The session's generation: bumped by each new session; work of an older one stops. */
  private gen = 0;
  private lostGen = -1;
  private readonly startedAt = Date.now();
  /** When the services node was last listed (performance.now()): a burst of changes lists it once per LIST_EVERY_MS. */
  private listedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly opts: DeployOptions,
    readonly hub: Hub,
  ) {
    this.p = paths(opts.root);
    mkdirSync(opts.stateDir, { recursive: true });
    this.sup = new Supervisor({ stateDir: opts.stateDir, onEvent: (e) => this.onProcessEvent(e) });
  }

  /** Connect, register, adopt what is still running from a previous agent, converge, and keep converging. */
  async start(): Promise<void> {
    await this.connect();
    const adopted = await this.sup.adopt({ ready: (name) => this.keptReady(name) });
    if (adopted.length) log.info(`adopted ${adopted.join(", ")} (still running from a previous agent)`, { adopted });
    for (const name of adopted) {
      const kept = readKept(this.opts.stateDir, name);
      this.running.set(name, { settingsText: kept?.settingsText ?? "", type: kept?.type ?? "", ready: this.sup.status(name)?.ready ?? false });
    }
    await this.events;
    await this.watchServices(true);
    for (const name of adopted) if (this.running.has(name)) await this.watchTasks(name);
    this.resync = setInterval(() => void this.resyncAll(), RESYNC_MS);
    onHubClose(this.hub, () => this.stop());
  }

  /** An adopted service's readiness check, from the settings it was started with. */
  private keptReady(name: string): { check: ReadyCheck; timeoutMs?: number } | undefined {
    const kept = readKept(this.opts.stateDir, name);
    if (!kept) return undefined;
    try {
      const mod = serviceType(this.hub, kept.type, "pop agent");
      const settings = validateSettings(kept.type, mod, parseSettings(this.p.settings(name), kept.settingsText).settings);
      const spec = processSpec(this.hub, mod, this.context(name, kept.type, settings));
      // The supervisor calls the check with the pid.
      return spec.ready
        ? { check: spec.ready as unknown as ReadyCheck, ...(spec.readyTimeout === undefined ? {} : { timeoutMs: spec.readyTimeout }) }
        : undefined;
    } catch {
      return undefined;
    }
  }

  private async connect(): Promise<void> {
    const zk = await connectZk({
      hosts: this.opts.zk,
      timeoutMs: this.opts.zkTimeout,
      sessionTimeoutMs: SESSION_MS,
      ...(this.opts.zkAuth ? { auth: this.opts.zkAuth } : {}),
    });
    const gen = ++this.gen;
    this.zk = zk;
    this.watched.clear();
    this.armed.clear();
    this.fresh.clear();
    this.written.clear();
    this.taskWatch.clear();
    zk.onSessionLost(() => {
      this.lostGen = gen;
      void this.renewSession(gen);
    });
    zk.onState((s) => {
      if (s === "connected" && gen === this.gen) this.reconnected();
    });
    try {
      // No layout (a wrong --root, pop init not run): said as every command says it, not as a failed create.
      if (gen === 1) checkLayout(await layoutVersion(zk, this.p), this.p, this.opts, "pop fg");
      await this.register(zk);
      await zk.mkdirp(this.p.machine(this.opts.machineId));
    } catch (e) {
      await zk.close().catch(() => {});
      throw e;
    }
  }

  /**
   * agents/<id>, ephemeral. A node left by this agent's own lost session, or by an agent of this host that is gone
   * (kill -9), vanishes within the session timeout: wait for that; a live agent elsewhere with this id is an error.
   */
  private async register(zk: Zk): Promise<void> {
    const path = this.p.agent(this.opts.machineId);
    const me = JSON.stringify({ host: hostname(), pid: process.pid, version: pkg.version, startedAt: new Date(this.startedAt).toISOString() });
    const deadline = Date.now() + SESSION_MS + this.opts.zkTimeout;
    for (;;) {
      try {
        await zk.create(path, me, "ephemeral");
        return;
      } catch (e) {
        if (zkCode(e) !== "NODE_EXISTS") throw e;
      }
      const gone = Promise.withResolvers<void>();
      const other = await zk.get(path, () => gone.resolve());
      if (!other) continue;
      let info: { host?: unknown; pid?: unknown } = {};
      try {
        info = JSON.parse(other.data) ?? {};
      } catch {
        // not ours to judge: refused below
      }
      const stale = info.host === hostname() && typeof info.pid === "number" && (info.pid === process.pid || !isAlive(info.pid));
      if (!stale || Date.now() >= deadline)
        throw new PopError(
          `an agent for machine "${this.opts.machineId}" is already registered at ${path} (${other.data}): stop it, or give this one another --machine-id`,
        );
      log.info(`waiting for ${path} of a previous session (agent pid ${String(info.pid)}) to expire`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([gone.promise, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
  }

  /** The session is gone: open a new one, put the ephemeral nodes back, re-converge (healthy services keep running). */
  private async renewSession(gen: number): Promise<void> {
    if (this.stopped || gen !== this.gen) return;
    log.warn("ZooKeeper session lost: opening a new one; services keep running");
    await this.zk.close().catch(() => {});
    for (let delay = 250; !this.stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.connect();
        break;
      } catch (e) {
        log.warn(`cannot renew the ZooKeeper session yet: ${messageOf(e)}`);
        await Promise.race([Bun.sleep(delay), this.stopping.promise]);
      }
    }
    if (this.stopped) return;
    try {
      for (const name of new Set([...this.running.keys(), ...this.lastState.keys()])) this.unreported.add(name);
      await this.republish();
      await this.watchServices(true);
      for (const name of this.running.keys()) await this.watchTasks(name);
      log.info("ZooKeeper session renewed");
    } catch (e) {
      this.trouble(e);
    }
  }

  private registering = false;

  /**
   * The layout was reset (pop init --force) or removed while this agent ran: its registration and machine node are
   * gone. Once a layout is there again, register and report every service again; until then, say so once a resync.
   */
  private async registerAgain(): Promise<void> {
    if (this.registering || this.stopped) return;
    this.registering = true;
    try {
      if ((await layoutVersion(this.zk, this.p)) === undefined) {
        log.warn(`no pop layout at ${this.p.root} any more (removed, or pop init --force under way): waiting for "pop init"; services keep running`);
        return;
      }
      if (!(await this.zk.exists(this.p.agent(this.opts.machineId)))) await this.register(this.zk);
      await this.zk.mkdirp(this.p.machine(this.opts.machineId));
      for (const name of new Set([...this.running.keys(), ...this.lastState.keys()])) this.unreported.add(name);
      await this.republish();
      log.info(`registered again at ${this.p.agent(this.opts.machineId)}: the layout at ${this.p.root} was reset`);
    } catch (e) {
      if (!this.stopped) log.warn(`cannot register again yet: ${messageOf(e)} (will retry)`);
    } finally {
      this.registering = false;
    }
  }

  /** The connection is back (same session): write what did not reach ZooKeeper, converge what failed meanwhile. */
  private reconnected(): void {
    void this.republish().catch((e) => this.trouble(e));
    for (const name of [...this.retry]) this.schedule(name);
  }

  /** Re-write the PID and state nodes of the services whose last report did not reach ZooKeeper. */
  private republish(): Promise<void> {
    return this.serial(async () => {
      for (const name of [...this.unreported]) {
        this.unreported.delete(name);
        await this.reportPid(name);
        const last = this.lastState.get(name);
        if (last) await this.reportState(name, last);
      }
    });
  }

  /** Run `fn` in the event queue: after every event handled so far. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.events.then(fn);
    this.events = run.catch(() => {});
    return run;
  }

  /**
   * Arm a watch (one ZooKeeper request), retrying on trouble while this session lives: a watch lost to a failed
   * re-arm would leave a node unwatched. A new session re-arms everything itself.
   */
  private async arm(gen: number, fn: () => Promise<unknown>): Promise<void> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      if (this.stopped || gen !== this.gen || this.lostGen === gen) return;
      try {
        await fn();
        return;
      } catch (e) {
        if (this.stopped || gen !== this.gen || this.lostGen === gen) return;
        this.trouble(e);
        await Promise.race([Bun.sleep(delay), this.stopping.promise]);
      }
    }
  }

  /** The list of services: with `watch`, armed (once per session, re-armed by its own firing); each service's nodes are watched once seen. */
  private async watchServices(watch: boolean): Promise<void> {
    const gen = this.gen;
    const path = this.p.services;
    let cb: (() => void) | undefined;
    if (watch) {
      if (this.armed.has(path)) watch = false;
      else {
        this.armed.add(path);
        cb = () => {
          this.armed.delete(path);
          // Services added in a burst (a script adding hundreds) are listed once per 50 ms, not once each: every
          // agent lists the whole services node on each change, so this keeps the burst from costing S x A listings.
          // A change after a quiet spell is listed at once (`pop add` then `pop deploy` waits for no timer).
          if (this.stopped || gen !== this.gen) return;
          const wait = Math.max(0, this.listedAt + LIST_EVERY_MS - performance.now());
          if (wait === 0) void this.arm(gen, () => this.watchServices(true));
          else setTimeout(() => void this.arm(gen, () => this.watchServices(true)), wait);
        };
      }
    }
    let names: string[];
    try {
      this.listedAt = performance.now();
      names = (await this.zk.children(path, cb)) ?? [];
    } catch (e) {
      if (cb) this.armed.delete(path);
      throw e;
    }
    for (const name of names) if (!this.watched.has(name)) await this.watchService(name);
    for (const name of [...this.watched]) if (!names.includes(name)) this.watched.delete(name);
    for (const name of this.running.keys()) if (!names.includes(name)) this.schedule(name); // removed: stop it
  }

  private async watchService(name: string): Promise<void> {
    this.watched.add(name);
    // Every agent watches every service's target list (to see itself targeted); only the machines a service is
    // targeted at watch its settings and type (armed in converge), so a settings change costs the requests of those
    // machines alone, however many agents and services there are. A change re-converges this service only.
    const gen = this.gen;
    await this.arm(gen, () => this.watchNode(this.p.targets(name), name));
    this.schedule(name);
  }

  /** Arm a watch on a node of service `name` (a read); its firing re-arms it (another read) and then converges the service, which uses that read. */
  private async watchNode(path: string, name: string): Promise<void> {
    if (this.armed.has(path)) return;
    const gen = this.gen;
    this.armed.add(path);
    try {
      const node = await this.zk.get(path, () => {
        this.armed.delete(path);
        if (this.stopped || gen !== this.gen || !this.watched.has(name)) return;
        if (path !== this.p.targets(name) && !this.targeted.has(name)) return; // no longer ours: let this watch lapse
        // A convergence in flight learns at once that a newer change exists (a rollout waiting for its slot must not
        // restart with the old settings); the next one runs once the watch is re-armed, on the read that re-armed it
        // (one request, not two).
        if (this.pending.has(name)) this.dirty.add(name);
        void this.arm(gen, () => this.watchNode(path, name)).then(() => this.schedule(name));
      });
      if (gen === this.gen) this.fresh.set(path, node);
    } catch (e) {
      this.armed.delete(path);
      throw e;
    }
  }

  /** A node of a service: what the last arming of its watch read (once), else a read. Either is at least as new as the change that fired the watch. */
  private read(path: string): Promise<{ data: string; version: number } | undefined> {
    if (this.fresh.has(path)) {
      const node = this.fresh.get(path);
      this.fresh.delete(path);
      return Promise.resolve(node);
    }
    return this.zk.get(path);
  }

  private resyncAll(): void {
    this.fresh.clear(); // the safety net reads everything itself
    void this.watchServices(true).catch((e) => this.trouble(e));
    for (const name of this.watched) this.schedule(name);
  }

  private trouble(e: unknown): void {
    // This machine's node gone under a live agent: the layout was reset (pop init --force) or removed. Register again.
    if (e instanceof ZkNodeError && e.zkCode === "NO_NODE" && e.path?.startsWith(`${this.p.machine(this.opts.machineId)}/`)) {
      void this.registerAgain();
      return;
    }
    if (!this.stopped) log.warn(`ZooKeeper: ${messageOf(e)} (nothing changed; will retry)`);
  }

  /** Converge one service; one convergence at a time per service, a change while it runs converges again after. */
  private schedule(name: string): void {
    if (this.stopped) return;
    if (this.pending.has(name)) {
      this.dirty.add(name);
      return;
    }
    this.retry.delete(name);
    const run = this.converge(name)
      .catch((e) => {
        if (isZkConnectionError(e)) this.retry.add(name);
        this.trouble(e);
      })
      .finally(() => {
        this.pending.delete(name);
        if (this.dirty.delete(name)) this.schedule(name);
      });
    this.pending.set(name, run);
  }

  private async converge(name: string): Promise<void> {
    const targetsNode = await this.read(this.p.targets(name));
    if (this.stopped) return;
    const targets = parseMachines(this.p.targets(name), targetsNode?.data);
    const mine = targets.machines.includes(this.opts.machineId) && !targets.problem;
    let typeNode: { data: string; version: number } | undefined;
    let settingsNode: { data: string; version: number } | undefined;
    if (mine) {
      // Targeted here: watch (and read) its settings and type too.
      this.targeted.add(name);
      const gen = this.gen;
      await Promise.all([this.p.settings(name), this.p.type(name)].map((path) => this.arm(gen, () => this.watchNode(path, name))));
      [typeNode, settingsNode] = await Promise.all([this.read(this.p.type(name)), this.read(this.p.settings(name))]);
      if (this.stopped) return;
    } else {
      this.targeted.delete(name);
    }
    const wanted = mine && !!typeNode;
    const current = this.running.get(name);
    if (!wanted) {
      if (current || this.sup.status(name) || this.lastState.has(name)) await this.stopService(name);
      return;
    }
    const { settings, problem } = parseSettings(this.p.settings(name), settingsNode?.data);
    const type = typeNode!.data.trim();
    let mod: ServiceTypeModule;
    let parsed: Record<string, unknown>;
    try {
      if (problem) throw new PopError(`${problem.path}: ${problem.problem}`);
      mod = serviceType(this.hub, type, "pop agent");
      parsed = validateSettings(type, mod, settings);
    } catch (e) {
      // Running already: a bad change (settings written by hand, a type gone) must not take a healthy service down.
      const st = current ? this.sup.status(name) : undefined;
      if (st?.pid !== undefined && st.state !== "stopped" && st.state !== "failed") {
        const state = st.ready ? "ready" : (this.lastState.get(name)?.state ?? "starting");
        const lastError = `${messageOf(e)}; still running with the settings it was started with: fix them with "pop set ${name}"`;
        await this.serial(() => this.reportState(name, { state, lastError }));
        return;
      }
      if (current) await this.stopService(name);
      await this.serial(() => this.reportState(name, { state: "failed", lastError: messageOf(e) }));
      return;
    }
    const settingsText = settingsNode?.data ?? "";
    if (current && current.settingsText === settingsText && current.type === type && this.sup.status(name)?.state !== "stopped") return; // converged
    if (current) await this.rolling(name, parsed, () => this.restartService(name, type, mod, parsed, settingsText));
    else await this.startService(name, type, mod, parsed, settingsText);
  }

  private context(name: string, type: string, settings: Record<string, unknown>): ServiceContext {
    const dir = join(this.opts.stateDir, "services", name);
    mkdirSync(dir, { recursive: true });
    const pid = this.sup.status(name)?.pid;
    return { name, type, settings, machineId: this.opts.machineId, dir, ...(pid === undefined ? {} : { pid }) };
  }

  private async startService(name: string, type: string, mod: ServiceTypeModule, settings: Record<string, unknown>, settingsText: string): Promise<void> {
    const svc = this.context(name, type, settings);
    this.running.set(name, { settingsText, type, ready: false });
    writeKept(this.opts.stateDir, name, { settingsText, type });
    this.sup.clear(name);
    await this.sup.start(processSpec(this.hub, mod, svc));
    await this.events; // its "started" (and maybe "ready") reported
    await this.watchTasks(name);
  }

  /** Restart with new settings; resolves true once ready again, false when it failed or did not become ready in time. */
  private async restartService(name: string, type: string, mod: ServiceTypeModule, settings: Record<string, unknown>, settingsText: string): Promise<boolean> {
    const done = this.readiness(name);
    await this.sup.stop(name);
    await this.startService(name, type, mod, settings, settingsText);
    return done;
  }

  /** Resolves true on the next "ready" event for `name`, false on "failed" or "unready" (or when the agent stops). */
  private readiness(name: string): Promise<boolean> {
    return new Promise((resolve) => {
      const off = this.sup.on((e) => {
        if (e.name !== name) return;
        if (e.type === "ready" || e.type === "failed" || e.type === "unready") {
          off();
          resolve(e.type === "ready");
        }
      });
      void this.stopping.promise.then(() => {
        off();
        resolve(false);
      });
    });
  }

  /** `pop run`: a task node under tasks/<service> names the machines that must answer; this one answers once. */
  private async watchTasks(name: string): Promise<void> {
    if (this.taskWatch.has(name)) return;
    const gen = this.gen;
    this.taskWatch.add(name);
    const dir = this.p.serviceTasks(name);
    const arm = async (): Promise<void> => {
      await this.zk.mkdirp(dir);
      const kids =
        (await this.zk.children(dir, () => {
          if (!this.stopped && gen === this.gen && this.taskWatch.has(name)) void this.arm(gen, arm);
        })) ?? [];
      for (const k of kids) if (!this.tasksSeen.has(`${name}/${k}`)) void this.runTask(name, `${dir}/${k}`, k).catch((e) => this.trouble(e));
    };
    await this.arm(gen, arm);
  }

  private async runTask(name: string, node: string, key: string): Promise<void> {
    this.tasksSeen.add(`${name}/${key}`);
    const mine = `${node}/${this.opts.machineId}`;
    const r = this.running.get(name);
    if (!r || (await this.zk.exists(mine))) return;
    const t = await this.zk.get(node);
    let task: { task?: unknown; args?: unknown; machines?: unknown; at?: unknown };
    try {
      task = JSON.parse(t?.data ?? "null") ?? {};
    } catch {
      return;
    }
    if (!Array.isArray(task.machines) || !task.machines.includes(this.opts.machineId)) return;
    // A task from before this agent started (by more than a few minutes) was someone else's to answer.
    if (typeof task.at === "string" && Date.parse(task.at) < this.startedAt - 600_000) return;
    let result: { code: number; output?: unknown; error?: string };
    try {
      const mod = serviceType(this.hub, r.type, "pop run") as Record<string, unknown>;
      const fn = mod[String(task.task)];
      if (typeof task.task !== "string" || RESERVED_EXPORTS.has(task.task) || task.task.startsWith("_") || typeof fn !== "function") {
        const tasks = Object.keys(mod).filter((k) => typeof mod[k] === "function" && !RESERVED_EXPORTS.has(k) && !k.startsWith("_"));
        throw new PopError(`service type "${r.type}" has no task ${JSON.stringify(task.task)} (tasks: ${tasks.join(", ") || "none"})`);
      }
      const settingsNode = await this.zk.get(this.p.settings(name));
      const svc = this.context(
        name,
        r.type,
        validateSettings(r.type, mod as unknown as ServiceTypeModule, parseSettings(this.p.settings(name), settingsNode?.data).settings),
      );
      const output = await (fn as (...a: unknown[]) => unknown)(this.hub, svc, ...(Array.isArray(task.args) ? task.args : []));
      result = { code: 0, output: output === undefined ? null : output };
    } catch (e) {
      result = { code: 1, error: messageOf(e) };
    }
    await this.zk.create(mine, JSON.stringify(result)).catch((e) => {
      // Answered already, or the caller gave up and removed the task.
      if (zkCode(e) !== "NODE_EXISTS" && zkCode(e) !== "NO_NODE") throw e;
    });
  }

  /**
   * A settings change restarts the service across its machines at most `maxParallel` at a time: a semaphore of
   * ephemeral-sequential nodes (`s-<machine>-<seq>`, in order of their sequence) under the service's rollout node; a
   * machine whose restart does not become ready keeps its slot, so the rollout halts there and status says where and
   * why. A machine's own slot of an earlier, halted rollout is given back when a newer change arrives.
   */
  private async rolling(name: string, settings: Record<string, unknown>, restart: () => Promise<boolean>): Promise<void> {
    const max = typeof settings.maxParallel === "number" && settings.maxParallel >= 1 ? settings.maxParallel : 1;
    const dir = `${this.p.service(name)}/rollout`;
    const prefix = `s-${this.opts.machineId}-`;
    const seq = (n: string) => n.slice(-10);
    await this.zk.mkdirp(dir);
    for (const old of (await this.zk.children(dir)) ?? [])
      if (old.startsWith(prefix) && old.length === prefix.length + 10) await this.zk.remove(`${dir}/${old}`).catch(() => {});
    const mine = await this.zk.create(`${dir}/${prefix}`, this.opts.machineId, "ephemeral-sequential");
    const me = mine.slice(dir.length + 1);
    try {
      for (;;) {
        const changed = Promise.withResolvers<void>();
        const slots = ((await this.zk.children(dir, () => changed.resolve())) ?? []).sort((a, b) => seq(a).localeCompare(seq(b)));
        const at = slots.indexOf(me);
        if (at < 0) throw new PopError(`rolling restart of ${name}: this machine's slot ${mine} vanished (session lost?)`);
        if (at < max) break;
        const ahead = slots.slice(0, at).map((s) => s.slice(2, -11));
        await this.serial(() =>
          this.reportState(name, { state: "waiting", lastError: `rolling restart: waiting for ${ahead.join(", ")} (maxParallel ${max})` }),
        );
        await Promise.race([changed.promise, this.stopping.promise]);
        if (this.stopped) return;
      }
    } catch (e) {
      await this.zk.remove(mine).catch(() => {});
      throw e;
    }
    if (this.dirty.has(name)) {
      // A newer change arrived while this machine waited: restart with that one (converged again next), not this.
      await this.zk.remove(mine).catch(() => {});
      return;
    }
    const ok = await restart();
    if (ok) await this.zk.remove(mine).catch(() => {});
    else if (!this.stopped)
      await this.serial(async () => {
        const st = this.sup.status(name);
        await this.reportState(name, {
          state: st?.state === "failed" ? "failed" : "not-ready",
          lastError: `rolling restart halted here: ${st?.lastError ?? "not ready in time"}`,
        });
      });
  }

  private async stopService(name: string): Promise<void> {
    this.running.delete(name);
    this.taskWatch.delete(name);
    await this.sup.stop(name);
    await this.serial(async () => {
      this.lastState.delete(name);
      this.unreported.delete(name);
      for (const path of [this.p.pid(this.opts.machineId, name), this.p.state(name, this.opts.machineId)]) {
        this.written.delete(path);
        await this.zk.remove(path).catch(() => {});
      }
    });
  }

  private async reportPid(name: string): Promise<void> {
    const pid = this.sup.status(name)?.pid;
    const path = this.p.pid(this.opts.machineId, name);
    try {
      if (!pid) {
        this.written.delete(path);
        await this.zk.remove(path).catch((e) => {
          if (zkCode(e) !== "NO_NODE") throw e;
        });
        return;
      }
      await this.put(path, String(pid));
    } catch (e) {
      this.unreported.add(name);
      this.retryReports();
      throw e;
    }
  }

  /**
   * Write an ephemeral node of ours: a set when this session wrote it already (one request), else a create (a set
   * when it exists). A create under a parent that is gone rejects with NO_NODE.
   */
  private async put(path: string, data: string): Promise<void> {
    if (this.written.has(path)) {
      try {
        await this.zk.set(path, data);
        return;
      } catch (e) {
        if (zkCode(e) !== "NO_NODE") throw e;
        this.written.delete(path); // removed by someone else: create it again
      }
    }
    try {
      await this.zk.create(path, data, "ephemeral");
    } catch (e) {
      if (zkCode(e) !== "NODE_EXISTS") throw e;
      await this.zk.set(path, data);
    }
    this.written.add(path);
  }

  /** The state node's text for `extra` (with the supervisor's pid, restarts, last exit and error). */
  private stateData(name: string, extra: { state: string; lastError?: string }): string {
    const st: ProcessStatus | undefined = this.sup.status(name);
    return JSON.stringify({
      state: extra.state,
      pid: st?.pid,
      restarts: st?.restarts ?? 0,
      lastExit: st?.lastExit,
      lastError: extra.lastError ?? st?.lastError,
      at: new Date().toISOString(),
    });
  }

  /** The state node: what this machine says about the service (ephemeral). */
  private async reportState(name: string, extra: { state: string; lastError?: string }): Promise<void> {
    this.lastState.set(name, extra);
    const data = this.stateData(name, extra);
    const path = this.p.state(name, this.opts.machineId);
    try {
      try {
        await this.put(path, data);
      } catch (e) {
        if (zkCode(e) === "NO_NODE") return; // the service was removed meanwhile
        throw e;
      }
    } catch (e) {
      this.unreported.add(name);
      this.retryReports();
      throw e;
    }
  }

  /**
   * A process started: its PID node and its state node (`starting`, or `ready` when its check passed already) in one
   * transaction, one request. When the transaction fails on a node (one exists from before, the service was removed
   * meanwhile) the two are written one by one, each the way reportPid and reportState do.
   */
  private async reportStarted(name: string): Promise<void> {
    const st = this.sup.status(name);
    const extra = { state: st?.ready ? "ready" : "starting" };
    const pidPath = this.p.pid(this.opts.machineId, name);
    const statePath = this.p.state(name, this.opts.machineId);
    if (st?.pid) {
      const op = (path: string, data: string): ZkOp => (this.written.has(path) ? { op: "set", path, data } : { op: "create", path, data, mode: "ephemeral" });
      const data = this.stateData(name, extra);
      try {
        await this.zk.transaction([op(pidPath, String(st.pid)), op(statePath, data)]);
        this.written.add(pidPath);
        this.written.add(statePath);
        this.lastState.set(name, extra);
        return;
      } catch (e) {
        if (!(e instanceof ZkNodeError)) {
          this.lastState.set(name, extra);
          this.unreported.add(name);
          this.retryReports();
          throw e;
        }
        // One of them exists from before or its parent is gone: one by one below.
      }
    }
    await this.reportPid(name);
    await this.reportState(name, extra);
  }

  /**
   * A report that did not reach ZooKeeper (a request timed out on a busy server, the connection dropped) is written
   * again: on reconnect, and also after a short delay, since a timed-out request may leave the connection up.
   */
  private retryReports(): void {
    if (this.reportTimer || this.stopped) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      if (!this.stopped && this.unreported.size > 0) void this.republish().catch((e) => this.trouble(e));
    }, 1000);
  }

  private onProcessEvent(e: SupervisorEvent): void {
    if (this.stopped) return;
    void this.serial(() => this.handleEvent(e)).catch((err) => this.trouble(err));
  }

  private async handleEvent(e: SupervisorEvent): Promise<void> {
    if (this.stopped || !this.zk) return;
    const name = e.name;
    const r = this.running.get(name);
    if (e.type === "started") {
      // A readiness check that passes at once (no port to wait for) has passed by the next turn of the event loop:
      // then one transaction says PID and `ready`, instead of `starting` and a second write for `ready`.
      if (!this.sup.status(name)?.ready) await new Promise<void>((r) => setImmediate(r));
      await this.reportStarted(name);
    } else if (e.type === "exited") {
      if (r) r.ready = false;
      if (e.requested) return;
      await this.reportPid(name);
      await this.reportState(name, { state: "crashed" });
    } else if (e.type === "ready") {
      if (r) r.ready = true;
      // Said already: the process was ready by the time its start was reported (same pid, nothing failed since).
      if (this.lastState.get(name)?.state === "ready" && !this.unreported.has(name) && this.sup.status(name)?.pid === e.pid) return;
      await this.reportState(name, { state: "ready" });
    } else if (e.type === "unready") {
      await this.reportState(name, { state: "not-ready", lastError: e.reason });
    } else if (e.type === "failed") {
      await this.reportPid(name);
      await this.reportState(name, { state: "failed", lastError: e.reason });
    } else if (e.type === "backoff") {
      await this.reportState(name, { state: "backoff", lastError: `restarting in ${e.ms} ms` });
    }
  }

  /** Keep the services running when the agent stops (`pop stop --keep-services`). */
  keepRunning(): void {
    this.keepServices = true;
  }

  /** Stop the agent: its services too (unless told to keep them), its nodes, its session. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.resolve();
    if (this.resync) clearInterval(this.resync);
    if (this.reportTimer) clearTimeout(this.reportTimer);
    await Promise.allSettled([...this.pending.values()]);
    if (this.keepServices) this.sup.detach();
    else await this.sup.stopAll();
    await this.zk?.close().catch(() => {});
  }
}
