import type { Command } from "./_args.ts";

/** `pop config`: the config integrator's commands. */
const config: Command = {
  meta: {
    name: "config",
    description: "Show a project's resolved config (and each value's source) or the JSON Schema of its config file",
    examples: ["pop config show examples/poppy --explain", "pop config schema examples/poppy > poppy.schema.json"],
  },
  args: {},
  subCommands: {
    show: async () => (await import("./config-show.ts")).default,
    schema: async () => (await import("./config-schema.ts")).default,
  },
};

export default config;
