import { join } from "../_path.ts";
import { ConfigHelp } from "../config/index.ts";
import { state } from "../hub/index.ts";
import { type Command, UsageError } from "./_args.ts";
import { EXIT } from "./_commands.ts";
import { out } from "./_output.ts";
import { openProject } from "./_project.ts";

const PATH = "pop app";

/** `pop app DIR [ARGS]...`: the tutorial's run.py: a hub, the project's own sub, then its `cli(hub)` with ARGS as its command line. */
const app: Command = {
  meta: {
    name: "app",
    description: "Run a project: create a hub, add the project's own sub (its dyne name), call its cli(hub); ARGS go to the project's command line",
    usage: "pop app [--plugins DIR]... DIR [ARGS]...",
    examples: ["pop app examples/poppy --port 8080", "pop app examples/poppy --help"],
  },
  args: {
    dir: { type: "positional", description: "The project folder: conf.ts (CONFIG, CLI_CONFIG, DYNE) and its subs; DIR/<name>/init.ts exports cli(hub). ARGS after it go untouched to the project (pop app DIR --help lists them)" },
    plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Merge another project onto the hub (its subs and its config), before DIR" },
  },
  passThrough: true,
  async run({ args, rest }) {
    const dirArg = args.dir as string;
    const { hub, name } = await openProject(dirArg, args.plugins as string[], PATH);
    hub.pop.config.ARGV = rest;
    hub.pop.config.PROG = `${PATH} ${dirArg}`;
    const dirs = state(hub).dyne.get(name);
    if (!dirs) throw new UsageError(`project "${name}" (${dirArg}) has no sub "${name}": add DYNE = { ${name}: ["${name}"] } to its conf.ts, or a folder ${join(dirArg, name)}`, PATH, { hint: false });
    await hub.pop.sub.add({ dyneName: name });
    const failed = state(hub).failures.find((f) => f.ref === `${name}.init`);
    if (failed) throw failed;
    const cli = hub[name]?.init?.cli;
    if (typeof cli !== "function") {
      throw new UsageError(`${join(dirs[0]!, "init.ts")} does not export cli(hub): add \`export async function cli(hub: Hub) { await hub.pop.config.load(["${name}"], { cli: "${name}" }); ... }\``, PATH, { hint: false });
    }
    let code: unknown;
    try {
      code = await cli();
    } catch (e) {
      if (e instanceof ConfigHelp) {
        out(e.text);
        return EXIT.ok;
      }
      throw e;
    }
    // A number is the exit code; anything else lets the event loop run on (a server the app started keeps pop alive).
    return typeof code === "number" ? code : undefined;
  },
};

export default app;
