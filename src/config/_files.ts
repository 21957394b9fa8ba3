import { exists, readdir } from "../_fs.ts";
import { dirname, join, resolve } from "../_path.ts";
import type { Project } from "./_definition.ts";
import { ConfigError } from "./_errors.ts";
import { CONFIG_EXTENSIONS, existsAsConfig, findConfig, locate, readConfigFile } from "./_filefind.ts";
import type { Jiti } from "./_nojiti.ts";
import { displayPath } from "./_paths.ts";
import { didYouMean } from "../_suggest.ts";

/** One config file c12 read, and what it holds (its `$development`-style keys already merged in). */
export interface FileLayer {
  file: string;
  config: Record<string, unknown>;
}

/** The config files of one load: highest priority first, and c12's merge of them. */
export interface Files {
  layers: FileLayer[];
  merged: Record<string, unknown>;
  envName: string | undefined;
}

/** Where to look for config files. */
export interface FileOptions {
  /** Files are `<name>.config.*` and `.<name>rc`. */
  name: string;
  cwd: string;
  /** An explicit file (`--config FILE`), and where it was named. */
  explicit: { file: string; from: string } | undefined;
  envName: string | undefined;
  warn: (message: string) => void;
}

/** c12's loader for what pop leaves to c12 (`gh:` and package sources): Bun's own import() instead of jiti. */
const bunImport: Jiti = {
  async import<T>(id: string, opts?: { default?: boolean }): Promise<T> {
    const mod = (await import(id)) as Record<string, unknown>;
    return (opts?.default && mod && typeof mod === "object" && "default" in mod ? mod.default : mod) as T;
  },
};

/** What c12's `resolve` hook returns for one source. */
interface C12Source {
  config: Record<string, unknown> | undefined;
  configFile: string | undefined;
  _configFile?: string;
  cwd: string;
  source: string;
  sourceOptions: Record<string, unknown>;
}

const REMOTE = ["gh:", "github:", "gitlab:", "bitbucket:", "https://", "http://"];

/**
 * Read the config files: `<name>.config.<ext>` (or `explicit`), `.<name>rc`, and their `extends`. c12 merges the
 * layers; pop finds and parses every local file itself (c12's `resolve` hook), so each mistake names its file:
 * a value that is not an object, two formats of one file, a parse error at file:line:column, an `extends` that names
 * no config file, and `extends` cycles.
 */
export async function readFiles(opts: FileOptions): Promise<Files> {
  let main: string | undefined;
  if (opts.explicit) {
    if (opts.explicit.file.trim() === "")
      throw new ConfigError(`config file "" (from ${opts.explicit.from}) names no file; give the path of a config file, e.g. ${opts.name}.config.json`);
    main = locate(resolve(opts.cwd, opts.explicit.file), {
      name: opts.name,
      what: `config file "${opts.explicit.file}" (from ${opts.explicit.from})`,
      folderIsError: true,
    });
  } else {
    if (!mayHaveFiles(opts.cwd, opts.name)) return { layers: [], merged: {}, envName: opts.envName };
    main = findConfig(opts.cwd, opts.name, opts.warn);
  }
  const rcFile = `.${opts.name}rc`;
  if (!main && !exists(join(opts.cwd, rcFile))) return { layers: [], merged: {}, envName: opts.envName };
  const reader = new Reader(opts, main);
  const { loadConfig } = await import("c12");
  let r;
  try {
    r = await loadConfig({
      name: opts.name,
      cwd: opts.cwd,
      configFile: main ?? `${opts.name}.config`,
      rcFile,
      globalRc: false,
      packageJson: false,
      dotenv: false,
      envName: opts.envName ?? false,
      jiti: bunImport,
      resolve: (source: string, o: { cwd?: string }) => reader.resolve(source, o.cwd ?? opts.cwd) as never,
    });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const detail = (e as Error)?.message?.split("\n")[0] ?? String(e);
    throw new ConfigError(`cannot read ${main ? displayPath(main) : `the ${opts.name} config files`}: ${detail}`, { cause: e });
  }
  if (!isRecord(r.config)) throw new ConfigError(`${displayPath(main ?? opts.name)}: a config file must hold an object of options, e.g. { "port": 8080 }`);
  const layers: FileLayer[] = [];
  for (const l of r.layers ?? []) {
    if (!isRecord(l.config) || Object.keys(l.config).length === 0) continue;
    const file =
      (l as { _configFile?: string })._configFile ??
      (l.configFile === rcFile ? join(opts.cwd, rcFile) : l.configFile ? resolve(l.cwd ?? opts.cwd, l.configFile) : undefined);
    if (file) layers.push({ file: resolve(opts.cwd, file), config: l.config });
  }
  return { layers, merged: r.config, envName: opts.envName };
}

