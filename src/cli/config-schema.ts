import { configSchema, definitions } from "../config/index.ts";
import { hubRoots } from "../hub/index.ts";
import type { Command } from "./_args.ts";
import { EXIT } from "./_commands.ts";
import { LOAD_ARGS } from "./_hubargs.ts";
import { outJson } from "./_output.ts";
import { openProject } from "./_project.ts";

const PATH = "pop config schema";

/** `pop config schema DIR`: the JSON Schema of the project's config file, for editors. */
const schema: Command = {
  meta: {
    name: "schema",
    description: "Print the JSON Schema of a project's config file (from zod), so editors validate and complete it",
    examples: ["pop config schema examples/poppy > poppy.schema.json"],
  },
  args: {
    dir: { type: "positional", description: "The project folder (holding conf.ts)" },
    ...LOAD_ARGS,
    plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Merge another project onto the hub; its options get a section in the schema" },
    json: { type: "boolean", description: "Accepted for scripts that pass --json everywhere: the schema is always JSON" },
  },
  async run({ args }) {
    const { hub, name, projects } = await openProject(args.dir as string, args, PATH, true);
    const defs = definitions({ roots: hubRoots(hub) }, projects, { cli: name });
    outJson(configSchema(defs.top, defs.projects));
    return EXIT.ok;
  },
};

export default schema;
