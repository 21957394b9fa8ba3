import { nodeFs, readdir } from "../_fs.ts";
import { basename, join } from "../_path.ts";
import { configureOutput, type Level, log, LOG_FORMATS, LOG_LEVELS, type LogFormat } from "../output.ts";
import { type CliParse, parseCli } from "./_cli.ts";
import { type CliOption, cliOptions, envName, type Project, readProject } from "./_definition.ts";
import { ConfigError } from "./_errors.ts";
import { readFiles, unknownKeys } from "./_files.ts";
import { renderHelp } from "./_help.ts";
import { displayPath } from "./_paths.ts";
import { frozenCopy, resolveAll } from "./_resolve.ts";
import { didYouMean } from "../_suggest.ts";
import type { ConfModule, LoadContext, LoadOptions, LoadResult, ProjectRoot } from "./_types.ts";

/** The projects of one load, checked, with the `cli` project's command line. */
export interface Definitions {
  projects: Project[];
  byName: Map<string, Project>;
  /** The project whose options sit at the top of the config files (`cli`, else the first). */
  top: Project;
  cli: Project | undefined;
  cliOptions: CliOption[];
}

/** The name of a plugin root's project: its conf.ts `NAME`, else its folder's name. */
export function projectName(root: { dir: string; conf: Record<string, unknown> | undefined }): string {
  const n = root.conf?.NAME;
  return typeof n === "string" && n !== "" ? n : basename(root.dir);
}

/** Read and check the definitions of `names` from the plugin roots `ctx.roots` (or `confs`). */
export function definitions(ctx: Pick<LoadContext, "roots" | "warn">, names: readonly string[], opts: Pick<LoadOptions, "cli" | "confs"> = {}): Definitions {
  if (names.length === 0) throw new ConfigError(`name at least one project to load, e.g. hub.pop.config.load(["poppy"], { cli: "poppy" })`);
  const roots = ctx.roots;
  const available = [...roots.map(projectName), ...Object.keys(opts.confs ?? {})];
  const projects = [...new Set(names)].map((name) => {
    const given = opts.confs?.[name];
    if (given) return readProject(name, given, undefined);
    const root = roots.find((r) => projectName(r) === name);
    // Two roots of one name (two folders called shop, a NAME repeated): the first one's options are the project's.
    const also = roots.filter((r) => r !== root && r.confFile && projectName(r) === name);
    if (root && also.length > 0) {
      const where = (r: ProjectRoot) => displayPath(r.confFile ?? r.dir);
      (ctx.warn ?? ((m: string) => log.warn(m)))(
        `project "${name}" is defined by more than one plugin root: ${[root, ...also].map(where).join(" and ")}; the options of the first are used (give the others another NAME in their conf.ts)`,
      );
    }
    if (!root) {
      const known = roots.map(projectName);
      throw new ConfigError(
        `no project "${name}" on the hub${didYouMean(name, known)} (projects: ${known.join(", ") || "none"}); add its folder on the command line with --plugins before the project folder, e.g. "pop app --plugins path/to/${name} DIR" (or list it in POP_PLUGIN_PATH)`,
      );
    }
    return readProject(name, root.conf as ConfModule | undefined, root.confFile, root.dir);
  });
  const byName = new Map(projects.map((p) => [p.name, p]));
  if (opts.cli !== undefined && !byName.has(opts.cli))
    throw new ConfigError(`the cli project "${opts.cli}" is not among the projects loaded (${names.join(", ")}); add it to the list`);
  const cli = opts.cli === undefined ? undefined : byName.get(opts.cli);
  return { projects, byName, top: cli ?? projects[0]!, cli, cliOptions: cli ? cliOptions(cli, byName, available) : [] };
}

/**
 * Config files in the project's own folder, when pop runs elsewhere: they are not read (config files come from the
 * working directory), which a user who put them there would not guess. Said once each, with the two ways to read them.
 */
function strandedFiles(project: Project, cwd: string, warn: (m: string) => void): void {
  if (!project.dir || project.dir === cwd) return;
  for (const n of readdir(project.dir) ?? []) {
    if (!n.startsWith(`${project.name}.config.`) && n !== `.${project.name}rc`) continue;
    const file = join(project.dir, n);
    warn(
      `${displayPath(file)} is not read: config files are read from the working directory (${displayPath(cwd) || "."}); run pop from the project folder, or pass --config ${displayPath(file)}`,
    );
  }
}

/** What the command line asks for before any option is resolved: help or the version to print, and the logging settings (applied). */
export interface Early {
  defs: Definitions;
  cli: CliParse | undefined;
  prog: string;
  help: string | undefined;
  version: string | undefined;
}

/**
 * Parse the `cli` project's command line without reading any config file: `--help` and `--version` give the text to
 * print instead of running, and `--log-level`, `--log-file`, `--log-fmt` (or `<NAME>_LOG_*`) configure the output
 * module. `pop app` calls it before the project's `cli(hub)`, so `--help` never runs the app.
 */
