import { version as popVersion } from "../../package.json" with { type: "json" };
import { type Command, ownArgv, parseCommandArgs, UsageError } from "./_args.ts";
import { COMMANDS, EXIT, EXIT_HELP, GROUPS, loadCommand } from "./_commands.ts";
import { commandHelp } from "./_help.ts";
import { quote, UncaughtError } from "../errors.ts";
import { endExitTrap } from "../hub/_exit.ts";
import { ending, writing } from "./_callcore.ts";
import { configureFromEnv, configureOutput, keepStdoutForData, log, report } from "../output.ts";
import { errRaw, flushOutput, out, styles, useColor } from "./_output.ts";

/** pop's version, from package.json at build time. */
export const VERSION: string = popVersion;

/** What a command's dispatch comes to: an exit code, undefined (work left running: a server), or help to print. */
type Outcome = number | undefined | Help;

/** Help is a result, not an exception: printed on stdout (exit 0), or on stderr when it answers a mistake (exit 2). */
interface Help {
  help: string;
  code: number;
}

/**
 * Run the pop CLI with `argv` (without the executable); resolves to the exit code, or undefined when the command
 * leaves work running (a server). Errors become exit codes here and nowhere else: commands throw (PopErrors) or
 * return a code, and `report` (src/output.ts) prints each error once.
 */
export async function main(argv: string[]): Promise<number | undefined> {
  let code: number | undefined;
  try {
    const outcome = await dispatch(argv);
    code = typeof outcome === "object" ? showHelp(outcome) : outcome;
  } catch (e) {
    code = report(e);
  }
  try {
    await flushOutput();
  } catch (e) {
    code = report(e);
  }
  // A signal arrived, or an error no caller caught: its handler closes the hubs and exits; the command's own result is moot.
  if (stopping) await stopping;
  if (fatalRun) await fatalRun;
  return code;
}

function showHelp(h: Help): number {
  if (h.code === EXIT.ok) out(h.help);
  else errRaw(h.help);
  return h.code;
}

async function dispatch(argv: string[]): Promise<Outcome> {
  const first = argv[0];
  const entry = first !== undefined && Object.hasOwn(COMMANDS, first) ? COMMANDS[first]! : undefined;
  // Not a command: the version, help, or a usage error (kept out of this function: a compiled pop pays for every
  // byte of a function's bytecode on its first call, docs/benchmarks.md).
  if (!entry) return notACommand(argv);
  logEnv(); // a bad value is refused once a command runs; help and this line never need it
  let cmd = await loadCommand(first!);
  let path = `pop ${first}`;
  let rest = argv.slice(1);
  if (cmd.subCommands) [cmd, path, rest] = await subCommand(cmd, path, rest);
  if (wantsHelp(cmd, rest)) return { help: await commandHelp(cmd, path), code: EXIT.ok };
  return runCommand(cmd, rest, path, !entry.appOwnsStdout);
}

/** The first word is no command: `--version`, help, or a usage error naming what was given. */
function notACommand(argv: string[]): Outcome {
  const first = argv[0];
  if (first === "--version" || first === "-v" || first === "version") {
    out(argv.includes("--json") ? JSON.stringify({ version: VERSION, bun: Bun.version }) : VERSION);
    return EXIT.ok;
  }
  // No command is a usage error: help goes to stderr so stdout stays empty.
  if (first === undefined) return { help: topHelp(2), code: EXIT.usage };
  if (first === "--help" || first === "-h" || first === "help") return { help: topHelp(1), code: EXIT.ok };
  logEnv();
  if (argv.includes("--json")) configureOutput({ json: true }); // the usage error below is a JSON line too
  if (first.startsWith("-") && first !== "-")
    throw new UsageError(`unknown option ${quote(first)}; run "pop --help" for the commands and options`, "pop", { hint: false });
  throw new UsageError(`unknown command ${quote(first)}${suggestCommand(first)}; run "pop --help" for the list`, "pop", { hint: false });
}

/** Walk a command's subcommands (`pop config show`) along the words that follow it. */
async function subCommand(cmd: Command, path: string, rest: string[]): Promise<[Command, string, string[]]> {
  while (cmd.subCommands && rest[0] && !rest[0].startsWith("-")) {
    const next = Object.hasOwn(cmd.subCommands, rest[0]) ? cmd.subCommands[rest[0]] : undefined;
    if (!next) {
      if (rest.includes("--json")) configureOutput({ json: true }); // the usage error is a JSON line too
      throw new UsageError(`unknown command ${quote(`${path} ${rest[0]}`)}; run "${path} --help"`, path, { hint: false });
    }
    path = `${path} ${rest[0]}`;
    cmd = await next();
    rest = rest.slice(1);
  }
  return [cmd, path, rest];
}

