import pkg from "../../package.json" with { type: "json" };
import { type Command, parseCommandArgs, UsageError } from "./_args.ts";
import { COMMANDS, EXIT, EXIT_HELP, GROUPS } from "./_commands.ts";
import { commandHelp } from "./_help.ts";
import { report } from "../output.ts";
import { err, errRaw, flushOutput, out, styles, useColor } from "./_output.ts";

/** pop's version, from package.json at build time. */
export const VERSION: string = pkg.version;

/** Run the pop CLI with `argv` (without the executable); resolves to the exit code, or undefined when the command leaves work running (a server). */
export async function main(argv: string[]): Promise<number | undefined> {
  let code: number | undefined;
  try {
    code = await dispatch(argv);
  } catch (e) {
    code = report(e);
  }
  try {
    await flushOutput();
  } catch (e) {
    code = report(e);
  }
  return code;
}

async function dispatch(argv: string[]): Promise<number | undefined> {
  const first = argv[0];
  if (first === "--version" || first === "-v" || first === "version") {
    out(argv.includes("--json") ? JSON.stringify({ version: VERSION, bun: Bun.version }) : VERSION);
    return EXIT.ok;
  }
  if (first === undefined) {
    // No command is a usage error: help goes to stderr so stdout stays empty.
    errRaw(topHelp(2));
    return EXIT.usage;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    out(topHelp(1));
    return EXIT.ok;
  }
  const entry = COMMANDS[first];
  if (!entry) {
    err(`unknown command "${first}"${suggestCommand(first)}; run "pop --help" for the list`);
    return EXIT.usage;
  }
  let cmd = await entry.load();
  let path = `pop ${first}`;
  let rest = argv.slice(1);
  while (cmd.subCommands && rest[0] && !rest[0].startsWith("-")) {
    const next = cmd.subCommands[rest[0]];
    if (!next) {
      err(`unknown command "${path} ${rest[0]}"; run "${path} --help"`);
      return EXIT.usage;
    }
    path = `${path} ${rest[0]}`;
    cmd = await next();
    rest = rest.slice(1);
  }
  if (wantsHelp(cmd, rest)) {
    out(commandHelp(cmd, path));
    return EXIT.ok;
  }
  return runCommand(cmd, rest, path);
}

async function runCommand(cmd: Command, argv: string[], path: string): Promise<number | undefined> {
  try {
    if (!cmd.run) throw new UsageError(`"${path}" needs a subcommand: ${Object.keys(cmd.subCommands ?? {}).join(", ")}`, path);
    const ctx = parseCommandArgs(cmd, argv, path);
    const code = await cmd.run(ctx);
    return typeof code === "number" ? code : undefined;
  } catch (e) {
    return reportError(e, path);
  }
}

/** Print an error the CLI way and pick its exit code (the one funnel: src/output.ts `report`). */
export function reportError(e: unknown, _path?: string): number {
  return report(e);
}

function wantsHelp(cmd: Command, argv: string[]): boolean {
  const limit = cmd.passThrough ? argv.findIndex((a) => !a.startsWith("-")) : -1;
  const own = limit >= 0 ? argv.slice(0, limit) : argv;
  return own.includes("--help") || own.includes("-h");
}

function suggestCommand(name: string): string {
  const hit = Object.keys(COMMANDS).find((c) => c.startsWith(name.slice(0, 2)));
  return hit ? `; did you mean "${hit}"?` : "";
}

function topHelp(fd: 1 | 2): string {
  const s = styles(useColor(fd));
  const lines = [`${s.bold("pop")} ${VERSION}: Plugin Oriented Programming for TypeScript`, "", `${s.bold("Usage:")} pop <command> [options]`, ""];
  for (const [group, title] of Object.entries(GROUPS)) {
    const cmds = Object.entries(COMMANDS).filter(([, e]) => e.group === group);
    if (cmds.length === 0) continue;
    lines.push(s.bold(`${title}:`));
    const width = Math.max(...cmds.map(([n]) => n.length));
    for (const [name, e] of cmds) lines.push(`  ${s.cyan(name.padEnd(width))}  ${e.description}`);
    lines.push("");
  }
  lines.push(s.bold("Options:"), "  --help, -h     Show help (also after a command: pop call --help)", "  --version, -v  Print the version (--json for JSON)", "");
  lines.push(s.bold("Exit codes:"));
  for (const [code, text] of EXIT_HELP) lines.push(`  ${String(code).padEnd(3)}  ${text}`);
  lines.push("", "Environment: POP_PLUGIN_PATH (colon-separated plugin roots), POP_DISABLE (comma-separated refs), NO_COLOR, POP_DEBUG (stack traces)");
  return lines.join("\n");
}
