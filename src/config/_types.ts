import type { $ZodType, input } from "zod/v4/core";

/** The name of a plain option type, for a `type` that is not a zod schema. */
export type TypeName = "string" | "number" | "integer" | "boolean" | "array" | "object" | "any";

/** What `type` may be: a zod schema, a type name, or a constructor as in pop-config's conf.py (`int`, `str`). */
export type OptionType = $ZodType | TypeName | StringConstructor | NumberConstructor | BooleanConstructor | ArrayConstructor | ObjectConstructor;

/** One option of a project's `CONFIG`: the single place it is defined and documented. */
export interface OptionDef {
  /** The value when no file, environment variable or flag sets it; also gives the type when `type` is absent. */
  default?: unknown;
  /** One line for `--help`, `pop config show` and the JSON Schema. */
  help: string;
  /** The value's type; when absent, the type of `default`. */
  type?: OptionType;
  /** Environment variable(s) to read instead of `<PROJECT>_<OPTION>`. */
  env?: string | readonly string[];
  /** Never shown: not in logs, `--help` defaults or `pop config show`. */
  secret?: boolean;
}

/** How one option appears on the command line (`CLI_CONFIG`, pop-config's names). */
export interface CliOptionDef {
  /** Extra flags and aliases, e.g. `["-p"]` or `["-t", "--testy"]`; `--<name>` is always accepted. */
  options?: readonly string[];
  /** A positional argument instead of a flag. */
  positional?: boolean;
  /** `store` (default), `store_true`/`store_false` (switches), `count` (-vvv is 3), `append` (repeatable, collects a list). */
  action?: "store" | "store_true" | "store_false" | "count" | "append";
  /** How many values it takes: a number, `?` (0 or 1), `*` (any), `+` (at least one). */
  nargs?: number | "?" | "*" | "+";
  /** The values allowed (checked for every source, not only the CLI). */
  choices?: readonly unknown[];
  /** The subcommands that accept it; `_global_` means all. Without it, the option is global. */
  subcommands?: readonly string[];
  /** The project whose `CONFIG` defines the option (app merging): its value lands in that project's namespace. */
  source?: string;
  /** The `--help` heading it is listed under (options without one are under "Options:"). */
  group?: string;
  /** POP's `display_priority`: lower numbers are listed first in `--help` (and put their group first); default: CLI_CONFIG order. */
  display_priority?: number;
}

/** A project's `conf.ts`: what pop reads from it. */
export interface ConfModule {
  /** The project's name (default: its folder's name). */
  NAME?: string;
  CONFIG?: Record<string, OptionDef>;
  CLI_CONFIG?: Record<string, CliOptionDef>;
  /** Subcommand name -> help. */
  SUBCOMMANDS?: Record<string, string | { help: string }>;
  /** Sub name -> folders (read by the hub's discovery). */
  DYNE?: Record<string, readonly string[]>;
  /** The project's version for `--version` (default: `version` in the project folder's package.json). */
  VERSION?: string;
}

type Widen<D> = D extends string
  ? string
  : D extends number
    ? number
    : D extends boolean
      ? boolean
      : D extends readonly (infer E)[]
        ? Widen<E>[]
        : D extends null | undefined
          ? unknown
          : D;

type ValueOfType<T> = T extends $ZodType
  ? input<T>
  : T extends "string" | StringConstructor
    ? string
    : T extends "number" | "integer" | NumberConstructor
      ? number
      : T extends "boolean" | BooleanConstructor
        ? boolean
        : T extends "array" | ArrayConstructor
          ? unknown[]
          : T extends "object" | ObjectConstructor
            ? Record<string, unknown>
            : unknown;

/** The type a config file may give one option. */
export type OptionValue<O> = O extends { type: infer T } ? ValueOfType<T> : O extends { default: infer D } ? Widen<D> : unknown;

/** A project's options as a config file writes them, from the type of its conf.ts (`typeof import("./conf.ts")`). */
export type ConfigValues<C> = C extends { CONFIG: infer O } ? { [K in keyof O]?: OptionValue<O[K]> } : Record<string, unknown>;

/** A config file: the project's options, c12's `extends`, and `$development`-style overrides. */
export type ConfigFile<C = unknown> = ConfigValues<C> & {
  $schema?: string;
  extends?: string | string[];
  $development?: ConfigValues<C>;
  $production?: ConfigValues<C>;
  $test?: ConfigValues<C>;
  $env?: Record<string, ConfigValues<C>>;
} & (unknown extends C ? Record<string, unknown> : {});

/** Where a value came from: a flag, an environment variable, a config file key, or the default. */
export type Origin =
  { kind: "default"; file: string | undefined } | { kind: "file"; file: string; key: string } | { kind: "env"; name: string } | { kind: "cli"; flag: string };

/** One resolved option: its value and where it came from. */
export interface Resolved {
  value: unknown;
  origin: Origin;
  secret: boolean;
}

/** What `load` resolved: each project's frozen options and, for `--explain`, every value's source. */
export interface LoadResult {
  opt: Record<string, Readonly<Record<string, unknown>>>;
  sources: Record<string, Record<string, Resolved>>;
  /** The subcommand given on the command line, if the project has SUBCOMMANDS. */
  subcommand: string | undefined;
  /** Config files read, highest priority first. */
  files: string[];
  /**
   * `--help` was given: the project's help text, to print instead of running (nothing else was read or set).
   * Help is a result, not an exception.
   */
  help: string | undefined;
  /** `--version` was given: the project's version line, to print instead of running. */
  version: string | undefined;
}

/** A plugin root as the config integrator reads it (a hub's `hubRoots(hub)` entries fit). */
export interface ProjectRoot {
  dir: string;
  conf: Record<string, unknown> | undefined;
  confFile: string | undefined;
}

/** What a load needs from its caller (the hub, or a script): where projects are, and where warnings go. */
export interface LoadContext {
  /** The plugin roots whose conf.ts define the projects, found by project name. */
  roots: readonly ProjectRoot[];
  /** Where warnings go (default: the output module, `pop: warning: ...`). */
  warn?: (message: string) => void;
}

/** Options of `load`. */
export interface LoadOptions {
  /** The project whose CLI_CONFIG builds the command line (and whose name the config files carry). */
  cli?: string;
  /** Command-line arguments for the `cli` project (`hub.pop.config.load` defaults to `hub.pop.config.ARGV`, which `pop app` sets; else none). */
  argv?: readonly string[];
  /** Environment to read (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Where config files are looked for (default: the working directory). */
  cwd?: string;
  /** c12's environment name for `$development`-style keys (default: NODE_ENV). */
  envName?: string | false;
  /** The command shown in `--help` and errors (`hub.pop.config.load` defaults to `hub.pop.config.PROG`, which `pop app` sets; else the `cli` project's name). */
  prog?: string;
  /** conf.ts modules by project name, for projects that are not plugin roots of the hub. */
  confs?: Record<string, ConfModule>;
}
