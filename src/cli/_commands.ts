import type { Command } from "./_args.ts";

/** A top-level command: loaded only when run, so `pop --version` imports nothing heavy. */
export interface Entry {
  group: "hub" | "config" | "create" | "deploy" | "internal";
  description: string;
  load: () => Promise<Command>;
  /** The command's own code (not pop) prints its data, so a plugin's console output stays on stdout even under --json. */
  appOwnsStdout?: boolean;
}

/** Every command, by tool. Names are fixed: scripts depend on them. */
export const COMMANDS: Record<string, Entry> = {
  tree: {
    group: "hub",
    description: "List every sub, module and function, the contracts applied and what failed to load",
    load: async () => (await import("./tree.ts")).default,
  },
  call: { group: "hub", description: "Call one function by ref: pop call rpc.math.fib num=11", load: async () => (await import("./call.ts")).default },
  app: {
    group: "config",
    description: "Run a project like the tutorial's run.py: pop app examples/poppy --port 8080",
    load: async () => (await import("./app.ts")).default,
    appOwnsStdout: true,
  },
  config: {
    group: "config",
    description: "A project's resolved config (show, --explain) or its config file's JSON Schema (schema)",
    load: async () => (await import("./config.ts")).default,
  },
  serve: {
    group: "hub",
    description: "Serve a sub's functions over HTTP: POST {ref, args|kwargs}, /health, /metrics (docs/serve.md)",
    // pop prints serve's data (the listening line): under --json a plugin's console output goes to stderr.
    load: async () => (await import("../serve/index.ts")).default,
  },
  create: {
    group: "create",
    description: "Write a project, sub, plugin, contract or service type that runs and passes its tests at once",
    load: async () => (await import("../create/index.ts")).default,
  },
  types: {
    group: "create",
    description: "Write the .d.ts that types the hub of plugin roots for editors and tsc",
    load: async () => (await import("../types/index.ts")).default,
  },
  test: {
    group: "create",
    description: "Run a project's tests with the Bun inside pop, `pop` importable (testHub, mockHub)",
    load: async () => (await import("../testing/index.ts")).default,
    appOwnsStdout: true,
  },
  ...deployCommands(),
  // The other end of process isolation: this executable, started by a host hub, serving one isolated sub.
  "__isolate-child": {
    group: "internal",
    description: "Serve an isolated sub to the hub that started this process (not for direct use)",
    load: async () => (await import("../isolate/index.ts")).CHILD_COMMAND,
    appOwnsStdout: true,
  },
};

/** The deploy agent's commands (docs/deploy.md), each loaded from src/deploy only when run. */
function deployCommands(): Record<string, Entry> {
  // The target-state commands and the agent's are separate chunks: `pop deploy` never loads the agent or the supervisor.
  const AGENT = new Set(["start", "fg", "stop", "run", "logs"]);
  const d = (name: string, description: string): [string, Entry] => [
    name,
    {
      group: "deploy",
      description,
      load: async () =>
        AGENT.has(name) ? (await import("../deploy/_agentcmds.ts")).AGENT_COMMANDS[name]! : (await import("../deploy/_commands.ts")).COMMANDS[name]!,
    },
  ];
  return Object.fromEntries([
    d("init", "Create pop's layout in ZooKeeper (refuses to reset one without --force)"),
    d("add", "Add a service of a service type: pop add process --name web --set command=..."),
    d("set", "Change a service's settings (its machines restart, rolling)"),
    d("remove", "Remove a service (refused while deployed, unless --force)"),
    d("deploy", "Target a service at machines (default: this one)"),
    d("undeploy", "Stop targeting a service at machines"),
    d("status", "Services: settings, targets and, per machine, pid, state, restarts, errors"),
    d("machines", "Every agent, live or gone, with what it runs"),
    d("start", "Start this machine's agent as a daemon"),
    d("fg", "Run this machine's agent in the foreground (systemd, supervisord)"),
    d("stop", "Stop this machine's agent (and its services, unless --keep-services)"),
    d("run", "Run a task of a service's type on every machine running it"),
    d("logs", "A service's output on this machine"),
  ]);
}

export const GROUPS: Record<Exclude<Entry["group"], "internal">, string> = {
  hub: "Hub runtime",
  config: "Config integrator",
  create: "Authoring: scaffolder, editor types, tests",
  deploy: "Deploy agent (ZooKeeper)",
};

export { EXIT, EXIT_HELP } from "../errors.ts";
