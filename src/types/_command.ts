import { isAbsolute, relative } from "../_path.ts";
import { type Command, UsageError } from "../cli/_args.ts";
import { out, outJson } from "../cli/_output.ts";
import { EXIT, quote } from "../errors.ts";
import { isProject } from "./_project.ts";
import { writeTypes } from "./_write.ts";

const PATH = "pop types";

/** `pop types [DIR] [--plugins DIR]... [--out FILE]`: the hub's declarations for editors and tsc. */
export const command: Command = {
  meta: {
    name: "types",
    description:
      "Write the .d.ts files that type the hub of a project's plugin roots (hub.rpc.math.fib(…) checked by editors and tsc) and the pop module, into DIR/.pop/",
    usage: "pop types [DIR] [--plugins DIR]... [--out FILE] [--json]",
    examples: ["pop types examples/poppy", "pop types --plugins examples/guide --out types/hub.d.ts"],
  },
  args: {
    dir: {
      type: "positional",
      required: false,
      description:
        'The project folder (a plugin root: its conf.ts DYNE and CONFIG); default: the working directory when it is a project (a conf.ts, a pop.json or a package.json with a "pop" field), unless --plugins names the roots',
    },
    plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Another plugin root, merged after DIR (app merging)" },
    out: {
      type: "string",
      valueHint: "FILE",
      description:
        "Write the hub's declarations to FILE, a .d.ts (or .ts, .mts, .cts) file (and the pop module's to pop.d.ts beside it) instead of DIR/.pop/hub.d.ts",
    },
    packages: { type: "boolean", negatable: true, description: 'Do not discover plugin roots from package.json dependencies (a "pop" field)' },
    "bun-types": {
      type: "boolean",
      negatable: true,
      description: "Do not link Bun's own types (bun-types, @types/node) as .pop/node_modules (left out anyway when the project's node_modules has bun-types)",
    },
    json: { type: "boolean", description: "Print what was written as JSON: { files, changed, roots }" },
  },
  async run({ args }) {
    const plugins = (args.plugins ?? []) as string[];
    const dirArg = args.dir as string | undefined;
    if (dirArg === "") throw new UsageError('DIR is empty: pass a project folder, e.g. "pop types ."', PATH);
    // Run with nothing named in a folder that is no project (a home folder, a checkout's root), pop types would type
    // each sub-folder as a sub and leave .pop/ there: the working directory is typed by default only when it is one.
    if (dirArg === undefined && plugins.length === 0 && !isProject(".")) {
      throw new UsageError(
        `the working directory ${quote(process.cwd())} is not a pop project: a project folder has a conf.ts, a pop.json or a package.json with a "pop" field; name the plugin root to type (pop types DIR, or pop types . for this folder) or its roots (--plugins DIR)`,
        PATH,
      );
    }
    const result = await writeTypes({
      dir: dirArg ?? ".",
      plugins,
      ...(args.out ? { out: args.out as string } : {}),
      noRoot: dirArg === undefined && plugins.length > 0,
      packages: args.packages !== false,
      ...(args["bun-types"] === false ? { bunTypes: false } : {}),
    });
    const view = { files: result.files.map(rel), changed: result.changed.map(rel), roots: result.roots.map(rel) };
    if (args.json) outJson(view);
    else out(view.files.join("\n")); // the same lines whether or not a file changed (--json says which did)
    return EXIT.ok;
  },
};

/** A path relative to the working directory when it lies inside it. */
function rel(path: string): string {
  const r = relative(process.cwd(), path);
  return r === "" ? "." : !r.startsWith("..") && !isAbsolute(r) ? r : path;
}
