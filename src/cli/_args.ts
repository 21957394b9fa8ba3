import type { CommandMeta, StringArgDef } from "citty";
import { quote, UsageError } from "../errors.ts";
import { closest } from "../_suggest.ts";

// pop's commands use citty's command model (meta, args, subCommands, run) and its argument types, extended
// with what pop needs; they are run by pop's own runner because citty's runMain exits 1 on usage errors,
// silently accepts unknown flags and keeps only the last of repeated ones.

/** One option or positional of a command: citty's argument definition plus `multiple` and `rest`. */
export interface ArgDef extends Omit<StringArgDef, "type" | "alias" | "default" | "description"> {
  type: "string" | "boolean" | "positional";
  description: string;
  alias?: string;
  /** Options only: repeatable, collected into an array. */
  multiple?: boolean;
  /** Positional only: collects every remaining positional. */
  rest?: boolean;
  /** Switches only: on unless `--no-<name>` is given; help shows `--no-<name>`. (`--no-<name>` turns any switch off.) */
  negatable?: boolean;
}

/** A command: citty's `defineCommand` shape, run by pop's own runner. */
export interface Command {
  meta: CommandMeta & { name: string; description: string; usage?: string; examples?: string[] };
  args: Record<string, ArgDef>;
  /** Stop parsing at the first positional after the declared ones: the rest goes untouched to `ctx.rest` (for `pop app`). */
  passThrough?: boolean;
  /** With passThrough: an option the command does not know also starts the rest (`pop test -t NAME` is bun test's -t). */
  passUnknown?: boolean;
  subCommands?: Record<string, () => Promise<Command>>;
  run?(ctx: RunContext): Promise<number | void> | number | void;
}

export interface RunContext {
  args: Record<string, any>;
  rest: string[];
  argv: string[];
}

export { UsageError };

/** Parse argv against a command's args; unknown options and missing values are usage errors. */
export function parseCommandArgs(cmd: Command, argv: string[], path: string): RunContext {
  const options = optionSpec(cmd);
  // Loops over the args, not Object.entries().filter(): every command parses on start-up, where each JS builtin's
  // first use costs a compiled pop tens of microseconds (docs/benchmarks.md).
  const positionals: Array<[string, ArgDef]> = [];
  for (const name in cmd.args) if (cmd.args[name]!.type === "positional") positionals.push([name, cmd.args[name]!]);
  let own = argv;
  let rest: string[] = [];
  if (cmd.passThrough) {
    const cut = passThroughIndex(argv, options, positionals.length, cmd.passUnknown);
    own = argv.slice(0, cut);
    rest = argv.slice(cut);
  }
  const parsed = scan(own, options, path);
  const args: Record<string, any> = { ...parsed.values };
  const pos = [...parsed.positionals];
  for (const [name, d] of positionals) {
    if (d.rest) {
      args[name] = pos.splice(0);
      continue;
    }
    const v = pos.shift();
    if (v === undefined && d.required !== false) throw new UsageError(`missing argument ${name.toUpperCase()}`, path);
    args[name] = v;
  }
  if (pos.length > 0) throw new UsageError(`unexpected argument ${quote(pos[0]!)}`, path);
  for (const name in cmd.args) if (cmd.args[name]!.multiple && args[name] === undefined) args[name] = [];
  return { args, rest, argv };
}

/** The part of argv that is the command's own: all of it, or for a pass-through command what comes before the rest. */
export function ownArgv(cmd: Command, argv: string[]): string[] {
  if (!cmd.passThrough) return argv;
  return argv.slice(0, passThroughIndex(argv, optionSpec(cmd), Object.values(cmd.args).filter((d) => d.type === "positional").length, cmd.passUnknown));
}

function optionSpec(cmd: Command): OptionSpec {
  const options: OptionSpec = {};
  for (const name in cmd.args) {
    const d = cmd.args[name]!;
    if (d.type === "positional") continue;
    // Plain assignments, not spreads: this runs for every option of every command, first thing.
    const o: OptionSpec[string] = { type: d.type };
    if (d.alias) o.short = d.alias;
    if (d.multiple) o.multiple = true;
    options[name] = o;
  }
  return options;
}

function passThroughIndex(argv: string[], options: Record<string, { type: string; short?: string }>, nPositional: number, passUnknown = false): number {
  let seen = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return i + 1;
    if (a.startsWith("-") && a !== "-") {
      const name = a.replace(/^-+/, "").split("=")[0]!;
      const def = (Object.hasOwn(options, name) ? options[name] : undefined) ?? Object.values(options).find((o) => o.short === name);
      if (!def && passUnknown && !(name.startsWith("no-") && options[name.slice(3)]?.type === "boolean") && name !== "help" && name !== "h") return i;
      if (!def) continue;
      if (def.type === "string" && !a.includes("=")) i++;
      continue;
    }
    seen++;
    if (seen === nPositional) return i + 1;
  }
  return argv.length;
}

/** `-` then a digit (`-1`, `-0.5`): a value, not an option. A char test, not a regex: the first regex a process runs costs a compiled pop ~0.15 ms. */
function negativeNumber(a: string): boolean {
  const c = a.charCodeAt(1);
  return a.charCodeAt(0) === 45 && c >= 48 && c <= 57;
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/**
 * Split argv into option values and positionals (strict: unknown options, missing values and a value option given
 * twice are usage errors; `--no-<switch>` sets a switch false). Not node:util's parseArgs: loading node:util costs
 * ~5 ms of start-up.
 */
function scan(argv: string[], options: OptionSpec, path: string): { values: Record<string, unknown>; positionals: string[] } {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const short = new Map<string, string>();
  for (const name in options) if (options[name]!.short) short.set(options[name]!.short!, name);
  const specOf = (name: string | undefined) => (name !== undefined && Object.hasOwn(options, name) ? options[name] : undefined);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-" || negativeNumber(a)) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const flag = eq > 0 ? a.slice(0, eq) : a;
    let name = flag.startsWith("--") ? flag.slice(2) : short.get(flag.slice(1));
    let spec = specOf(name);
    let negated = false;
    if (!spec && name?.startsWith("no-") && flag.startsWith("--") && specOf(name.slice(3))?.type === "boolean") {
      name = name.slice(3);
      spec = specOf(name);
      negated = true;
    }
    if (name === undefined || !spec) throw unknownOption(flag, options, path);
    let value: unknown;
    if (spec.type === "boolean") {
      if (eq > 0) throw new UsageError(`option ${quote(flag)} is a switch and takes no value`, path);
      value = !negated;
    } else if (eq > 0) {
      value = a.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && !negativeNumber(next)))
        throw new UsageError(`option ${quote(flag)} needs a value`, path);
      value = next;
      i++;
    }
    if (spec.multiple) ((values[name] ??= []) as unknown[]).push(value);
    else if (spec.type === "string" && Object.hasOwn(values, name))
      throw new UsageError(`option "--${name}" is given twice (${quote(String(values[name]))} and ${quote(String(value))}); give it once`, path);
    else values[name] = value;
  }
  return { values, positionals };
}

/** An option the command has not: said with the nearest it has (--plugin: did you mean --plugins?). Its own function: only a mistake runs it. */
function unknownOption(flag: string, options: Record<string, unknown>, path: string): UsageError {
  const near = flag.startsWith("--") && !flag.startsWith("--no-") ? closest(flag.slice(2), Object.keys(options)) : undefined;
  return new UsageError(`unknown option ${quote(flag)}${near ? `; did you mean "--${near}"?` : ""}`, path);
}
