import type { $ZodType } from "zod/v4/core";
import { ConfigError } from "./_errors.ts";
import { displayPath } from "./_paths.ts";
import { lazySchema } from "./_schema.ts";
import { didYouMean } from "../_suggest.ts";
import type { CliOptionDef, ConfModule, OptionDef } from "./_types.ts";

/** One option, normalised: where it lands, its schema, its environment names. */
export interface Option {
  project: string;
  name: string;
  help: string;
  default: unknown;
  /** Its zod schema (built on first read). */
  readonly schema: $ZodType;
  /** Its default is valid by construction (the schema is inferred from it): no check needed. */
  trustsDefault: boolean;
  /** A plain string option: any string value is valid as it is (no coercion, no check). */
  trustsString: boolean;
  /** A boolean option: a switch on the command line. */
  boolean: boolean;
  env: string[];
  secret: boolean;
  /** The conf.ts that defines it, for messages. */
  confFile: string | undefined;
  choices: readonly unknown[] | undefined;
}

/** What a flag does with its value (argparse's actions). */
export type Action = "store" | "store_true" | "store_false" | "count" | "append";

/** An option as the command line takes it. */
export interface CliOption {
  option: Option;
  /** Flags shown in help, long first: ["--port", "-p"]. */
  flags: string[];
  /** Also accepted, not shown: "--cache_dir" for "--cache-dir". */
  hidden: string[];
  positional: boolean;
  action: Action;
  nargs: number | "?" | "*" | "+" | undefined;
  subcommands: string[] | undefined;
  metavar: string;
  /** The `--help` heading it is listed under. */
  group: string | undefined;
  /** Lower is listed first in `--help`. */
  priority: number;
}

/** A project: its options and its CLI definition. */
export interface Project {
  name: string;
  confFile: string | undefined;
  /** The project folder (its plugin root), when it has one. */
  dir: string | undefined;
  /** conf.ts VERSION, when given. */
  version: string | undefined;
  options: Map<string, Option>;
  cli: Record<string, CliOptionDef>;
  subcommands: Map<string, string>;
}

const OPTION_KEYS = new Set(["default", "help", "type", "env", "secret"]);
const CLI_KEYS = new Set(["options", "positional", "action", "nargs", "choices", "subcommands", "source", "group", "display_priority"]);
const ACTIONS = new Set(["store", "store_true", "store_false", "count", "append"]);
/** Option names whose flags pop's own commands take (`--config`, `--help`, `--version`, logging, `pop config show`'s `--json` and `--explain`). */
export const RESERVED = ["config", "help", "version", "json", "explain", "log_level", "log_file", "log_fmt"];
/** The flags those names are, as pop reserves them on every project's command line. */
export const RESERVED_FLAGS = new Map<string, string>([...RESERVED.map((n) => [`--${n.replace(/_/g, "-")}`, n] as [string, string]), ["-h", "help"]]);

/** `POPPY_PORT` for option "port" of project "poppy". */
export function envName(project: string, option: string): string {
  return `${project}_${option}`.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}

