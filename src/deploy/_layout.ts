// The ZooKeeper layout, a public interface (docs/deploy.md). Under a root (default /pop):
//
//   <root>                                  {"layout": 1, "created": ...}   written by `pop init`
//   <root>/machines/<machine-id>/<service>  PID (integer text)              ephemeral, the agent running it
//   <root>/services/<service>/machines      JSON list of machine ids        the target: where it should run
//   <root>/services/<service>/settings      JSON settings                   a change restarts the service
//   <root>/services/<service>/state/<id>    JSON state                      ephemeral, the agent on <id>
//   <root>/services/<service>/type          the service type's name
//   <root>/agents/<machine-id>              JSON { host, pid, version, startedAt }   ephemeral
//   <root>/tasks/<service>/task-<seq>       JSON { task, args, ... }        `pop run`; one child per machine: its result
//
// Anything another ZooKeeper client writes there is obeyed like pop's own commands; a node that is not valid JSON or
// not the right shape is reported (what is wrong, which node) and the other services carry on.
import type { Zk } from "./_types.ts";

export const LAYOUT_VERSION = 1;

/** Paths under one root. */
export function paths(root: string) {
  const r = root === "/" ? "" : root;
  return {
    root: root,
    machines: `${r}/machines`,
    machine: (id: string) => `${r}/machines/${id}`,
    pid: (id: string, svc: string) => `${r}/machines/${id}/${svc}`,
    services: `${r}/services`,
    service: (svc: string) => `${r}/services/${svc}`,
    targets: (svc: string) => `${r}/services/${svc}/machines`,
    settings: (svc: string) => `${r}/services/${svc}/settings`,
    type: (svc: string) => `${r}/services/${svc}/type`,
    states: (svc: string) => `${r}/services/${svc}/state`,
    state: (svc: string, id: string) => `${r}/services/${svc}/state/${id}`,
    agents: `${r}/agents`,
    agent: (id: string) => `${r}/agents/${id}`,
    tasks: `${r}/tasks`,
    serviceTasks: (svc: string) => `${r}/tasks/${svc}`,
  };
}

export type Paths = ReturnType<typeof paths>;

/** A service name: it is a ZooKeeper node name and a folder name. */
export const SERVICE_NAME = /^[A-Za-z][\w.-]{0,99}$/;

/** A problem with one node of the layout, reported in `status` for that service. */
export interface NodeProblem {
  path: string;
  problem: string;
}

/** Parse a node's JSON text, or say what is wrong with it. */
export function parseJson(path: string, text: string): { value: unknown } | { problem: NodeProblem } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { problem: { path, problem: `not valid JSON (${(e as Error).message}): ${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)}` } };
  }
}

/** The target machines list of a service: a JSON array of machine id strings. */
export function parseMachines(path: string, text: string | undefined): { machines: string[]; problem?: NodeProblem } {
  if (text === undefined || text === "") return { machines: [] };
  const j = parseJson(path, text);
  if ("problem" in j) return { machines: [], problem: j.problem };
  if (!Array.isArray(j.value) || j.value.some((m) => typeof m !== "string" || m === "")) {
    return { machines: [], problem: { path, problem: `must be a JSON list of machine ids, e.g. ["web-1"], got ${JSON.stringify(j.value)}` } };
  }
  return { machines: [...new Set(j.value as string[])] };
}

/** A service's settings node: a JSON object. */
export function parseSettings(path: string, text: string | undefined): { settings: Record<string, unknown>; problem?: NodeProblem } {
  if (text === undefined || text === "") return { settings: {} };
  const j = parseJson(path, text);
  if ("problem" in j) return { settings: {}, problem: j.problem };
  if (!j.value || typeof j.value !== "object" || Array.isArray(j.value)) {
    return { settings: {}, problem: { path, problem: `must be a JSON object of settings, got ${JSON.stringify(j.value)}` } };
  }
  return { settings: j.value as Record<string, unknown> };
}

/** Everything ZooKeeper says about one service (read, not watched). */
export interface ServiceView {
  name: string;
  type: string | undefined;
  settings: Record<string, unknown>;
  settingsVersion: number;
  machines: string[];
  machinesVersion: number;
  states: Record<string, unknown>;
  problems: NodeProblem[];
}

/** Read one service's nodes; a malformed node is a problem in the view, never a throw. Undefined when the service does not exist. */
export async function readService(zk: Zk, p: Paths, name: string): Promise<ServiceView | undefined> {
  const [type, settings, machines, stateNames] = await Promise.all([
    zk.get(p.type(name)),
    zk.get(p.settings(name)),
    zk.get(p.targets(name)),
    zk.children(p.states(name)),
  ]);
  if (!type && !settings && !machines && !stateNames && !(await zk.exists(p.service(name)))) return undefined;
  const problems: NodeProblem[] = [];
  const s = parseSettings(p.settings(name), settings?.data);
  if (s.problem) problems.push(s.problem);
  const m = parseMachines(p.targets(name), machines?.data);
  if (m.problem) problems.push(m.problem);
  if (!type || !type.data.trim())
    problems.push({
      path: p.type(name),
      problem: type ? "empty: name the service type (process, bun, static, or a plugin's)" : "missing: the service has no type",
    });
  const states: Record<string, unknown> = {};
  await Promise.all(
    (stateNames ?? []).map(async (id) => {
      const node = await zk.get(p.state(name, id));
      if (!node) return;
      const j = parseJson(p.state(name, id), node.data);
      if ("problem" in j) problems.push(j.problem);
      else states[id] = j.value;
    }),
  );
  return {
    name,
    type: type?.data.trim() || undefined,
    settings: s.settings,
    settingsVersion: settings?.version ?? -1,
    machines: m.machines,
    machinesVersion: machines?.version ?? -1,
    states,
    problems,
  };
}

/** The layout must exist (`pop init`); else an error saying so, naming the root. */
export async function layoutVersion(zk: Pick<Zk, "get">, p: Paths): Promise<number | undefined> {
  const node = await zk.get(p.root);
  if (!node) return undefined;
  const j = parseJson(p.root, node.data);
  if ("problem" in j) return 0;
  const v = (j.value as { layout?: unknown } | null)?.layout;
  return typeof v === "number" ? v : 0;
}
