// The agent's commands: fg (the agent in the foreground), start (as a daemon), stop, run (a task on every machine
// running a service, coordinated through ZooKeeper), logs (a service's output on this machine).
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Command } from "../cli/_args.ts";
import { PopError, quote, UsageError } from "../errors.ts";
import { closeHub, type Hub, onHubClose } from "../hub/index.ts";
import { configureOutput, log, out, outJson } from "../output.ts";
import { Agent } from "./_agent.ts";
import { DEPLOY_ARGS, JSON_ARG, openDeploy, serviceHub } from "./_context.ts";
import { parseMachines, SERVICE_NAME } from "./_layout.ts";
import { follow, logPath, tail } from "./_logs.ts";
import { deployOptions } from "./_options.ts";

/** <state-dir>/agent.json: the running agent's pid, written once it is connected and registered. */
function agentFile(stateDir: string): string {
  return join(stateDir, "agent.json");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed agent nobody has reaped yet (a container whose init does not) still answers kill(0): a zombie is dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): kill(0) is the answer
  }
}

/** The agent in the foreground: for systemd, supervisord, or a terminal. Runs until SIGTERM/SIGINT (exit 143/130). */
const fg: Command = {
  meta: {
    name: "fg",
    description: "Run this machine's agent in the foreground (for systemd or supervisord); SIGTERM stops it and its services",
    usage: "pop fg [options]",
  },
  args: { ...DEPLOY_ARGS },
  async run({ args }) {
    configureOutput({ format: "auto" }); // a daemon's log: JSON lines when stderr is not a terminal
    const opts = await deployOptions(args, "pop fg");
    const file = agentFile(opts.stateDir);
    mkdirSync(opts.stateDir, { recursive: true });
    if (existsSync(file)) {
      const other = JSON.parse(readFileSync(file, "utf8")) as { pid?: number };
      if (other.pid && other.pid !== process.pid && alive(other.pid))
        throw new UsageError(`an agent for machine "${opts.machineId}" runs already (pid ${other.pid}, ${file}): "pop stop" it first`, "pop fg", {
          hint: false,
        });
    }
    const hub: Hub = await serviceHub(args);
    const agent = new Agent(opts, hub);
    try {
      await agent.start();
    } catch (e) {
      await agent.stop().catch(() => {});
      await closeHub(hub).catch(() => {});
      throw e;
    }
    writeFileSync(file, JSON.stringify({ pid: process.pid, machineId: opts.machineId, zk: opts.zk, root: opts.root, startedAt: new Date().toISOString() }));
    onHubClose(hub, () => {
      if (existsSync(join(opts.stateDir, "keep-services"))) agent.keepRunning();
      rmSync(join(opts.stateDir, "keep-services"), { force: true });
    });
    onHubClose(hub, () => rmSync(file, { force: true }));
    log.info(`agent for machine ${opts.machineId} connected to ${opts.zk}, registered at ${agent.p.agent(opts.machineId)}`, {
      machine: opts.machineId,
      zk: opts.zk,
    });
    return undefined; // keep running
  },
};

