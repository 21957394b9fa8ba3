// `pop create`: the scaffolder's front door. Templates are plugins of a `create` sub (plugins/create, built in; a
// user's plugin root may add or override them); see docs/create.md.
import { type Command, UsageError } from "../cli/_args.ts";
import { HUB_ARGS } from "../cli/_hubargs.ts";
import { EXIT } from "../errors.ts";
import { out, outJson } from "../output.ts";
import { create, type CreateResult, PATH, projectRootFor, templateHub } from "./_create.ts";
import { formatList, listTemplates } from "./_list.ts";

export type { CreateContext, TemplateModule, TemplateOutput, TemplateTarget } from "./_types.ts";
export { create, type CreateRequest, type CreateResult } from "./_create.ts";

/** `pop create TEMPLATE NAME [--pattern P] [--dir D | --in PROJECT] [--dry-run] [--force] [--list] [--json]`. */
const command: Command = {
  meta: {
    name: "create",
    description: "Write a project, sub, plugin, contract or service type that runs and passes its tests at once (--list: the templates)",
    usage: "pop create TEMPLATE NAME [options]",
    examples: [
      "pop create project shop",
      "pop create sub store --pattern driver --in shop",
      "pop create plugin calc/stats --in shop",
      "pop create contract calc/money --in shop",
      "pop create service-type greeter --in shop",
      "pop create --list",
    ],
  },
  args: {
    template: {
      type: "positional",
      required: false,
      description: "The template: project, sub, plugin, contract, service-type, or one of a plugin root's (--list)",
    },
    name: { type: "positional", required: false, description: "What to create: NAME (an identifier), or SUB/NAME for plugin and contract" },
    pattern: { type: "string", valueHint: "PATTERN", description: "The sub's pattern: spine, library, router, driver, dispatch, map" },
    dir: { type: "string", valueHint: "DIR", description: "Where a new project goes (default: ./NAME)" },
    in: { type: "string", valueHint: "PROJECT", description: "The project to write into (default: the working directory)" },
    "dry-run": { type: "boolean", description: "List what would be written; write nothing" },
    force: { type: "boolean", description: "Replace files that exist (only the template's own files)" },
    list: { type: "boolean", description: "List the templates and where each comes from" },
    types: { type: "boolean", negatable: true, description: "Do not run pop types afterwards (run it, or pop test, before tsc)" },
    // The hub options that matter for loading templates (not the call-time ones: --isolate, --remote, --trace...).
    ...pick(HUB_ARGS, ["plugins", "disable", "strict", "packages", "load-timeout", "json"]),
  },
  async run({ args }) {
    if (args.list) {
      if (args.template !== undefined) throw new UsageError(`--list takes no TEMPLATE (got ${JSON.stringify(args.template)})`, PATH);
      const list = await listTemplates(await templateHub(args, projectRootFor({ in: args.in as string | undefined })));
      if (args.json) outJson(list);
      else out(formatList(list));
      return EXIT.ok;
    }
    if (args.template === undefined)
      throw new UsageError("missing argument TEMPLATE: e.g. pop create project shop (pop create --list shows the templates)", PATH);
    if (args.name === undefined)
      throw new UsageError(
        `missing argument NAME: e.g. pop create ${args.template} ${args.template === "plugin" || args.template === "contract" ? "calc/stats" : "shop"}`,
        PATH,
      );
    const result = await create({
      template: args.template as string,
      name: args.name as string,
      pattern: args.pattern as string | undefined,
      dir: args.dir as string | undefined,
      in: args.in as string | undefined,
      dryRun: Boolean(args["dry-run"]),
      force: Boolean(args.force),
      types: args.types !== false,
      hubArgs: args,
    });
    if (args.json) outJson(result);
    else out(format(result));
    return EXIT.ok;
  },
};

export default command;

function pick<T>(from: Record<string, T>, names: string[]): Record<string, T> {
  return Object.fromEntries(names.filter((n) => Object.hasOwn(from, n)).map((n) => [n, from[n]!]));
}

const NOTE: Record<string, string> = { create: "", replace: "  (replaced)", edit: "  (DYNE edited)" };

/** The result as text: the files (those `pop types` wrote as one `.pop/` line), notes, what is left to do, what to run next. */
function format(r: CreateResult): string {
  const own = r.files.filter((f) => f.action !== "types");
  const count = `${own.length} ${own.length === 1 ? "file" : "files"}`;
  const head = r.dryRun ? `would write ${count} in ${r.dir} (dry run: nothing written):` : `wrote ${count} in ${r.dir}:`;
  const lines = [head, ...own.map((f) => `  ${f.path}${NOTE[f.action]}`)];
  if (own.length < r.files.length) lines.push("  .pop/  (the hub's types: pop types)");
  lines.push(...r.notes);
  if (r.todo.length > 0) lines.push("to do by hand:", ...r.todo.map((t) => `  ${t}`));
  // What to run next works only once the hand edit is made.
  if (r.next.length > 0) lines.push(r.todo.length > 0 ? "next (after the edit by hand above):" : "next:", ...r.next.map((n) => `  ${n}`));
  return lines.join("\n");
}
