import type { Command } from "./_args.ts";

/** A top-level command: loaded only when run, so `pop --version` imports nothing heavy. */
export interface Entry {
  group: "hub" | "config";
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
};

export const GROUPS: Record<Entry["group"], string> = {
  hub: "Hub runtime",
  config: "Config integrator",
};

export { EXIT, EXIT_HELP } from "../errors.ts";
