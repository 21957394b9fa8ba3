import type { Command } from "./_args.ts";

/** A top-level command, as help lists it; its code is loaded only when it runs (loadCommand), so `pop --version` imports nothing heavy. */
export interface Entry {
  group: "hub" | "config" | "create" | "deploy" | "internal";
  description: string;
  /** The command's own code (not pop) prints its data, so a plugin's console output stays on stdout even under --json. */
  appOwnsStdout?: boolean;
}

/** Every command, by tool. Names are fixed: scripts depend on them. */
export const COMMANDS: Record<string, Entry> = {
  tree: {
    group: "hub",
    description: "List every sub, module and function, the contracts applied and what failed to load",
  },
  call: { group: "hub", description: "Call one function by ref: pop call rpc.math.fib num=11" },
  app: {
    group: "config",
    description: "Run a project like the tutorial's run.py: pop app examples/poppy --port 8080",
    appOwnsStdout: true,
  },
  config: {
    group: "config",
    description: "A project's resolved config (show, --explain) or its config file's JSON Schema (schema)",
  },
  serve: {
    group: "hub",
    description: "Serve a sub's functions over HTTP: POST {ref, args|kwargs}, /health, /metrics (docs/serve.md)",
    // pop prints serve's data (the listening line): under --json a plugin's console output goes to stderr.
  },
  create: {
    group: "create",
    description: "Write a project, sub, plugin, contract or service type that runs and passes its tests at once",
  },
  types: {
    group: "create",
    description: "Write the .d.ts that types the hub of plugin roots for editors and tsc",
  },
  test: {
    group: "create",
    description: "Run a project's tests with the Bun inside pop, `pop` importable (testHub, mockHub)",
    appOwnsStdout: true,
  },
  // The deploy agent's commands (docs/deploy.md), each loaded from src/deploy only when run.
  init: { group: "deploy", description: "Create pop's layout in ZooKeeper (refuses to reset one without --force)" },
  add: { group: "deploy", description: "Add a service of a service type: pop add process --name web --set command=..." },
  set: { group: "deploy", description: "Change a service's settings (its machines restart, rolling)" },
  remove: { group: "deploy", description: "Remove a service (refused while deployed, unless --force)" },
  deploy: { group: "deploy", description: "Target a service at machines (default: this one)" },
  undeploy: { group: "deploy", description: "Stop targeting a service at machines" },
  status: { group: "deploy", description: "Services: settings, targets and, per machine, pid, state, restarts, errors" },
  machines: { group: "deploy", description: "Every agent, live or gone, with what it runs" },
  start: { group: "deploy", description: "Start this machine's agent as a daemon" },
  fg: { group: "deploy", description: "Run this machine's agent in the foreground (systemd, supervisord)" },
  stop: { group: "deploy", description: "Stop this machine's agent (and its services, unless --keep-services)" },
  run: { group: "deploy", description: "Run a task of a service's type on every machine running it" },
  logs: { group: "deploy", description: "A service's output on this machine" },
  // The other end of process isolation: this executable, started by a host hub, serving one isolated sub.
  "__isolate-child": {
    group: "internal",
    description: "Serve an isolated sub to the hub that started this process (not for direct use)",
    appOwnsStdout: true,
  },
};

/**
 * A command's code, imported when it runs. One function, not a closure per entry: building the table is on every
 * command's start-up path, and a compiled pop pays for each function and JS builtin it first runs (docs/benchmarks.md).
 */
export async function loadCommand(name: string): Promise<Command> {
  switch (name) {
    case "tree":
      return (await import("./tree.ts")).default;
    case "call":
      return (await import("./call.ts")).default;
    case "app":
      return (await import("./app.ts")).default;
    case "config":
      return (await import("./config.ts")).default;
    case "serve":
      return (await import("../serve/index.ts")).default;
    case "create":
      return (await import("../create/index.ts")).default;
    case "types":
      return (await import("../types/index.ts")).default;
    case "test":
      return (await import("../testing/index.ts")).default;
    case "__isolate-child":
      return (await import("../isolate/index.ts")).CHILD_COMMAND;
    // The target-state commands and the agent's are separate chunks: `pop deploy` never loads the agent or the supervisor.
    case "start":
    case "fg":
    case "stop":
    case "run":
    case "logs":
      return (await import("../deploy/_agentcmds.ts")).AGENT_COMMANDS[name]!;
    default:
      return (await import("../deploy/_commands.ts")).COMMANDS[name]!;
  }
}

export const GROUPS: Record<Exclude<Entry["group"], "internal">, string> = {
  hub: "Hub runtime",
  config: "Config integrator",
  create: "Authoring: scaffolder, editor types, tests",
  deploy: "Deploy agent (ZooKeeper)",
};

export { EXIT, EXIT_HELP } from "../errors.ts";