/** Check and normalise a project's CONFIG (and the parts of CLI_CONFIG about its own options). */
export function readProject(name: string, conf: ConfModule | undefined, confFile: string | undefined, dir?: string): Project {
  const where = confFile ? displayPath(confFile) : `project "${name}"`;
  const fail = (msg: string) => new ConfigError(`${where}: ${msg}`);
  const config = conf?.CONFIG ?? {};
  const cli = conf?.CLI_CONFIG ?? {};
  if (!isRecord(config)) throw fail(`CONFIG must map option names to { default, help }, e.g. { port: { default: 8888, help: "The port to bind to" } }`);
  if (!isRecord(cli)) throw fail(`CLI_CONFIG must map option names to CLI settings, e.g. { port: { options: ["-p"] } }`);
  const options = new Map<string, Option>();
  /** Environment variable name -> the option reading it: two options must not read one variable. */
  const envOwners = new Map<string, string>();
  for (const [key, def] of Object.entries(config as Record<string, OptionDef>)) {
    if (!isRecord(def)) throw fail(`CONFIG option "${key}" must be an object like { default: 8888, help: "..." }`);
    if (RESERVED.includes(key.replace(/-/g, "_")))
      throw fail(`CONFIG option "${key}" uses a reserved name (pop's own flags: ${RESERVED.map((n) => `--${n.replace(/_/g, "-")}`).join(", ")}); rename it`);
    const cliKey = Object.keys(def).find((k) => CLI_KEYS.has(k));
    if (cliKey)
      throw fail(
        `CONFIG option "${key}" has "${cliKey}": command-line settings go in CLI_CONFIG, e.g. CLI_CONFIG = { ${key}: { ${cliKey}: ${JSON.stringify((def as unknown as Record<string, unknown>)[cliKey])} } }`,
      );
    const extra = Object.keys(def).find((k) => !OPTION_KEYS.has(k));
    if (extra) throw fail(`CONFIG option "${key}" has unknown setting "${extra}"${didYouMean(extra, OPTION_KEYS)} (known: ${[...OPTION_KEYS].join(", ")})`);
    if (typeof def.help !== "string") throw fail(`CONFIG option "${key}" needs "help": one line saying what it does`);
    let lazy: ReturnType<typeof lazySchema>;
    try {
      lazy = lazySchema(def);
    } catch (e) {
      throw fail(`CONFIG option "${key}": ${(e as Error).message}`);
    }
    const envDef: unknown = def.env;
    if (envDef !== undefined && typeof envDef !== "string" && !Array.isArray(envDef))
      throw fail(`CONFIG option "${key}": "env" must be a variable name or a list of them (or [] for none); got ${JSON.stringify(envDef) ?? String(envDef)}`);
    const env = envDef === undefined ? [envName(name, key)] : typeof envDef === "string" ? [envDef] : [...(envDef as unknown[])];
    if (env.some((e) => typeof e !== "string" || e === "")) throw fail(`CONFIG option "${key}": "env" must be a variable name or a list of them`);
    for (const e of env as string[]) {
      const other = envOwners.get(e);
      if (other !== undefined) throw fail(`CONFIG options "${other}" and "${key}" both read the environment variable ${e}; give one another name with "env"`);
      envOwners.set(e, key);
    }
    options.set(key, {
      project: name,
      name: key,
      help: def.help,
      default: def.default,
      env: env as string[],
      secret: def.secret === true,
      confFile,
      choices: undefined,
      get schema() {
        return lazy.get();
      },
      trustsDefault: lazy.trustsDefault,
      trustsString: lazy.trustsString,
      boolean: lazy.boolean,
    });
  }
  for (const [key, c] of Object.entries(cli as Record<string, CliOptionDef>)) {
    if (!isRecord(c)) throw fail(`CLI_CONFIG option "${key}" must be an object, e.g. { options: ["-p"] } or {}`);
    const extra = Object.keys(c).find((k) => !CLI_KEYS.has(k));
    if (extra) throw fail(`CLI_CONFIG option "${key}" has unknown setting "${extra}"${didYouMean(extra, CLI_KEYS)} (known: ${[...CLI_KEYS].join(", ")})`);
    if (c.source !== undefined) continue;
    const opt = options.get(key);
    if (!opt)
      throw fail(
        `CLI_CONFIG option "${key}" is not defined in CONFIG${didYouMean(key, options.keys())}; add it to CONFIG with its default and help, or set "source" to the project that defines it`,
      );
    if (c.choices !== undefined) opt.choices = checkChoices(c.choices, key, fail);
  }
  const subcommands = new Map<string, string>();
  const subs = conf?.SUBCOMMANDS ?? {};
  if (!isRecord(subs)) throw fail(`SUBCOMMANDS must map subcommand names to help, e.g. { run: "Start the server" }`);
  for (const [sub, help] of Object.entries(subs)) {
    const text = typeof help === "string" ? help : isRecord(help) && typeof help.help === "string" ? help.help : undefined;
    if (text === undefined) throw fail(`SUBCOMMANDS "${sub}" needs help text, e.g. { ${sub}: "What it does" }`);
    subcommands.set(sub, text);
  }
  const version = conf?.VERSION;
  if (version !== undefined && (typeof version !== "string" || version === ""))
    throw fail(`VERSION must be a string like "1.2.0"; got ${JSON.stringify(version)}`);
  return { name, confFile, dir, version, options, cli: cli as Record<string, CliOptionDef>, subcommands };
}

