import { basename } from "../_path.ts";
import { type Hub, state } from "../hub/index.ts";
import { parseCli } from "./_cli.ts";
import { type CliOption, cliOptions, envName, type Project, readProject } from "./_definition.ts";
import { ConfigError, ConfigHelp } from "./_errors.ts";
import { readFiles, unknownKeys } from "./_files.ts";
import { renderHelp } from "./_help.ts";
import { frozenCopy, resolveAll } from "./_resolve.ts";
import { didYouMean } from "../_suggest.ts";
import type { ConfModule, LoadOptions, LoadResult } from "./_types.ts";

/** A hub's loaded config: every value's source, for `explain` and `pop config show --explain`. */
const LOADED = new WeakMap<Hub, LoadResult>();

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

/** Read and check the definitions of `names` from the hub's plugin roots (or `confs`). */
export function definitions(hub: Hub, names: readonly string[], opts: Pick<LoadOptions, "cli" | "confs"> = {}): Definitions {
  if (names.length === 0) throw new ConfigError(`name at least one project to load, e.g. hub.pop.config.load(["poppy"], { cli: "poppy" })`);
  const roots = state(hub).roots;
  const projects = [...new Set(names)].map((name) => {
    const given = opts.confs?.[name];
    if (given) return readProject(name, given, undefined);
    const root = roots.find((r) => projectName(r) === name);
    if (!root) {
      const known = roots.map(projectName);
      throw new ConfigError(`no project "${name}" on the hub${didYouMean(name, known)} (projects: ${known.join(", ") || "none"}); add its folder as a plugin root, e.g. pop app --plugins DIR`);
    }
    return readProject(name, root.conf as ConfModule | undefined, root.confFile);
  });
  const byName = new Map(projects.map((p) => [p.name, p]));
  if (opts.cli !== undefined && !byName.has(opts.cli)) throw new ConfigError(`the cli project "${opts.cli}" is not among the projects loaded (${names.join(", ")}); add it to the list`);
  const cli = opts.cli === undefined ? undefined : byName.get(opts.cli);
  return { projects, byName, top: cli ?? projects[0]!, cli, cliOptions: cli ? cliOptions(cli, byName) : [] };
}

/**
 * Load the options of `names` onto `hub.OPT.<project>`, deeply frozen: defaults < config files < environment < command line.
 * @example
 * await load(hub, ["poppy"], { cli: "poppy", argv: ["--port", "8080"] });
 * hub.OPT.poppy.port; // 8080
 */
export async function load(hub: Hub, names: readonly string[], opts: LoadOptions = {}): Promise<LoadResult> {
  const defs = definitions(hub, names, opts);
  const mod = (hub as { pop?: { config?: { ARGV?: unknown; PROG?: unknown } } }).pop?.config;
  const prog = opts.prog ?? (typeof mod?.PROG === "string" ? mod.PROG : defs.top.name);
  const argv = opts.argv ?? (Array.isArray(mod?.ARGV) ? (mod.ARGV as string[]) : []);
  const cli = defs.cli ? parseCli(argv, defs.cliOptions, defs.cli, prog) : undefined;
  if (cli?.help) throw new ConfigHelp(renderHelp({ prog, cli: defs.cli!, options: defs.cliOptions, projects: defs.projects }));
  const env = opts.env ?? process.env;
  const configEnv = envName(defs.top.name, "config");
  const explicit = cli?.config ? { file: cli.config.file, from: cli.config.flag } : env[configEnv] ? { file: env[configEnv]!, from: `environment variable ${configEnv}` } : undefined;
  const envNameOpt = opts.envName === false ? undefined : (opts.envName ?? env.NODE_ENV);
  const files = await readFiles({ name: defs.top.name, cwd: opts.cwd ?? process.cwd(), explicit, envName: envNameOpt || undefined });
  const warn = state(hub).warn;
  for (const w of unknownKeys(files, defs.top, defs.byName)) warn(w);
  const { values, errors } = resolveAll(defs.projects, { cli, files, env, top: defs.top.name });
  if (errors.length) throw new ConfigError(errors.join("\n"));
  const result: LoadResult = { opt: {}, sources: {}, subcommand: cli?.subcommand, files: files.layers.map((l) => l.file) };
  for (const [name, resolved] of values) {
    const plain: Record<string, unknown> = {};
    for (const [k, r] of Object.entries(resolved)) plain[k] = r.value;
    const frozen = frozenCopy(plain);
    for (const [k, r] of Object.entries(resolved)) r.value = frozen[k];
    hub.OPT[name] = frozen;
    result.opt[name] = frozen;
    result.sources[name] = resolved;
  }
  const prev = LOADED.get(hub);
  LOADED.set(hub, prev ? { ...result, opt: { ...prev.opt, ...result.opt }, sources: { ...prev.sources, ...result.sources } } : result);
  return result;
}

/** What the hub's loads resolved so far (every project), or undefined before the first load. */
export function loaded(hub: Hub): LoadResult | undefined {
  return LOADED.get(hub);
}
