import type { CliOption, Option, Project } from "./_definition.ts";
import { ConfigError } from "./_errors.ts";
import { didYouMean } from "../_suggest.ts";

/** One value the command line set, and the flag (or argument) that set it. */
export interface CliValue {
  value: unknown;
  flag: string;
}

/** What a project's command line said. */
export interface CliParse {
  values: Map<Option, CliValue>;
  help: boolean;
  /** `--config FILE`. */
  config: { file: string; flag: string } | undefined;
  /** `--version`. */
  version: boolean;
  /** `--log-level`, `--log-file`, `--log-fmt`: pop's logging options, by name. */
  log: Map<LogOption, { value: string; flag: string }>;
  subcommand: string | undefined;
}

/** pop's logging options on every project's command line. */
export type LogOption = "log_level" | "log_file" | "log_fmt";
const LOG_FLAGS = new Map<string, LogOption>([
  ["--log-level", "log_level"],
  ["--log-file", "log_file"],
  ["--log-fmt", "log_fmt"],
]);

// Why not citty's parser: it accepts unknown flags silently, has no count/append, and does not say which flag set a value.
/** `--debug=false`: the switch's own way to say no. */
function switchHint(flag: string, value: string): string {
  return /^(false|0|no|off)$/i.test(value) && flag.startsWith("--") && !flag.startsWith("--no-") ? `; to turn it off, give --no-${flag.slice(2)}` : "";
}

/** A flag naming an option that is set in config files or the environment only (no CLI_CONFIG entry): say where it is set. */
function notOnCli(flag: string, project: Project): string {
  const name = flag.replace(/^--(no-)?/, "").replace(/-/g, "_");
  const o = project.options.get(name) ?? project.options.get(flag.replace(/^--(no-)?/, ""));
  return o ? `; "${o.name}" is set in ${project.name}'s config file or the environment (${o.env.join(", ") || "no variable"}), not on the command line` : "";
}

