import type { CliOption, Option, Project } from "./_definition.ts";
import { allowed } from "./_cli.ts";
import { envName } from "./_definition.ts";
import { show } from "./_resolve.ts";
import { EXTENSIONS_TEXT } from "./_filefind.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../output.ts";

/** What the help of one project's command line is made from. */
export interface HelpInput {
  prog: string;
  cli: Project;
  options: CliOption[];
  /** Every loaded project, for the settings only files and the environment set. */
  projects: Project[];
  /** The subcommand given before --help: its own usage, arguments and options only. */
  subcommand?: string | undefined;
}

/** `--help` from the definition: each option with its flags, environment variable, default and help; `group`s under their own headings. */
export function renderHelp(h: HelpInput): string {
  const byPriority = (a: CliOption, b: CliOption) => a.priority - b.priority;
  const sub = h.subcommand;
  // `prog run --help`: what `run` takes; `prog --help`: what every command line takes, each subcommand's noted.
  const shown = sub === undefined ? h.options : h.options.filter((o) => allowed(o, sub));
  const flagged = shown.filter((o) => !o.positional).sort(byPriority);
  const positional = shown.filter((o) => o.positional);
  const subs = sub === undefined ? [...h.cli.subcommands] : [];
  // The usage line holds the arguments every command line takes; a subcommand's own are in its usage.
  const usageArgs = sub === undefined ? positional.filter((o) => allowed(o, undefined)) : positional;
  const usage = [h.prog, ...(sub === undefined ? [] : [sub]), "[options]", ...(subs.length ? ["[SUBCOMMAND]"] : []), ...usageArgs.map(posUsage)];
  if (subs.length && usageArgs.length < positional.length) usage.push("...");
  const lines = [`Usage: ${usage.join(" ")}`];
  if (sub !== undefined) lines.push("", h.cli.subcommands.get(sub) ?? "");
  if (subs.length)
    section(
      lines,
      "Subcommands:",
      subs.map(([name, help]) => [name, help]),
    );
  if (subs.length) lines.push(`  (${h.prog} SUBCOMMAND --help: what one takes)`);
  if (positional.length)
    section(
      lines,
      "Arguments:",
      positional.map((o) => [posUsage(o), describe(o.option, o)]),
    );
  // Groups in the order of their first option (flagged is sorted by display_priority). "Options:" (the ungrouped
  // options, and pop's own flags) comes first, unless a group's option has a display_priority lower than every
  // ungrouped option's: that group comes before it.
  const byGroup = new Map<string, { first: number; rows: Array<[string, string]> }>();
  for (const o of flagged) {
    const g = o.group ?? "";
    if (!byGroup.has(g)) byGroup.set(g, { first: o.priority, rows: [] });
    byGroup.get(g)!.rows.push([flagText(o), describe(o.option, o)]);
  }
  const ungrouped = byGroup.get("")?.first ?? Number.POSITIVE_INFINITY;
  const groups = new Map<string, Array<[string, string]>>();
  for (const [g, v] of byGroup) if (g !== "" && v.first < ungrouped) groups.set(g, v.rows);
  groups.set("", byGroup.get("")?.rows ?? []);
  for (const [g, v] of byGroup) if (!groups.has(g)) groups.set(g, v.rows);
  const name = h.cli.name;
  groups
    .get("")!
    .push(
      [`--config FILE`, `Read options from FILE instead of ${name}.config.* (env ${envName(name, "config")})`],
      ["--version", `Print ${name}'s version and exit`],
      ["-h, --help", "Show this help"],
    );
  // pop's logging flags join a group of the app's own called "Logging", else get that heading of their own.
  const logging: Array<[string, string]> = [
    ["--log-level LEVEL", `Report diagnostics at LEVEL and above: ${LOG_LEVELS.join(", ")} (env ${envName(name, "log_level")}; default "info")`],
    ["--log-file FILE", `Also append diagnostics to FILE (env ${envName(name, "log_file")})`],
    [
      "--log-fmt FORMAT",
      `Diagnostics as ${LOG_FORMATS.join(", ")} (JSON lines when stderr is not a terminal) (env ${envName(name, "log_fmt")}; default "text")`,
    ],
  ];
  const own = groups.get("Logging");
  if (own) own.push(...logging);
  for (const [g, rows] of groups) section(lines, g === "" ? "Options:" : `${g}:`, rows);
  if (!own) section(lines, "Logging:", logging);
  const onCli = new Set(h.options.map((o) => o.option));
  const settings: Array<[string, string]> = [];
  for (const p of h.projects) {
    for (const o of p.options.values()) if (!onCli.has(o)) settings.push([p.name === h.cli.name ? o.name : `${p.name}.${o.name}`, describe(o, undefined)]);
  }
  if (settings.length) section(lines, "Settings (config file or environment only):", settings);
  lines.push(
    "",
    `Config files (in the working directory): ${name}.config.${EXTENSIONS_TEXT}, .${name}rc`,
    "Precedence: default < config file < environment < command line",
  );
  return lines.join("\n");
}

function section(lines: string[], title: string, rows: Array<[string, string]>): void {
  const width = Math.max(...rows.map(([a]) => a.length));
  lines.push("", title, ...rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`.trimEnd()));
}

function flagText(o: CliOption): string {
  const flags = [...o.flags].sort((a, b) => (a.startsWith("--") === b.startsWith("--") ? 0 : a.startsWith("--") ? 1 : -1)).join(", ");
  if (o.action === "store_true" || o.action === "store_false" || o.action === "count") return flags;
  const meta = o.option.choices ? `{${o.option.choices.join(",")}}` : o.metavar;
  const n = o.nargs;
  const value = n === undefined ? meta : typeof n === "number" ? Array(n).fill(meta).join(" ") : n === "+" ? `${meta} [${meta}...]` : `[${meta}...]`;
  return `${flags} ${value}`;
}

function posUsage(o: CliOption): string {
  const n = o.nargs;
  const m = o.metavar;
  if (n === "?" || (n === undefined && o.option.default !== undefined)) return `[${m}]`;
  if (n === "*") return `[${m}...]`;
  if (n === "+") return `${m}...`;
  if (typeof n === "number" && n > 1) return Array(n).fill(m).join(" ");
  return m;
}

function describe(o: Option, c: CliOption | undefined): string {
  const notes: string[] = [];
  if (c?.action === "count") {
    const short = c.flags.find((f) => !f.startsWith("--"));
    notes.push(short ? `counts: ${short}${short.slice(1)} is 2` : `counts: ${c.flags[0]} twice is 2`);
  } else if (c?.action === "append") notes.push("repeatable");
  // A switch that is on by default is only useful off: say how (--no-<name> is accepted for every switch).
  else if (c && !c.positional && ((c.action === "store_true" && o.default === true) || (c.action === "store_false" && o.default === false))) {
    const long = c.flags.find((f) => f.startsWith("--"));
    if (long) notes.push(`${c.action === "store_true" ? "off" : "on"} with --no-${long.slice(2)}`);
  }
  if (c?.subcommands && !c.subcommands.includes("_global_")) notes.push(`subcommand ${c.subcommands.join(", ")}`);
  if (o.env.length) notes.push(`env ${o.env.join(", ")}`);
  if (o.secret) notes.push("default hidden");
  else if (o.default !== undefined && o.default !== null) notes.push(`default ${show(o.default)}`);
  return `${o.help}${notes.length ? ` (${notes.join("; ")})` : ""}`;
}
