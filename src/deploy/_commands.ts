// The deploy commands that change or read the target state: init, add, set, remove, deploy, undeploy, status, machines.
// Every read-modify-write is a versioned compare-and-set retried on conflict; what touches several nodes is one
// transaction. Usage mistakes and refused values are errors with exit 2 and nothing written.
import type { Command } from "../cli/_args.ts";
import { ConfigError, quote, UsageError } from "../errors.ts";
import { out, outJson } from "../output.ts";
import { checkLayout, DEPLOY_ARGS, type DeployContext, JSON_ARG, openDeploy, serviceHub, serviceType, serviceTypes, withOneShot } from "./_context.ts";
import { LAYOUT_VERSION, layoutVersion, parseMachines, parseSettings, readService, SERVICE_NAME, type ServiceView } from "./_layout.ts";
import type { ZkOp } from "./_types.ts";

/** Run `fn` with a deploy session, closed afterwards whatever happens. */
async function withDeploy<T>(
  args: Record<string, unknown>,
  prog: string,
  fn: (d: DeployContext) => Promise<T>,
  o: { layout?: boolean; needMachineId?: boolean } = {},
): Promise<T> {
  const d = await openDeploy(args, prog, o);
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

/** KEY=VALUE pairs as settings: values parsed as JSON where they parse, else kept as text; no prototype keys. */
export function parsePairs(pairs: string[], prog: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`${quote(p)} is not KEY=VALUE; write e.g. port=8080 or command="bun run app.ts"`, prog);
    const raw = p.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // kept as text
    }
    Object.defineProperty(out, p.slice(0, eq), { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function checkName(name: string, prog: string): void {
  if (!SERVICE_NAME.test(name))
    throw new UsageError(`${quote(name)} is not a service name: use letters, digits, _ . -, starting with a letter`, prog, { hint: false });
}

async function mustRead(d: DeployContext, name: string, prog: string): Promise<ServiceView> {
  const view = await readService(d.zk, d.p, name);
  if (!view) throw missing(d, name, prog);
  return view;
}

/** The error for a service that is not there. */
function missing(d: Pick<DeployContext, "p">, name: string, prog: string): UsageError {
  return new UsageError(`no service ${quote(name)} at ${d.p.service(name)}: add it with "pop add TYPE --name ${name}"`, prog, { hint: false });
}

const init: Command = {
  meta: {
    name: "init",
    description: "Create pop's layout in ZooKeeper; refuses to reset an existing one without --force",
    examples: ["pop init", "pop init --zk zk1:2181,zk2:2181 --root /pop"],
  },
  args: { force: { type: "boolean", description: "Reset an existing layout: every service, target and task under the root is deleted" }, ...DEPLOY_ARGS },
  async run({ args }) {
    const prog = "pop init";
    return withDeploy(
      args,
      prog,
      async (d) => {
        const exists = await d.zk.exists(d.p.root);
        if (exists && !args.force) {
          throw new UsageError(
            `a layout exists at ${d.p.root} on ${d.opts.zk}; "pop init --force" resets it (every service and target under it is deleted)`,
            prog,
            { hint: false },
          );
        }
        if (exists) await d.zk.removeTree(d.p.root);
        const parent = d.p.root.slice(0, d.p.root.lastIndexOf("/"));
        if (parent) await d.zk.mkdirp(parent);
        const data = JSON.stringify({ layout: LAYOUT_VERSION, created: new Date().toISOString() });
        await d.zk.transaction([
          { op: "create", path: d.p.root, data },
          { op: "create", path: d.p.machines },
          { op: "create", path: d.p.services },
          { op: "create", path: d.p.agents },
          { op: "create", path: d.p.tasks },
        ]);
        out(`${exists ? "reset" : "created"} the layout at ${d.p.root} on ${d.opts.zk}`);
        return 0;
      },
      { layout: false, needMachineId: false },
    );
  },
};

const add: Command = {
  meta: {
    name: "add",
    description: "Add a service of a service type, its settings checked by the type's schema (a bad value: exit 2, nothing written)",
    usage: "pop add TYPE [--name NAME] [--port PORT] [--set KEY=VALUE]... [options]",
    examples: ['pop add process --name web --set command="bun run server.ts" --port 8080', "pop add static --set root=./public --port 8000"],
  },
  args: {
    type: { type: "positional", description: "The service type: process, bun, static, or one of a plugin root's service/ modules" },
    name: { type: "string", description: "The service's name (default: the type's)" },
    port: { type: "string", description: "The port setting, for types that listen" },
    set: { type: "string", multiple: true, valueHint: "KEY=VALUE", description: "A setting (values parsed as JSON where they parse)" },
    ...DEPLOY_ARGS,
  },
  async run({ args }) {
    const prog = "pop add";
    const typeName = args.type as string;
    const name = (args.name as string | undefined) ?? typeName;
    checkName(name, prog);
    const raw = parsePairs(args.set as string[], prog);
    if (args.port !== undefined) raw.port = /^\d+$/.test(args.port as string) ? Number(args.port) : args.port;
    const hub = await serviceHub(args);
    try {
      const settings = serviceTypes().validateSettings(typeName, serviceType(hub, typeName, prog), raw);
      return await withDeploy(args, prog, async (d) => {
        if (await d.zk.exists(d.p.service(name)))
          throw new UsageError(
            `service ${quote(name)} exists at ${d.p.service(name)}; change it with "pop set ${name} KEY=VALUE", or "pop remove ${name}" first`,
            prog,
            { hint: false },
          );
        await d.zk.transaction([
          { op: "create", path: d.p.service(name) },
          { op: "create", path: d.p.type(name), data: typeName },
          { op: "create", path: d.p.settings(name), data: JSON.stringify(settings) },
          { op: "create", path: d.p.targets(name), data: "[]" },
          { op: "create", path: d.p.states(name) },
        ]);
        out(`added service ${name} (type ${typeName}); deploy it with "pop deploy ${name} [MACHINE...]"`);
        return 0;
      });
    } finally {
      await (await import("../hub/index.ts")).closeHub(hub);
    }
  },
};

const set: Command = {
  meta: {
    name: "set",
    description: "Change a service's settings (checked by its type's schema): machines running it restart, rolling",
    usage: "pop set SERVICE KEY=VALUE... [options]",
    examples: ["pop set web port=8081"],
  },
  args: {
    service: { type: "positional", description: "The service" },
    pairs: { type: "positional", rest: true, description: "KEY=VALUE settings (values parsed as JSON where they parse); KEY= removes a setting" },
    ...DEPLOY_ARGS,
  },
  async run({ args }) {
    const prog = "pop set";
    const name = args.service as string;
    checkName(name, prog);
    const pairs = args.pairs as string[];
    if (pairs.length === 0) throw new UsageError("name at least one KEY=VALUE setting", prog);
    const changes = parsePairs(pairs, prog);
    const hub = await serviceHub(args);
    try {
      return await withDeploy(args, prog, async (d) => {
        const view = await mustRead(d, name, prog);
        if (!view.type) throw new ConfigError(`service ${quote(name)} has no type at ${d.p.type(name)}; fix that node or re-add the service`);
        const mod = serviceType(hub, view.type, prog);
        await d.zk.update(d.p.settings(name), (current) => {
          const { settings, problem } = parseSettings(d.p.settings(name), current);
          if (problem && current !== undefined && current !== "")
            throw new ConfigError(`${problem.path}: ${problem.problem}; "pop set" merges into it, so fix or rewrite the node first`);
          const next: Record<string, unknown> = { ...settings };
          for (const [k, v] of Object.entries(changes)) {
            if (v === "") delete next[k];
            else next[k] = v;
          }
          return JSON.stringify(serviceTypes().validateSettings(view.type!, mod, next));
        });
        out(`set ${Object.keys(changes).join(", ")} of ${name}`);
        return 0;
      });
    } finally {
      await (await import("../hub/index.ts")).closeHub(hub);
    }
  },
};

const remove: Command = {
  meta: { name: "remove", description: "Remove a service (refused while it is deployed, unless --force)", usage: "pop remove SERVICE [--force] [options]" },
  args: {
    service: { type: "positional", description: "The service" },
    force: { type: "boolean", description: "Remove it even while machines are targeted (their agents stop it)" },
    ...DEPLOY_ARGS,
  },
  async run({ args }) {
    const prog = "pop remove";
    const name = args.service as string;
    checkName(name, prog);
    return withDeploy(args, prog, async (d) => {
      for (let attempt = 0; ; attempt++) {
        const view = await mustRead(d, name, prog);
        if (view.machines.length > 0 && !args.force) {
          throw new UsageError(
            `service ${quote(name)} is deployed on ${view.machines.join(", ")}: "pop undeploy ${name} ${view.machines.join(" ")}" first, or "pop remove ${name} --force"`,
            prog,
            { hint: false },
          );
        }
        // One transaction: every node of the service, leaves first, and the target list unchanged since we read it.
        const ops: ZkOp[] = [];
        if (view.machinesVersion >= 0) ops.push({ op: "check", path: d.p.targets(name), version: view.machinesVersion });
        for (const path of await treeLeavesFirst(d, d.p.service(name))) ops.push({ op: "remove", path });
        try {
          await d.zk.transaction(ops);
          out(`removed service ${name}`);
          return 0;
        } catch (e) {
          // Someone changed it between the read and the transaction: read again.
          if (attempt < 5 && ["BAD_VERSION", "NOT_EMPTY", "NO_NODE"].includes((e as { zkCode?: string }).zkCode ?? "")) continue;
          throw e;
        }
      }
    });
  },
};

async function treeLeavesFirst(d: DeployContext, path: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string) => {
    for (const c of (await d.zk.children(p)) ?? []) await walk(`${p}/${c}`);
    out.push(p);
  };
  await walk(path);
  return out;
}

/** deploy / undeploy: a compare-and-set of the machines list, so two users at once never lose an update. */
function targetCommand(kind: "deploy" | "undeploy"): Command {
  const adding = kind === "deploy";
  return {
    meta: {
      name: kind,
      description: adding
        ? "Target a service at machines (default: this one); their agents start it"
        : "Stop targeting a service at machines (default: this one); their agents stop it",
      usage: `pop ${kind} SERVICE [MACHINE]... [options]`,
      examples: adding ? ["pop deploy web", "pop deploy web web-1 web-2"] : ["pop undeploy web web-2"],
    },
    args: {
      service: { type: "positional", description: "The service" },
      machines: { type: "positional", rest: true, description: "Machine ids (default: this machine's)" },
      ...DEPLOY_ARGS,
    },
    async run({ args }) {
      const prog = `pop ${kind}`;
      const name = args.service as string;
      checkName(name, prog);
      const given = args.machines as string[];
      for (const m of given) if (!/^[A-Za-z0-9][\w.:-]*$/.test(m)) throw new UsageError(`${quote(m)} is not a machine id`, prog, { hint: false });
      // One-shot session: reads and one write need neither watches nor the full client (src/deploy/_zkwire.ts).
      return withOneShot(args, prog, { needMachineId: given.length === 0 }, async (d) => {
        const machines = given.length > 0 ? given : [d.opts.machineId];
        // The layout, the service and its target list in one round trip (ZooKeeper answers a session's requests in
        // order); then the compare-and-set, starting from the list just read.
        const [version, exists, targets] = await Promise.all([layoutVersion(d.zk, d.p), d.zk.exists(d.p.service(name)), d.zk.get(d.p.targets(name))]);
        checkLayout(version, d.p, d.opts, prog);
        if (!exists) throw missing(d, name, prog);
        await d.zk.update(
          d.p.targets(name),
          (current) => {
            const { machines: now, problem } = parseMachines(d.p.targets(name), current);
            if (problem) throw new ConfigError(`${problem.path}: ${problem.problem}; fix or rewrite the node first`);
            const next = adding ? [...new Set([...now, ...machines])] : now.filter((m) => !machines.includes(m));
            return next.length === now.length && next.every((m, i) => m === now[i]) ? undefined : JSON.stringify(next);
          },
          { node: targets },
        );
        out(`${adding ? "deployed" : "undeployed"} ${name} ${adding ? "to" : "from"} ${machines.join(", ")}`);
        return 0;
      });
    },
  };
}

/**
 * Setting names a type marks secret, masked in status; and any key that looks like a password, secret or token, at
 * any depth (an `env` setting's DB_PASSWORD too).
 */
function masked(settings: Record<string, unknown>, secret: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) out[k] = secret?.includes(k) || SECRET_KEY.test(k) ? "********" : maskDeep(v, 0);
  return out;
}

