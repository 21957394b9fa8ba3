import { formatJson, formatText, load } from "../config/index.ts";
import { hubRoots } from "../hub/index.ts";
import type { Command } from "./_args.ts";
import { configureOutput, keepStdoutForData } from "../output.ts";
import { EXIT } from "./_commands.ts";
import { LOAD_ARGS } from "./_hubargs.ts";
import { out, outJson } from "./_output.ts";
import { openProject } from "./_project.ts";

const PATH = "pop config show";
const OWN = new Set(["--explain", "--json"]);

/** `pop config show DIR [--explain] [--json] [ARGS]...`: what the project would run with, resolved from every source. */
const show: Command = {
  meta: {
    name: "show",
    description: "Print a project's resolved options (secrets hidden); ARGS are read as the project's command line",
    usage: "pop config show [--plugins DIR]... [--disable REF]... DIR [--explain] [--json] [ARGS]...",
    examples: [
      "pop config show examples/poppy",
      "pop config show examples/poppy --explain --port 8080",
      "POPPY_PORT=9000 pop config show examples/poppy --json",
    ],
  },
  args: {
    dir: { type: "positional", description: "The project folder (holding conf.ts)" },
    explain: { type: "boolean", description: "Say where each value came from: default, a config file key, an environment variable or a flag" },
    ...LOAD_ARGS,
    json: { type: "boolean", description: "Print JSON: { project: { option: value } }, with --explain { value, source, origin }" },
    plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Merge another project onto the hub; its options are shown too" },
  },
  passThrough: true,
  async run({ args, rest }) {
    // --explain and --json may also follow DIR (up to a "--", which goes on to the project with what follows it).
    const cut = rest.indexOf("--");
    const head = cut < 0 ? rest : rest.slice(0, cut);
    const explain = Boolean(args.explain) || head.includes("--explain");
    const json = Boolean(args.json) || head.includes("--json");
    // --json after DIR: diagnostics become JSON lines from here on, as with --json before DIR (runCommand's doing).
    if (json && !args.json) {
      configureOutput({ json: true });
      keepStdoutForData();
    }
    const argv = [...head.filter((a) => !OWN.has(a)), ...(cut < 0 ? [] : rest.slice(cut))];
    const dirArg = args.dir as string;
    const { hub, name, projects } = await openProject(dirArg, args, PATH, true);
    const result = await load({ roots: hubRoots(hub) }, projects, { cli: name, argv, prog: `${PATH} ${dirArg}` });
    // --help and --version are results too: the project's help (or version) instead of its options.
    if (result.help !== undefined || result.version !== undefined) {
      out((result.help ?? result.version)!);
      return EXIT.ok;
    }
    if (json) outJson(formatJson(result, explain));
    else out(formatText(result, explain));
    return EXIT.ok;
  },
};

export default show;