/** One load's local config files: each read once, the `extends` edges between them, cycles refused. */
class Reader {
  private loaded = new Map<string, { config: Record<string, unknown>; cwd: string; extends: string[] }>();
  private order: string[] = [];
  private edges = new Map<string, Set<string>>();
  constructor(
    private opts: FileOptions,
    private main: string | undefined,
  ) {}

  async resolve(source: string, cwd: string): Promise<C12Source | undefined> {
    if (source === ".") {
      if (!this.main) return { config: undefined, configFile: undefined, cwd, source, sourceOptions: {} };
      return this.layer(this.main, undefined);
    }
    // Remote and package sources are c12's own (giget, node resolution).
    if (REMOTE.some((p) => source.startsWith(p))) return undefined;
    if (!/^(\.|[\\/]|[A-Za-z]:)/.test(source) && !existsAsConfig(resolve(cwd, source))) return undefined;
    const parent = this.parentOf(source, cwd);
    const what = `${parent ? `${displayPath(parent)}: ` : ""}extends "${source}"`;
    const file = locate(resolve(cwd, source), { name: this.opts.name, what, folderIsError: false });
    if (!file) throw new ConfigError(`${what}: no ${this.opts.name}.config.* in that folder; name a config file or a folder holding one`);
    return this.layer(file, parent);
  }

  /** The file that extends `source` from `cwd`: the latest loaded one, as c12 walks depth first. */
  private parentOf(source: string, cwd: string): string | undefined {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const f = this.order[i]!;
      const l = this.loaded.get(f)!;
      if (l.cwd === cwd && l.extends.includes(source)) return f;
    }
    return undefined;
  }

  private async layer(file: string, parent: string | undefined): Promise<C12Source> {
    if (parent) {
      if (!this.edges.has(parent)) this.edges.set(parent, new Set());
      this.edges.get(parent)!.add(file);
    }
    const seen = this.loaded.get(file);
    if (seen) {
      const cycle = parent ? this.path(file, parent) : undefined;
      if (cycle)
        throw new ConfigError(`config files extend each other in a cycle: ${[...cycle, file].map(displayPath).join(" -> ")}; remove one of these "extends"`);
      // Reached twice without a cycle (two files extend it): its own extends are read already.
      const { extends: _drop, ...rest } = seen.config;
      return { config: rest, configFile: file, _configFile: file, cwd: seen.cwd, source: file, sourceOptions: {} };
    }
    let config = await readConfigFile(file);
    const ext = config.extends;
    if (ext !== undefined && typeof ext !== "string" && !(Array.isArray(ext) && ext.every((x) => typeof x === "string"))) {
      throw new ConfigError(
        `${displayPath(file)}: "extends" must be a file or folder, or a list of them, e.g. "extends": "./base.config.json"; got ${JSON.stringify(ext)}`,
      );
    }
    const env = this.opts.envName;
    if (env) {
      const over = {
        ...(isRecord(config[`$${env}`]) ? (config[`$${env}`] as object) : {}),
        ...(isRecord(config.$env) && isRecord(config.$env[env]) ? (config.$env[env] as object) : {}),
      };
      if (Object.keys(over).length > 0) {
        const { defu } = await import("defu");
        config = defu(over, config);
      }
    }
    delete config.$meta;
    const cwd = dirname(file);
    this.loaded.set(file, { config, cwd, extends: ext === undefined ? [] : [ext].flat() });
    this.order.push(file);
    return { config: { ...config }, configFile: file, _configFile: file, cwd, source: file, sourceOptions: {} };
  }

  /** The files from `from` to `to` along `extends` edges, if `to` can be reached. */
  private path(from: string, to: string): string[] | undefined {
    const walk = (f: string, seen: Set<string>): string[] | undefined => {
      if (f === to) return [f];
      if (seen.has(f)) return undefined;
      seen.add(f);
      for (const next of this.edges.get(f) ?? []) {
        const rest = walk(next, seen);
        if (rest) return [f, ...rest];
      }
      return undefined;
    };
    return walk(from, new Set());
  }
}