/** Parse a project's command line strictly: unknown flags, missing values and stray arguments are ConfigErrors. */
export function parseCli(argv: readonly string[], opts: CliOption[], project: Project, prog: string): CliParse {
  const usage = (m: string) => new ConfigError(`${m}\nrun "${prog} --help" for the options`);
  const byFlag = new Map<string, CliOption>();
  for (const o of opts) for (const f of [...o.flags, ...o.hidden]) byFlag.set(f, o);
  const known = [...byFlag.keys(), "--config", "--help", "--version", ...LOG_FLAGS.keys()];
  const values = new Map<Option, CliValue>();
  const used: Array<[CliOption, string]> = [];
  const positionals: string[] = [];
  const out: CliParse = { values, help: false, config: undefined, version: false, log: new Map(), subcommand: undefined };
  let i = 0;
  let only = false;

  const take = (flag: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const next = argv[i];
    if (next === undefined || isFlag(next)) throw usage(`option ${flag} needs a value`);
    i++;
    return next;
  };
  const takeMany = (o: CliOption, flag: string, inline: string | undefined): string[] => {
    const n = o.nargs;
    if (typeof n === "number") {
      const got = [take(flag, inline)];
      while (got.length < n) got.push(take(flag, undefined));
      return got;
    }
    const got = inline !== undefined ? [inline] : [];
    while (i < argv.length && !isFlag(argv[i]!)) got.push(argv[i++]!);
    if (n === "+" && got.length === 0) throw usage(`option ${flag} needs at least one value`);
    return got;
  };
  const apply = (o: CliOption, flag: string, inline: string | undefined) => {
    used.push([o, flag]);
    const prev = values.get(o.option)?.value;
    switch (o.action) {
      case "store_true":
      case "store_false":
        if (inline !== undefined) throw usage(`option ${flag} is a switch and takes no value${switchHint(flag, inline)}`);
        values.set(o.option, { value: o.action === "store_true", flag });
        return;
      case "count":
        if (inline !== undefined) throw usage(`option ${flag} counts how often it is given and takes no value`);
        values.set(o.option, { value: (typeof prev === "number" ? prev : 0) + 1, flag });
        return;
      case "append": {
        const got = o.nargs === undefined ? [take(flag, inline)] : takeMany(o, flag, inline);
        values.set(o.option, { value: [...(Array.isArray(prev) ? prev : []), ...got], flag });
        return;
      }
      default:
        values.set(o.option, { value: o.nargs === undefined ? take(flag, inline) : takeMany(o, flag, inline), flag });
    }
  };

  while (i < argv.length) {
    const a = argv[i++]!;
    if (only || !isFlag(a)) {
      if (!only && out.subcommand === undefined && project.subcommands.size > 0 && positionals.length === 0) {
        if (!project.subcommands.has(a))
          throw usage(`unknown subcommand "${a}"${didYouMean(a, project.subcommands.keys())} (choose from ${[...project.subcommands.keys()].join(", ")})`);
        out.subcommand = a;
      } else {
        positionals.push(a);
      }
      continue;
    }
    if (a === "--") {
      only = true;
      continue;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const flag = eq < 0 ? a : a.slice(0, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      if (flag === "--help") {
        out.help = true;
        continue;
      }
      if (flag === "--config") {
        out.config = { file: take(flag, inline), flag };
        continue;
      }
      if (flag === "--version") {
        if (inline !== undefined) throw usage(`option ${flag} is a switch and takes no value`);
        out.version = true;
        continue;
      }
      const logOption = LOG_FLAGS.get(flag);
      if (logOption) {
        out.log.set(logOption, { value: take(flag, inline), flag });
        continue;
      }
      const o = byFlag.get(flag);
      if (o) {
        apply(o, flag, inline);
        continue;
      }
      const negated = flag.startsWith("--no-") ? byFlag.get(`--${flag.slice(5)}`) : undefined;
      if (negated && (negated.action === "store_true" || negated.action === "store_false")) {
        if (inline !== undefined) throw usage(`option ${flag} is a switch and takes no value`);
        used.push([negated, flag]);
        // The opposite of the switch: --no-quiet on a store_false --quiet is true.
        values.set(negated.option, { value: negated.action === "store_false", flag });
        continue;
      }
      throw usage(`unknown option "${flag}"${didYouMean(flag, known) || notOnCli(flag, project)}`);
    }
    for (let j = 1; j < a.length; j++) {
      const flag = `-${a[j]}`;
      if (flag === "-h") {
        out.help = true;
        continue;
      }
      const o = byFlag.get(flag);
      if (!o) throw usage(`unknown option "${flag}"${a.length > 2 ? ` in "${a}"` : ""}`);
      if (o.action === "store_true" || o.action === "store_false" || o.action === "count") {
        apply(o, flag, undefined);
        continue;
      }
      const rest = a.slice(j + 1).replace(/^=/, "");
      apply(o, flag, rest === "" ? undefined : rest);
      break;
    }
  }
  if (out.help || out.version) return out;

  for (const [o, flag] of used) {
    if (!allowed(o, out.subcommand))
      throw usage(
        `option ${flag} belongs to subcommand ${o.subcommands!.map((s) => `"${s}"`).join(" or ")}${out.subcommand ? `, not "${out.subcommand}"` : ""}`,
      );
  }
  assignPositionals(
    positionals,
    opts.filter((o) => o.positional && allowed(o, out.subcommand)),
    values,
    usage,
  );
  return out;
}

/** Whether option `o` may be given with subcommand `sub` (or with none). */
export function allowed(o: CliOption, sub: string | undefined): boolean {
  return o.subcommands === undefined || o.subcommands.includes("_global_") || (sub !== undefined && o.subcommands.includes(sub));
}

function isFlag(s: string): boolean {
  return s.startsWith("-") && s !== "-" && !/^-\d/.test(s);
}

function minNeed(o: CliOption): number {
  if (o.nargs === undefined) return o.option.default === undefined ? 1 : 0;
  return typeof o.nargs === "number" ? o.nargs : o.nargs === "+" ? 1 : 0;
}

/** Hand positionals out in CLI_CONFIG order; "*" and "+" take what the later ones do not need. */
function assignPositionals(pos: string[], opts: CliOption[], values: Map<Option, CliValue>, usage: (m: string) => Error): void {
  let k = 0;
  for (let idx = 0; idx < opts.length; idx++) {
    const o = opts[idx]!;
    const later = opts.slice(idx + 1).reduce((n, x) => n + minNeed(x), 0);
    const avail = pos.length - k - later;
    const need = minNeed(o);
    if (avail < need) throw usage(`missing argument ${o.metavar}${need > 1 ? ` (needs ${need} values)` : ""}`);
    let got: string[];
    if (o.nargs === undefined || o.nargs === "?") got = avail > 0 ? [pos[k]!] : [];
    else if (typeof o.nargs === "number") got = pos.slice(k, k + o.nargs);
    else got = pos.slice(k, k + avail);
    k += got.length;
    if (got.length === 0) continue;
    const value = o.nargs === undefined || o.nargs === "?" ? got[0] : got;
    values.set(o.option, { value: o.action === "append" ? [value].flat() : value, flag: `argument ${o.metavar}` });
  }
  if (k < pos.length) throw usage(`unexpected argument "${pos[k]}"`);
}