/** The agent as a daemon: returns once it is connected and registered, or fails with the reason. */
const start: Command = {
  meta: {
    name: "start",
    description: "Start this machine's agent as a daemon (pid file, log file); returns once it is connected and registered",
    usage: "pop start [options]",
  },
  args: { ...DEPLOY_ARGS },
  async run({ args, argv }) {
    const opts = await deployOptions(args, "pop start");
    mkdirSync(opts.stateDir, { recursive: true });
    const file = agentFile(opts.stateDir);
    if (existsSync(file)) {
      const other = JSON.parse(readFileSync(file, "utf8")) as { pid?: number };
      if (other.pid && alive(other.pid)) {
        out(`the agent for machine ${opts.machineId} runs already (pid ${other.pid})`);
        return 0;
      }
      rmSync(file, { force: true });
    }
    const logFile = join(opts.stateDir, "agent.log");
    const fd = openSync(logFile, "a");
    const from = statSync(logFile).size; // what earlier starts logged is not this start's reason
    const child = Bun.spawn([process.execPath, "fg", ...argv], {
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
      detached: true,
      env: { ...process.env, POP_LOG_FORMAT: process.env.POP_LOG_FORMAT ?? "json" },
    });
    child.unref();
    // Connecting, plus waiting out the registration of an agent of this machine that was killed (its session's timeout).
    const bound = opts.zkTimeout * 2 + 15_000;
    const limit = Date.now() + bound;
    while (Date.now() < limit) {
      if (existsSync(file)) {
        const info = JSON.parse(readFileSync(file, "utf8")) as { pid?: number };
        if (info.pid === child.pid) {
          out(`started the agent for machine ${opts.machineId} (pid ${child.pid}, log ${logFile})`);
          return 0;
        }
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        const lines = readFileSync(logFile).subarray(from).toString("utf8").trimEnd().split("\n").filter(Boolean).slice(-3);
        const reasons = lines.map((l) => {
          try {
            return (JSON.parse(l) as { msg?: string }).msg ?? l;
          } catch {
            return l;
          }
        });
        // The agent's own exit code: 2 a usage error (a bad option, a missing layout), 3 ZooKeeper unreachable.
        const code = child.exitCode ?? 1;
        throw Object.assign(new PopError(`the agent did not start: ${reasons.join("; ") || "it exited saying nothing"} (log ${logFile})`), {
          exitCode: code === 2 || code === 3 ? code : 1,
        });
      }
      await Bun.sleep(50);
    }
    child.kill();
    throw new PopError(`the agent did not register within ${bound} ms (log ${logFile})`);
  },
};

const stop: Command = {
  meta: {
    name: "stop",
    description: "Stop this machine's agent and its services (with --keep-services, the services run on)",
    usage: "pop stop [--keep-services] [options]",
  },
  args: { "keep-services": { type: "boolean", description: "Leave the services running: a restarted agent adopts them" }, ...DEPLOY_ARGS },
  async run({ args }) {
    const opts = await deployOptions(args, "pop stop");
    const file = agentFile(opts.stateDir);
    if (!existsSync(file)) throw new PopError(`no agent runs for machine ${opts.machineId} (no ${file})`);
    const { pid } = JSON.parse(readFileSync(file, "utf8")) as { pid: number };
    if (!alive(pid)) {
      rmSync(file, { force: true });
      throw new PopError(`the agent for machine ${opts.machineId} (pid ${pid}) is not running; removed its stale ${file}`);
    }
    if (args["keep-services"]) writeFileSync(join(opts.stateDir, "keep-services"), "");
    process.kill(pid, "SIGTERM");
    const limit = Date.now() + 60_000;
    while (alive(pid) && Date.now() < limit) await Bun.sleep(50);
    if (alive(pid)) throw new PopError(`the agent (pid ${pid}) did not stop within 60 s; kill it with SIGKILL if you must (its services run on)`);
    out(`stopped the agent for machine ${opts.machineId}${args["keep-services"] ? " (its services run on)" : " and its services"}`);
    return 0;
  },
};

/** One machine's answer to a task. */
interface TaskResult {
  machine: string;
  code: number;
  output?: unknown;
  error?: string;
}