export function early(ctx: Pick<LoadContext, "roots" | "warn">, names: readonly string[], opts: LoadOptions = {}): Early {
  const defs = definitions(ctx, names, opts);
  const prog = opts.prog ?? defs.top.name;
  const cli = defs.cli ? parseCli(opts.argv ?? [], defs.cliOptions, defs.cli, prog) : undefined;
  const help = cli?.help ? renderHelp({ prog, cli: defs.cli!, options: defs.cliOptions, projects: defs.projects, subcommand: cli.subcommand }) : undefined;
  const version = !help && cli?.version ? versionOf(defs.cli!) : undefined;
  if (!help && !version) applyLogging(defs.top.name, cli, opts.env ?? process.env);
  return { defs, cli, prog, help, version };
}

/**
 * Resolve the options of `names`: defaults < config files < environment < command line, each checked, deeply frozen.
 * The caller puts `opt` where it wants (`hub.pop.config.load` puts each project's on `hub.OPT.<project>`). With
 * `--help` or `--version` on the command line, nothing is read: `help` or `version` holds the text to print.
 * @example
 * const r = await load({ roots: hubRoots(hub) }, ["poppy"], { cli: "poppy", argv: ["--port", "8080"] });
 * r.opt.poppy.port; // 8080
 */
export async function load(ctx: LoadContext, names: readonly string[], opts: LoadOptions = {}): Promise<LoadResult> {
  const { defs, cli, help, version } = early(ctx, names, opts);
  if (help !== undefined || version !== undefined) return { opt: {}, sources: {}, subcommand: cli?.subcommand, files: [], help, version };
  const env = opts.env ?? process.env;
  const configEnv = envName(defs.top.name, "config");
  const explicit = cli?.config
    ? { file: cli.config.file, from: cli.config.flag }
    : env[configEnv]
      ? { file: env[configEnv]!, from: `environment variable ${configEnv}` }
      : undefined;
  const envNameOpt = opts.envName === false ? undefined : (opts.envName ?? env.NODE_ENV);
  const warn = ctx.warn ?? ((m: string) => log.warn(m));
  const cwd = opts.cwd ?? process.cwd();
  const files = await readFiles({ name: defs.top.name, cwd, explicit, envName: envNameOpt || undefined, warn });
  if (!explicit) strandedFiles(defs.top, cwd, warn);
  for (const w of unknownKeys(files, defs.top, defs.byName)) warn(w);
  const { values, errors } = resolveAll(defs.projects, { cli, files, env, top: defs.top.name });
  if (errors.length) throw new ConfigError(errors.join("\n"));
  const result: LoadResult = { opt: {}, sources: {}, subcommand: cli?.subcommand, files: files.layers.map((l) => l.file), help: undefined, version: undefined };
  for (const [name, resolved] of values) {
    const plain: Record<string, unknown> = {};
    for (const [k, r] of Object.entries(resolved)) plain[k] = r.value;
    const frozen = frozenCopy(plain);
    for (const [k, r] of Object.entries(resolved)) r.value = frozen[k];
    result.opt[name] = frozen;
    result.sources[name] = resolved;
  }
  return result;
}

/** `poppy 1.2.0`: conf.ts VERSION, else `version` in the project folder's package.json. */
function versionOf(p: Project): string {
  if (p.version) return `${p.name} ${p.version}`;
  const pkg = p.dir ? join(p.dir, "package.json") : undefined;
  if (pkg) {
    let v: unknown;
    try {
      v = (JSON.parse(nodeFs().readFileSync(pkg, "utf8")) as { version?: unknown }).version;
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT")
        throw new ConfigError(`${displayPath(pkg)}: cannot read the version: ${(e as Error).message.split("\n")[0]}`, { cause: e });
    }
    if (typeof v === "string" && v !== "") return `${p.name} ${v}`;
  }
  const where = p.confFile ? displayPath(p.confFile) : `project "${p.name}"'s conf.ts`;
  throw new ConfigError(
    `project "${p.name}" has no version: add "version" to ${pkg ? displayPath(pkg) : "its package.json"}, or export const VERSION = "1.0.0" from ${where}`,
  );
}

/** Apply `--log-level`, `--log-file`, `--log-fmt` (or `<NAME>_LOG_LEVEL`, ...) to the output module. */
function applyLogging(name: string, cli: CliParse | undefined, env: Record<string, string | undefined>): void {
  const pick = (key: "log_level" | "log_file" | "log_fmt") => {
    const c = cli?.log.get(key);
    if (c) return { value: c.value, from: c.flag };
    const v = env[envName(name, key)];
    return v === undefined || v === "" ? undefined : { value: v, from: `environment variable ${envName(name, key)}` };
  };
  const level = pick("log_level");
  const fmt = pick("log_fmt");
  const file = pick("log_file");
  if (level && !(LOG_LEVELS as string[]).includes(level.value)) {
    throw new ConfigError(
      `invalid value for option "log-level" from ${level.from}: ${JSON.stringify(level.value)} is not one of ${LOG_LEVELS.map((l) => `"${l}"`).join(", ")}`,
    );
  }
  if (fmt && !(LOG_FORMATS as string[]).includes(fmt.value)) {
    throw new ConfigError(
      `invalid value for option "log-fmt" from ${fmt.from}: ${JSON.stringify(fmt.value)} is not one of ${LOG_FORMATS.map((l) => `"${l}"`).join(", ")}`,
    );
  }
  if (!level && !fmt && !file) return;
  configureOutput({
    ...(level ? { level: level.value as Level } : {}),
    ...(fmt ? { format: fmt.value as LogFormat } : {}),
    ...(file ? { file: file.value } : {}),
  });
}
