import type { Command } from "./_args.ts";
import { styles, useColor } from "./_output.ts";

/** `pop <command> --help`: usage line, arguments, subcommands (each loaded for its description), options, examples. */
export async function commandHelp(cmd: Command, path: string): Promise<string> {
  const s = styles(useColor(1));
  const entries = Object.entries(cmd.args);
  const pos = entries.filter(([, d]) => d.type === "positional");
  const opts = entries.filter(([, d]) => d.type !== "positional");
  const usage =
    cmd.meta.usage ??
    [
      path,
      cmd.subCommands ? "COMMAND" : "",
      ...pos.map(([n, d]) => (d.rest ? `[${n.toUpperCase()}]...` : d.required === false ? `[${n.toUpperCase()}]` : n.toUpperCase())),
      opts.length ? "[options]" : "",
    ]
      .filter(Boolean)
      .join(" ");
  const lines = [cmd.meta.description, "", `${s.bold("Usage:")} ${usage}`];
  const rows: Array<[string, string]> = [];
  for (const [n, d] of pos) rows.push([n.toUpperCase(), d.description]);
  for (const [name, load] of Object.entries(cmd.subCommands ?? {})) rows.push([name, (await load()).meta.description]);
  for (const [n, d] of opts) {
    const flag = `${d.alias ? `-${d.alias}, ` : ""}--${d.negatable ? "no-" : ""}${n}${d.type === "string" ? ` ${d.valueHint ?? n.toUpperCase()}` : ""}`;
    rows.push([flag, d.description + (d.multiple ? " (repeatable)" : "")]);
  }
  if (rows.length) {
    lines.push("");
    const width = Math.max(...rows.map(([a]) => a.length));
    for (const [a, b] of rows) lines.push(`  ${s.cyan(a.padEnd(width))}  ${b}`);
  }
  if (cmd.meta.examples?.length) lines.push("", s.bold("Examples:"), ...cmd.meta.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}