const SECRET_KEY = /password|passwd|secret|token/i;

function maskDeep(v: unknown, depth: number): unknown {
  if (!v || typeof v !== "object" || depth > 10) return v;
  if (Array.isArray(v)) return v.map((x) => maskDeep(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) ? "********" : maskDeep(x, depth + 1);
  return out;
}

/** The per-machine view of a service in status: target, pid, state, agent liveness. */
export interface MachineView {
  machine: string;
  targeted: boolean;
  agent: "live" | "gone";
  pid: number | undefined;
  state: unknown;
}

const status: Command = {
  meta: {
    name: "status",
    description: "Services: settings (secrets masked), target machines and, per machine, pid, state, restarts, last exit and error",
    usage: "pop status [SERVICE] [--json] [options]",
  },
  args: { service: { type: "positional", required: false, description: "One service (default: all)" }, ...JSON_ARG, ...DEPLOY_ARGS },
  async run({ args }) {
    const prog = "pop status";
    const hub = await serviceHub(args);
    try {
      return await withDeploy(
        args,
        prog,
        async (d) => {
          const names = args.service ? [args.service as string] : ((await d.zk.children(d.p.services)) ?? []).sort();
          const agents = new Set((await d.zk.children(d.p.agents)) ?? []);
          const views = [];
          for (const name of names) {
            const view = args.service ? await mustRead(d, name, prog) : await readService(d.zk, d.p, name);
            if (!view) continue;
            let secret: string[] | undefined;
            try {
              secret = view.type ? (serviceType(hub, view.type, prog).secret ?? []) : undefined;
            } catch {
              view.problems.push({ path: d.p.type(name), problem: `unknown service type ${quote(view.type ?? "")} here: add its plugin root with --plugins` });
            }
            const ids = [...new Set([...view.machines, ...Object.keys(view.states)])].sort();
            const machines: MachineView[] = [];
            for (const id of ids) {
              const pidNode = await d.zk.get(d.p.pid(id, name));
              const pid = pidNode && /^\d+$/.test(pidNode.data.trim()) ? Number(pidNode.data.trim()) : undefined;
              if (pidNode && pid === undefined) view.problems.push({ path: d.p.pid(id, name), problem: `not a PID: ${JSON.stringify(pidNode.data)}` });
              machines.push({ machine: id, targeted: view.machines.includes(id), agent: agents.has(id) ? "live" : "gone", pid, state: view.states[id] });
            }
            views.push({ name, type: view.type, settings: masked(view.settings, secret), machines, problems: view.problems });
          }
          if (args.json) outJson({ root: d.p.root, services: views });
          else out(views.length ? views.map(renderService).join("\n\n") : `no services at ${d.p.services}: add one with "pop add TYPE"`);
          return 0;
        },
        { needMachineId: false },
      );
    } finally {
      await (await import("../hub/index.ts")).closeHub(hub);
    }
  },
};

function renderService(v: {
  name: string;
  type: string | undefined;
  settings: Record<string, unknown>;
  machines: MachineView[];
  problems: Array<{ path: string; problem: string }>;
}): string {
  const lines = [`${v.name}  (type ${v.type ?? "?"})`, `  settings: ${JSON.stringify(v.settings)}`];
  if (v.machines.length === 0) lines.push("  machines: none (pop deploy NAME [MACHINE...])");
  for (const m of v.machines) {
    const st = (m.state ?? {}) as { state?: string; restarts?: number; lastExit?: unknown; lastError?: string };
    const bits = [
      m.targeted ? "targeted" : "not targeted",
      m.agent === "live" ? "agent live" : "no live agent",
      m.pid ? `pid ${m.pid}` : "not running",
      st.state ?? (m.state === undefined ? "no state" : "state?"),
    ];
    if (st.restarts) bits.push(`restarts ${st.restarts}`);
    if (st.lastExit) bits.push(`last exit ${JSON.stringify(st.lastExit)}`);
    if (st.lastError) bits.push(`last error: ${st.lastError}`);
    lines.push(`  ${m.machine}: ${bits.join(", ")}`);
  }
  for (const p of v.problems) lines.push(`  problem: ${p.path}: ${p.problem}`);
  return lines.join("\n");
}

const machines: Command = {
  meta: { name: "machines", description: "Every agent, live or gone, with what it runs", usage: "pop machines [--json] [options]" },
  args: { ...JSON_ARG, ...DEPLOY_ARGS },
  async run({ args }) {
    return withDeploy(
      args,
      "pop machines",
      async (d) => {
        const live = (await d.zk.children(d.p.agents)) ?? [];
        const known = (await d.zk.children(d.p.machines)) ?? [];
        const targeted = new Map<string, string[]>();
        for (const svc of (await d.zk.children(d.p.services)) ?? []) {
          const m = await d.zk.get(d.p.targets(svc));
          for (const id of parseMachines(d.p.targets(svc), m?.data).machines) targeted.set(id, [...(targeted.get(id) ?? []), svc]);
        }
        const ids = [...new Set([...live, ...known, ...targeted.keys()])].sort();
        const rows = [];
        for (const id of ids) {
          const agent = live.includes(id) ? await d.zk.get(d.p.agent(id)) : undefined;
          let info: unknown;
          try {
            info = agent ? JSON.parse(agent.data) : undefined;
          } catch {
            info = { problem: `${d.p.agent(id)} is not valid JSON` };
          }
          rows.push({
            machine: id,
            live: agent !== undefined,
            agent: info,
            running: ((await d.zk.children(d.p.machine(id))) ?? []).sort(),
            targeted: (targeted.get(id) ?? []).sort(),
          });
        }
        if (args.json) outJson({ root: d.p.root, machines: rows });
        else
          out(
            rows.length
              ? rows
                  .map((r) => {
                    const a = r.agent as { host?: string; pid?: number; version?: string; startedAt?: string } | undefined;
                    const who = r.live
                      ? `live (host ${a?.host ?? "?"}, agent pid ${a?.pid ?? "?"}, pop ${a?.version ?? "?"}, since ${a?.startedAt ?? "?"})`
                      : "gone (no live agent)";
                    return `${r.machine}: ${who}; runs ${r.running.join(", ") || "nothing"}; targeted by ${r.targeted.join(", ") || "nothing"}`;
                  })
                  .join("\n")
              : `no machines yet: start an agent with "pop start" (or "pop fg")`,
          );
        return 0;
      },
      { needMachineId: false },
    );
  },
};

export const COMMANDS: Record<string, Command> = {
  init,
  add,
  set,
  remove,
  deploy: targetCommand("deploy"),
  undeploy: targetCommand("undeploy"),
  status,
  machines,
};