/** POP_LOG_FORMAT and POP_LOG_LEVEL applied, when set; returns what is wrong with them. */
function logEnv(): string | undefined {
  return process.env.POP_LOG_FORMAT || process.env.POP_LOG_LEVEL ? configureFromEnv(process.env) : undefined;
}

/** POP_LOG_FORMAT and POP_LOG_LEVEL, over whatever the flags chose; a bad value is a usage error. */
function applyEnv(): void {
  const bad = logEnv();
  if (bad) throw new UsageError(bad, "pop");
}

/** Parse and run a command, then close its hubs. `popPrints`: pop prints the data, so under --json nothing else may. */
async function runCommand(cmd: Command, argv: string[], path: string, popPrints: boolean): Promise<number | undefined> {
  if (!cmd.run) {
    if (argv.includes("--json")) configureOutput({ json: true });
    throw new UsageError(`${quote(path)} needs a subcommand: ${Object.keys(cmd.subCommands ?? {}).join(", ")}`, path);
  }
  // --json: diagnostics become JSON lines and stdout carries only the data (a plugin's console.log goes to stderr).
  // Decided before parsing, so a usage error under --json is a JSON line too.
  const own = ownArgv(cmd, argv);
  const cut = own.indexOf("--");
  if (cmd.args.json?.type === "boolean" && (cut < 0 ? own : own.slice(0, cut)).includes("--json")) {
    configureOutput({ json: true });
    if (popPrints) keepStdoutForData();
  }
  applyEnv();
  const ctx = parseCommandArgs(cmd, argv, path);
  trapSignals();
  trapUncaught();
  let code: number | undefined;
  try {
    const ret = await cmd.run(ctx);
    code = typeof ret === "number" ? ret : undefined;
  } catch (e) {
    code = report(e);
  }
  // A one-shot command is done: its output written first (what a __shutdown__ hook prints comes after it, never
  // inside it), then its hubs closed (their __shutdown__ hooks run); a command that left work running (a server)
  // keeps them open until a signal. An error no caller caught (fatal) closes them itself, and exits.
  if (code !== undefined && !stopping && !fatalRun) {
    try {
      await flushOutput();
    } catch (e) {
      code = report(e);
    }
    code = await closeHubs(code);
  }
  return code;
}

/** Close every hub still open; a shutdown failure is reported and turns a success into exit 1. */
export async function closeHubs(code: number): Promise<number> {
  try {
    // Left by createHub: a command that made no hub has nothing to close, one whose hubs have no hook nothing to run.
    const hubs = (globalThis as Record<symbol, unknown>)[Symbol.for("pop.hubs")] as { closeOpenHubs(): Promise<void>; hubsNeedClosing(): boolean } | undefined;
    if (hubs?.hubsNeedClosing()) await hubs.closeOpenHubs();
    return code;
  } catch (e) {
    const failed = report(e);
    return code === EXIT.ok ? failed : code;
  }
}

/** Set once a SIGINT or SIGTERM arrived: the handler's work, which ends in process.exit. */
let stopping: Promise<never> | undefined;

/**
 * SIGINT and SIGTERM close every open hub (their __shutdown__ hooks run, failures reported) and exit 130 or 143
 * (EXIT_HELP); a second signal while closing exits at once.
 */
function trapSignals(): void {
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
}

/** A SIGINT or SIGTERM while a command runs (pop call's lean path traps them and calls this too). Returns the work that ends in process.exit. */
export function onSignal(signal: "SIGINT" | "SIGTERM"): Promise<never> {
  const code = signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
  endExitTrap(); // pop ends the process now, even while a plugin's call or load is running
  ending.now = true;
  if (stopping) process.exit(code);
  log.info(`${signal} received: closing the hub (send it again to stop at once)`);
  stopping = endWith(code, true);
  return stopping;
}

/**
 * pop ending on its own (a signal, an error no caller caught): every open hub closed (their __shutdown__ hooks run,
 * failures reported), the output written (the output module's and the lean path's result), then the exit.
 * `writeErrors`: a failed write is reported too.
 */
