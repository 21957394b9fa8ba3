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
import { serviceType } from "./_context.ts";
import { parseMachines, parseSettings, type Paths, paths } from "./_layout.ts";
import type { DeployOptions } from "./_options.ts";
import { processSpec, validateSettings } from "./_servicetypes.ts";
import { Supervisor, type SupervisorEvent } from "./_supervisor.ts";
import type { ProcessStatus, ServiceContext, ServiceTypeModule, Zk } from "./_types.ts";
import { connectZk } from "./_zk.ts";

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
  private watched = new Set<string>();
  private resync: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private keepServices = false;
  private taskWatch = new Set<string>();
  private tasksSeen = new Set<string>();
  private readonly startedAt = Date.now();

  constructor(
    readonly opts: DeployOptions,
    readonly hub: Hub,
  ) {
    this.p = paths(opts.root);
    mkdirSync(opts.stateDir, { recursive: true });
    this.sup = new Supervisor({ stateDir: opts.stateDir, onEvent: (e) => void this.onProcessEvent(e) });
  }

  /** Connect, register, adopt what is still running from a previous agent, converge, and keep converging. */
  async start(): Promise<void> {
    await this.connect();
    const adopted = await this.sup.adopt();
    if (adopted.length) log.info(`adopted ${adopted.join(", ")} (still running from a previous agent)`, { adopted });
    for (const name of adopted) {
      const kept = readKept(this.opts.stateDir, name);
      this.running.set(name, { settingsText: kept?.settingsText ?? "", type: kept?.type ?? "", ready: this.sup.status(name)?.ready ?? false });
    }
    await this.watchServices();
    this.resync = setInterval(() => void this.resyncAll(), RESYNC_MS);
    onHubClose(this.hub, () => this.stop());
  }

  private async connect(): Promise<void> {
    this.zk = await connectZk({ hosts: this.opts.zk, timeoutMs: this.opts.zkTimeout, ...(this.opts.zkAuth ? { auth: this.opts.zkAuth } : {}) });
    this.zk.onSessionLost(() => void this.renewSession());
    this.watched.clear();
    const me = JSON.stringify({ host: hostname(), pid: process.pid, version: pkg.version, startedAt: new Date().toISOString() });
    try {
      await this.zk.create(this.p.agent(this.opts.machineId), me, "ephemeral");
    } catch (e) {
      if ((e as { zkCode?: string }).zkCode !== "NODE_EXISTS") throw e;
      const other = await this.zk.get(this.p.agent(this.opts.machineId));
      throw new PopError(
        `an agent for machine "${this.opts.machineId}" is already registered at ${this.p.agent(this.opts.machineId)} (${other?.data ?? "?"}): stop it, or give this one another --machine-id`,
      );
    }
    await this.zk.mkdirp(this.p.machine(this.opts.machineId));
  }

  /** The session is gone: open a new one, put the ephemeral nodes back, re-converge (healthy services keep running). */
  private async renewSession(): Promise<void> {
    if (this.stopped) return;
    log.warn("ZooKeeper session lost: opening a new one; services keep running");
    for (let delay = 250; !this.stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.zk.close().catch(() => {});
        await this.connect();
        for (const [name] of this.running) await this.reportPid(name);
        await this.watchServices();
        log.info("ZooKeeper session renewed");
        return;
      } catch (e) {
        log.warn(`cannot renew the ZooKeeper session yet: ${messageOf(e)}`);
        await Bun.sleep(delay);
      }
    }
  }

  /** Watch the list of services; each service's targets and settings are watched once seen. */
  private async watchServices(): Promise<void> {
    const names = (await this.zk.children(this.p.services, () => void this.watchServices().catch((e) => this.trouble(e)))) ?? [];
    for (const name of names) if (!this.watched.has(name)) await this.watchService(name);
    for (const name of [...this.watched]) if (!names.includes(name)) this.watched.delete(name);
    for (const name of this.running.keys()) if (!names.includes(name)) this.schedule(name); // removed: stop it
  }

  private async watchService(name: string): Promise<void> {
    this.watched.add(name);
    // One watch per node, re-armed by its own change; a change re-converges this service only.
    await Promise.all([this.watchNode(this.p.targets(name), name), this.watchNode(this.p.settings(name), name), this.watchNode(this.p.type(name), name)]);
    this.schedule(name);
  }

  private async watchNode(path: string, name: string): Promise<void> {
    await this.zk.get(path, () => {
      if (this.stopped || !this.watched.has(name)) return;
      void this.watchNode(path, name).catch((e) => this.trouble(e));
      this.schedule(name);
    });
  }

  private resyncAll(): void {
    void this.watchServices().catch((e) => this.trouble(e));
    for (const name of this.watched) this.schedule(name);
  }

  private trouble(e: unknown): void {
    if (!this.stopped) log.warn(`ZooKeeper: ${messageOf(e)} (nothing changed; will retry)`);
  }

  /** Converge one service; one convergence at a time per service, a change while it runs converges again after. */
  private schedule(name: string): void {
    if (this.stopped) return;
    if (this.pending.has(name)) {
      this.dirty.add(name);
      return;
    }
    const run = this.converge(name)
      .catch((e) => this.trouble(e))
      .finally(() => {
        this.pending.delete(name);
        if (this.dirty.delete(name)) this.schedule(name);
      });
    this.pending.set(name, run);
  }

  private async converge(name: string): Promise<void> {
    const [typeNode, settingsNode, targetsNode] = await Promise.all([
      this.zk.get(this.p.type(name)),
      this.zk.get(this.p.settings(name)),
      this.zk.get(this.p.targets(name)),
    ]);
    const targets = parseMachines(this.p.targets(name), targetsNode?.data);
    const wanted = !!typeNode && targets.machines.includes(this.opts.machineId) && !targets.problem;
    const current = this.running.get(name);
    if (!wanted) {
      if (current || this.sup.status(name)) await this.stopService(name);
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
      await this.reportState(name, { state: "failed", lastError: messageOf(e) });
      if (current) await this.stopService(name);
      return;
    }
    const settingsText = settingsNode?.data ?? "";
    if (current && current.settingsText === settingsText && this.sup.status(name)?.state !== "stopped") return; // converged
    if (current) await this.rolling(name, parsed, () => this.restartService(name, type, mod, parsed, settingsText));
    else await this.startService(name, type, mod, parsed, settingsText);
  }

  private context(name: string, type: string, settings: Record<string, unknown>): ServiceContext {
    const dir = join(this.opts.stateDir, "services", name);
    mkdirSync(dir, { recursive: true });
    return { name, type, settings, machineId: this.opts.machineId, dir };
  }

  private async startService(name: string, type: string, mod: ServiceTypeModule, settings: Record<string, unknown>, settingsText: string): Promise<void> {
    const svc = this.context(name, type, settings);
    this.running.set(name, { settingsText, type, ready: false });
    writeKept(this.opts.stateDir, name, { settingsText, type });
    this.sup.clear(name);
    await this.sup.start(processSpec(this.hub, mod, svc));
    await this.reportPid(name);
    await this.reportState(name, { state: "starting" });
    await this.watchTasks(name);
  }

  /** Restart with new settings; resolves true once ready again, false when it failed or did not become ready in time. */
  private async restartService(name: string, type: string, mod: ServiceTypeModule, settings: Record<string, unknown>, settingsText: string): Promise<boolean> {
    const done = this.readiness(name);
    await this.sup.stop(name);
    await this.startService(name, type, mod, settings, settingsText);
    return done;
  }

  /** Resolves true on the next "ready" event for `name`, false on "failed" or "unready". */
  private readiness(name: string): Promise<boolean> {
    return new Promise((resolve) => {
      const off = this.sup.on((e) => {
        if (e.name !== name) return;
        if (e.type === "ready" || e.type === "failed" || e.type === "unready") {
          off();
          resolve(e.type === "ready");
        }
      });
    });
  }

  /** `pop run`: a task node under tasks/<service> names the machines that must answer; this one answers once. */
  private async watchTasks(name: string): Promise<void> {
    if (this.taskWatch.has(name)) return;
    this.taskWatch.add(name);
    const dir = this.p.serviceTasks(name);
    await this.zk.mkdirp(dir);
    const arm = async (): Promise<void> => {
      const kids =
        (await this.zk.children(dir, () => {
          if (!this.stopped && this.taskWatch.has(name)) void arm().catch((e) => this.trouble(e));
        })) ?? [];
      for (const k of kids) if (!this.tasksSeen.has(`${name}/${k}`)) void this.runTask(name, `${dir}/${k}`, k).catch((e) => this.trouble(e));
    };
    await arm();
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
      if (typeof task.task !== "string" || RESERVED_EXPORTS.has(task.task) || typeof fn !== "function") {
        const tasks = Object.keys(mod).filter((k) => typeof mod[k] === "function" && !RESERVED_EXPORTS.has(k));
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
      if ((e as { zkCode?: string }).zkCode !== "NODE_EXISTS") throw e;
    });
  }

  /**
   * A settings change restarts the service across its machines at most `maxParallel` at a time: a semaphore of
   * ephemeral-sequential nodes under the service's rollout node; a machine whose restart does not become ready keeps
   * its slot, so the rollout halts there and status says where and why.
   */
  private async rolling(name: string, settings: Record<string, unknown>, restart: () => Promise<boolean>): Promise<void> {
    const max = typeof settings.maxParallel === "number" && settings.maxParallel >= 1 ? settings.maxParallel : 1;
    const dir = `${this.p.service(name)}/rollout`;
    await this.zk.mkdirp(dir);
    const mine = await this.zk.create(`${dir}/slot-`, this.opts.machineId, "ephemeral-sequential");
    const me = mine.slice(dir.length + 1);
    for (;;) {
      let wake!: () => void;
      const changed = new Promise<void>((r) => (wake = r));
      const slots = ((await this.zk.children(dir, () => wake())) ?? []).sort();
      if (slots.indexOf(me) < max) break;
      await this.reportState(name, { state: "waiting", lastError: `rolling restart: waiting for ${slots.slice(0, max).length} machine(s) ahead` });
      await changed;
    }
    const ok = await restart();
    if (ok) await this.zk.remove(mine).catch(() => {});
  }

  private async stopService(name: string): Promise<void> {
    this.running.delete(name);
    this.taskWatch.delete(name);
    await this.sup.stop(name);
    await this.zk.remove(this.p.pid(this.opts.machineId, name)).catch(() => {});
    await this.zk.remove(this.p.state(name, this.opts.machineId)).catch(() => {});
  }

  private async reportPid(name: string): Promise<void> {
    const pid = this.sup.status(name)?.pid;
    if (!pid) return;
    const path = this.p.pid(this.opts.machineId, name);
    try {
      await this.zk.create(path, String(pid), "ephemeral");
    } catch (e) {
      if ((e as { zkCode?: string }).zkCode === "NODE_EXISTS") await this.zk.set(path, String(pid));
      else throw e;
    }
  }

  /** The state node: what this machine says about the service (ephemeral). */
  private async reportState(name: string, extra: { state: string; lastError?: string }): Promise<void> {
    const st: ProcessStatus | undefined = this.sup.status(name);
    const data = JSON.stringify({
      state: extra.state,
      pid: st?.pid,
      restarts: st?.restarts ?? 0,
      lastExit: st?.lastExit,
      lastError: extra.lastError ?? st?.lastError,
      at: new Date().toISOString(),
    });
    const path = this.p.state(name, this.opts.machineId);
    try {
      await this.zk.create(path, data, "ephemeral");
    } catch (e) {
      const code = (e as { zkCode?: string }).zkCode;
      if (code === "NODE_EXISTS") await this.zk.set(path, data);
      else if (code === "NO_NODE")
        return; // the service was removed meanwhile
      else throw e;
    }
  }

  private async onProcessEvent(e: SupervisorEvent): Promise<void> {
    if (this.stopped || !this.zk) return;
    const name = e.name;
    try {
      if (e.type === "started") {
        await this.reportPid(name);
      } else if (e.type === "exited") {
        await this.zk.remove(this.p.pid(this.opts.machineId, name)).catch(() => {});
        const r = this.running.get(name);
        if (r) r.ready = false;
        if (!e.requested) await this.reportState(name, { state: "crashed" });
      } else if (e.type === "ready") {
        const r = this.running.get(name);
        if (r) r.ready = true;
        await this.reportState(name, { state: "ready" });
      } else if (e.type === "unready") {
        await this.reportState(name, { state: "not-ready", lastError: e.reason });
      } else if (e.type === "failed") {
        await this.reportState(name, { state: "failed", lastError: e.reason });
      } else if (e.type === "backoff") {
        await this.reportState(name, { state: "backoff", lastError: `restarting in ${e.ms} ms` });
      }
    } catch (err) {
      this.trouble(err);
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
    if (this.resync) clearInterval(this.resync);
    await Promise.allSettled([...this.pending.values()]);
    if (this.keepServices) this.sup.detach();
    else await this.sup.stopAll();
    await this.zk?.close().catch(() => {});
  }
}