const run: Command = {
  meta: {
    name: "run",
    description: "Run a task of a service's type on every machine where the service is deployed; prints each machine's output and exit code",
    usage: "pop run SERVICE TASK [ARGS]... [--timeout S] [--json] [options]",
    examples: ["pop run app packages", "pop run app install left-pad"],
  },
  args: {
    service: { type: "positional", description: "The service" },
    task: { type: "positional", description: "The task: a function of the service's type" },
    taskArgs: { type: "positional", rest: true, required: false, description: "The task's arguments (parsed as JSON where they parse)" },
    timeout: { type: "string", valueHint: "S", description: "Seconds to wait for every machine (default 60)" },
    ...JSON_ARG,
    ...DEPLOY_ARGS,
  },
  async run({ args }) {
    const prog = "pop run";
    const name = args.service as string;
    if (!SERVICE_NAME.test(name)) throw new UsageError(`${quote(name)} is not a service name`, prog, { hint: false });
    const seconds = args.timeout === undefined ? 60 : Number(args.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout ${quote(String(args.timeout))} is not a number of seconds`, prog);
    const taskArgs = (args.taskArgs as string[]).map((a) => {
      try {
        return JSON.parse(a);
      } catch {
        return a;
      }
    });
    const d = await openDeploy(args, prog, { needMachineId: false });
    try {
      const targets = await d.zk.get(d.p.targets(name));
      if (!targets) throw new UsageError(`no service ${quote(name)} at ${d.p.service(name)}`, prog, { hint: false });
      const machines = parseMachines(d.p.targets(name), targets.data).machines;
      if (machines.length === 0) throw new UsageError(`service ${quote(name)} is not deployed anywhere: "pop deploy ${name}" first`, prog, { hint: false });
      await d.zk.mkdirp(d.p.serviceTasks(name));
      const node = await d.zk.create(
        `${d.p.serviceTasks(name)}/task-`,
        JSON.stringify({ task: args.task, args: taskArgs, machines, by: `${hostname()}:${process.pid}`, at: new Date().toISOString() }),
        "persistent-sequential",
      );
      const deadline = Date.now() + seconds * 1000;
      let answered: string[] = [];
      while (Date.now() < deadline) {
        let wake!: () => void;
        const changed = new Promise<void>((r) => (wake = r));
        answered = (await d.zk.children(node, () => wake())) ?? [];
        if (machines.every((m) => answered.includes(m))) break;
        const left = deadline - Date.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([changed, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, left))))]);
        clearTimeout(timer);
      }
      const results: TaskResult[] = [];
      for (const m of machines) {
        const r = await d.zk.get(`${node}/${m}`);
        if (!r) {
          results.push({ machine: m, code: 124, error: `no answer within ${seconds} s (is its agent running? pop machines)` });
          continue;
        }
        try {
          results.push({ machine: m, ...(JSON.parse(r.data) as { code: number; output?: unknown; error?: string }) });
        } catch {
          results.push({ machine: m, code: 1, error: `bad result node ${node}/${m}: ${r.data}` });
        }
      }
      // The answers are read: the task node is done with (a late answer finds it gone and is dropped).
      await d.zk.removeTree(node).catch(() => {});
      if (args.json) outJson({ service: name, task: args.task, node, results });
      else
        for (const r of results)
          out(`== ${r.machine} (exit ${r.code})\n${r.error ?? (typeof r.output === "string" ? r.output : JSON.stringify(r.output, null, 2))}`);
      return results.every((r) => r.code === 0) ? 0 : 1;
    } finally {
      await d.close();
    }
  },
};

const logs: Command = {
  meta: {
    name: "logs",
    description: "A service's output on this machine (captured by the agent, rotated by size)",
    usage: "pop logs SERVICE [-f] [-n N] [options]",
  },
  args: {
    service: { type: "positional", description: "The service" },
    follow: { type: "boolean", alias: "f", description: "Keep printing new output (through rotation) until interrupted" },
    lines: { type: "string", alias: "n", valueHint: "N", description: "How many of the last lines to print (default 50)" },
    json: { type: "boolean", description: 'One JSON object per line of output: {"service", "machine", "line"} (JSON Lines, with -f too)' },
    ...DEPLOY_ARGS,
  },
  async run({ args }) {
    const opts = await deployOptions(args, "pop logs");
    const name = args.service as string;
    const n = args.lines === undefined ? 50 : Number(args.lines);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`-n ${quote(String(args.lines))} is not a number of lines`, "pop logs");
    if (!existsSync(logPath(opts.stateDir, name)))
      throw new UsageError(`no log for service ${quote(name)} on machine ${opts.machineId} (in ${join(opts.stateDir, "logs")})`, "pop logs", { hint: false });
    const print = args.json ? (l: string) => out(JSON.stringify({ service: name, machine: opts.machineId, line: l })) : out;
    for (const l of tail(opts.stateDir, name, n)) print(l);
    if (!args.follow) return 0;
    follow(opts.stateDir, name, print);
    return undefined;
  },
};

export const AGENT_COMMANDS: Record<string, Command> = { fg, start, stop, run, logs };