/** The command line of the `cli` project: its CLI_CONFIG entries, `source` ones resolved in the other projects. */
export function cliOptions(cliProject: Project, projects: Map<string, Project>, available: readonly string[] = []): CliOption[] {
  const where = cliProject.confFile ? displayPath(cliProject.confFile) : `project "${cliProject.name}"`;
  const fail = (msg: string) => new ConfigError(`${where}: ${msg}`);
  const out: CliOption[] = [];
  const taken = new Map<string, string>(RESERVED_FLAGS);
  for (const [key, c] of Object.entries(cliProject.cli)) {
    const owner = c.source ?? cliProject.name;
    const project = projects.get(owner);
    if (!project) {
      const loaded = [...projects.keys()].map((p) => `"${p}"`).join(", ");
      if (!available.includes(owner)) {
        throw fail(
          `CLI_CONFIG option "${key}" comes from project "${owner}" ("source"), which is not on the hub (projects: ${loaded}); add its folder on the command line with --plugins before the project folder, e.g. "pop app --plugins path/to/${owner} DIR" (or list it in POP_PLUGIN_PATH)`,
        );
      }
      throw fail(
        `CLI_CONFIG option "${key}" comes from project "${owner}" ("source"), which is not loaded (loaded: ${loaded}); load both, e.g. hub.pop.config.load(["${cliProject.name}", "${owner}"], { cli: "${cliProject.name}" })${didYouMean(owner, projects.keys())}`,
      );
    }
    const option = project.options.get(key);
    if (!option)
      throw fail(`CLI_CONFIG option "${key}" comes from project "${owner}", whose CONFIG has no option "${key}"${didYouMean(key, project.options.keys())}`);
    if (c.source !== undefined && c.choices !== undefined) option.choices = checkChoices(c.choices, key, fail);
    const action = c.action ?? (option.boolean ? "store_true" : "store");
    if (!ACTIONS.has(action)) throw fail(`CLI_CONFIG option "${key}": action "${action}" is not one of ${[...ACTIONS].join(", ")}`);
    const nargs = c.nargs;
    if (nargs !== undefined && !(nargs === "?" || nargs === "*" || nargs === "+" || (Number.isInteger(nargs) && nargs >= 1))) {
      throw fail(`CLI_CONFIG option "${key}": nargs must be a positive number, "?", "*" or "+"; got ${JSON.stringify(nargs)}`);
    }
    if (nargs === "?" && !c.positional) throw fail(`CLI_CONFIG option "${key}": nargs "?" is for positional arguments; a flag takes a number, "*" or "+"`);
    if (nargs !== undefined && action !== "store" && action !== "append")
      throw fail(`CLI_CONFIG option "${key}": nargs needs action "store" or "append", not "${action}"`);
    const subcommands = c.subcommands === undefined ? undefined : [...c.subcommands];
    for (const s of subcommands ?? []) {
      if (s !== "_global_" && !cliProject.subcommands.has(s))
        throw fail(`CLI_CONFIG option "${key}": subcommand "${s}" is not in SUBCOMMANDS${didYouMean(s, cliProject.subcommands.keys())}`);
    }
    const long = `--${key.replace(/_/g, "-")}`;
    const flags = c.positional ? [] : [long];
    const hidden = !c.positional && long !== `--${key}` ? [`--${key}`] : [];
    for (const f of c.options ?? []) {
      if (typeof f !== "string" || !/^(-[A-Za-z0-9]|--[A-Za-z0-9][\w-]*)$/.test(f))
        throw fail(`CLI_CONFIG option "${key}": "${f}" is not a flag like "-p" or "--port"`);
      if (!flags.includes(f)) flags.push(f);
    }
    if (c.positional && flags.length) throw fail(`CLI_CONFIG option "${key}" is positional, so it takes no "options" flags`);
    for (const f of [...flags, ...hidden]) {
      const other = taken.get(f);
      if (other)
        throw fail(
          `CLI_CONFIG option "${key}": flag ${f} is already used by ${RESERVED.includes(other) && !cliProject.cli[other] ? `pop's --${other.replace(/_/g, "-")}` : `option "${other}"`}; choose another`,
        );
      taken.set(f, key);
    }
    flags.sort((a, b) => (a.startsWith("--") === b.startsWith("--") ? 0 : a.startsWith("--") ? -1 : 1));
    if (c.group !== undefined && (typeof c.group !== "string" || c.group.trim() === ""))
      throw fail(`CLI_CONFIG option "${key}": group must be a heading for --help, e.g. "Server"`);
    if (c.display_priority !== undefined && (typeof c.display_priority !== "number" || !Number.isFinite(c.display_priority)))
      throw fail(`CLI_CONFIG option "${key}": display_priority must be a number (lower is listed first)`);
    out.push({
      option,
      flags,
      hidden,
      positional: c.positional === true,
      action,
      nargs,
      subcommands,
      metavar: key.toUpperCase(),
      group: c.group,
      priority: c.display_priority ?? Number.POSITIVE_INFINITY,
    });
  }
  return out;
}

function checkChoices(v: unknown, key: string, fail: (m: string) => Error): readonly unknown[] {
  if (!Array.isArray(v) || v.length === 0) throw fail(`CLI_CONFIG option "${key}": choices must be a non-empty list`);
  return v;
}

function isRecord(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