/**
 * Could c12 find anything in `cwd`: `<name>.config[.ext]`, `.<name>rc`, or a `.config/` folder? One listing of the
 * folder instead of c12's ~70 probes: a project without config files never imports c12 at all (half of
 * `pop config show`'s time).
 */
function mayHaveFiles(cwd: string, name: string): boolean {
  const names = readdir(cwd);
  if (!names) return true; // let the reader say what is wrong
  return names.some((e) => e.startsWith(`${name}.config`) || e === `.${name}rc` || e === ".config");
}

/** The value the files give at `path`, and the highest-priority file and key it came from. */
export function fileValue(files: Files, path: string[]): { value: unknown; file: string; key: string } | undefined {
  for (const layer of files.layers) {
    const v = get(layer.config, path);
    if (v === undefined) continue;
    const merged = get(files.merged, path);
    const env = files.envName;
    let key = path.join(".");
    if (env && get(layer.config, [`$${env}`, ...path]) !== undefined) key = `$${env}.${key}`;
    else if (env && get(layer.config, ["$env", env, ...path]) !== undefined) key = `$env.${env}.${key}`;
    return { value: merged === undefined ? v : merged, file: layer.file, key };
  }
  return undefined;
}

/** Warnings for keys no loaded project defines, each with the file and the nearest known key. */
export function unknownKeys(files: Files, top: Project, projects: Map<string, Project>): string[] {
  const out: string[] = [];
  const check = (file: string, obj: Record<string, unknown>, project: Project, prefix: string, atTop: boolean) => {
    for (const [key, value] of Object.entries(obj)) {
      if (atTop && key === "extends") continue;
      if (key.startsWith("$")) {
        if (!atTop || key === "$schema" || key === "$meta") continue;
        if (key === "$env" && isRecord(value)) {
          for (const [env, section] of Object.entries(value)) if (isRecord(section)) check(file, section, project, `${prefix}$env.${env}.`, false);
        } else if (isRecord(value)) check(file, value, project, `${prefix}${key}.`, false);
        continue;
      }
      if (project.options.has(key)) continue;
      const other = atTop || prefix.startsWith("$") ? projects.get(key) : undefined;
      if (other && other !== top) {
        if (!isRecord(value))
          throw new ConfigError(
            `${displayPath(file)}: "${prefix}${key}" holds project "${key}"'s options, so it must be an object of them, e.g. "${key}": { "${[...other.options.keys()][0] ?? "option"}": ... }; got ${JSON.stringify(value) ?? String(value)}`,
          );
        check(file, value, other, `${prefix}${key}.`, false);
        continue;
      }
      // A key the active $<env> section also holds is reported there, with its section ("$production.prot"), once.
      if (atTop && files.envName && (hasKey(obj[`$${files.envName}`], key) || (isRecord(obj.$env) && hasKey(obj.$env[files.envName], key)))) continue;
      const known = [...project.options.keys(), ...(project === top ? [...projects.keys()].filter((p) => p !== top.name) : [])];
      const hint = didYouMean(key, known) || (known.length ? `; known keys: ${known.join(", ")}` : `; ${project.name} defines no options`);
      out.push(`${displayPath(file)}: unknown key "${prefix}${key}"${project === top ? "" : ` for project "${project.name}"`} is ignored${hint}`);
    }
  };
  for (const layer of files.layers) check(layer.file, layer.config, top, "", true);
  return [...new Set(out)];
}

export { CONFIG_EXTENSIONS };

function hasKey(section: unknown, key: string): boolean {
  return isRecord(section) && Object.hasOwn(section, key);
}

function get(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