async function endWith(code: number, writeErrors: boolean): Promise<never> {
  try {
    const { closeOpenHubs } = await import("../hub/index.ts");
    await closeOpenHubs();
  } catch (e) {
    report(e);
  }
  try {
    await flushOutput();
    await writing.now;
  } catch (e) {
    if (writeErrors) report(e);
  }
  process.exit(code);
}

/**
 * An error thrown where no caller can catch it (a timer, a promise nobody awaits) while a command runs: one `pop:`
 * line naming the plugin's file and line, the hubs closed, exit 1 (not Bun's crash report, not an exit 0). A command
 * that traps these itself (pop app names its app; an isolated sub's child tells its host) is left to do so.
 */
function trapUncaught(): void {
  process.on("uncaughtException", uncaught);
  process.on("unhandledRejection", rejected);
}

function uncaught(e: unknown): void {
  if (process.listenerCount("uncaughtException") === 1) fatal(e);
}

function rejected(e: unknown): void {
  if (process.listenerCount("unhandledRejection") === 1) fatal(e);
}

/** fatal's work, which ends in process.exit: what main waits for once it has begun. */
let fatalRun: Promise<void> | undefined;

/** An uncaught error or unhandled rejection while a command runs: reported once, the hubs closed, exit 1 (pop call's lean path calls this too). */
export function fatal(e: unknown): void {
  if (fatalRun) return;
  endExitTrap();
  ending.now = true;
  const code = report(new UncaughtError(e));
  process.exitCode = code;
  setTimeout(() => {}, 60_000); // keeps the loop alive while the hubs' __shutdown__ hooks run before the exit
  fatalRun = endWith(code, false);
}

/** Print an error the CLI way and pick its exit code: the one funnel, src/output.ts `report` (kept for callers of the CLI's index). */
export function reportError(e: unknown, _path?: string): number {
  return report(e);
}

function wantsHelp(cmd: Command, argv: string[]): boolean {
  const own = ownArgv(cmd, argv);
  const cut = own.indexOf("--");
  const end = cut < 0 ? own.length : cut;
  // Loops, not Array.prototype.some: a JS builtin's first use costs a compiled pop tens of microseconds (docs/benchmarks.md).
  for (let i = 0; i < end; i++) if (own[i] === "--help" || own[i] === "-h") return true;
  return false;
}

/** What `pop --help` lists under "Environment:". */
const ENVIRONMENT: Array<[string, string]> = [
  ["POP_PLUGIN_PATH", "colon-separated plugin roots, before --plugins (a later root overrides an earlier one's modules)"],
  ["POP_DISABLE", "comma-separated refs to leave out, as --disable"],
  ["POP_LOAD_TIMEOUT", "milliseconds an import or __init__ may take, as --load-timeout (default 30000, 0 for none)"],
  ["POP_TRACE", "1 logs every hub call (ref, root and version, duration, outcome), as --trace"],
  ["POP_TOKEN", "the bearer token pop serve requires (as --token) and remote subs send (a conf.ts REMOTE entry may give its own)"],
  ["POP_LOG_FORMAT", "diagnostics as text, json (JSON lines) or auto (JSON lines when stderr is not a terminal); overrides --json's"],
  ["POP_LOG_LEVEL", "error, warn, info (default), debug or trace"],
  ["NO_COLOR", "any non-empty value turns colour off (so do TERM=dumb and FORCE_COLOR=0)"],
  ["POP_DEBUG", "any non-empty value adds stack traces to errors"],
];

function suggestCommand(name: string): string {
  const hit = Object.keys(COMMANDS).find((c) => COMMANDS[c]!.group !== "internal" && c.startsWith(name.slice(0, 2)));
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
  lines.push(
    s.bold("Options:"),
    "  --help, -h     Show help (also after a command: pop call --help)",
    "  --version, -v  Print the version (--json for JSON)",
    "  --json         On a command: data as JSON on stdout, diagnostics as JSON lines on stderr ({time, level, msg, code, exitCode, ...})",
    "",
  );
  lines.push(s.bold("Exit codes:"));
  for (const [code, text] of EXIT_HELP) lines.push(`  ${String(code).padEnd(3)}  ${text}`);
  lines.push("", s.bold("Environment:"));
  const width = Math.max(...ENVIRONMENT.map(([n]) => n.length));
  for (const [name, text] of ENVIRONMENT) lines.push(`  ${name.padEnd(width)}  ${text}`);
  return lines.join("\n");
}
