import { exists, readdir } from "../_fs.ts";
import { join, resolve } from "../_path.ts";
import type { Project } from "./_definition.ts";
import { ConfigError } from "./_errors.ts";
import type { Jiti } from "./_nojiti.ts";
import { displayPath } from "./_paths.ts";
import { didYouMean } from "../_suggest.ts";

/** One config file c12 read, and what it holds (its `$development`-style keys already merged in by c12). */
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
}

/** c12's loader, with Bun's own import() instead of jiti: Bun already runs .ts, and jiti is not bundled. */
const bunImport: Jiti = {
  async import<T>(id: string, opts?: { default?: boolean }): Promise<T> {
    const mod = (await import(id)) as Record<string, unknown>;
    return (opts?.default && mod && typeof mod === "object" && "default" in mod ? mod.default : mod) as T;
  },
};

/** Read the config files through c12: `<name>.config.{ts,js,mjs,json,jsonc,yaml,toml}` (or `explicit`), `.<name>rc`, their `extends`. */
export async function readFiles(opts: FileOptions): Promise<Files> {
  let configFile: string | undefined;
  if (opts.explicit) {
    configFile = resolve(opts.cwd, opts.explicit.file);
    if (!exists(configFile)) throw new ConfigError(`config file "${opts.explicit.file}" (from ${opts.explicit.from}) does not exist; give the path of an existing file`);
  }
  if (!configFile && !mayHaveFiles(opts.cwd, opts.name)) return { layers: [], merged: {}, envName: opts.envName };
  const { loadConfig } = await import("c12");
  let r;
  try {
    r = await loadConfig({
      name: opts.name,
      cwd: opts.cwd,
      ...(configFile ? { configFile } : {}),
      rcFile: `.${opts.name}rc`,
      globalRc: false,
      packageJson: false,
      dotenv: false,
      envName: opts.envName ?? false,
      jiti: bunImport,
    });
  } catch (e) {
    // c12 does not say which file failed: name the one it would read (a parse error in JSON, YAML or TOML names no file).
    const detail = describe(e).split("\n")[0]!;
    const file = configFile ?? candidates(opts.cwd, opts.name)[0];
    const named = file !== undefined && !detail.includes(displayPath(file));
    throw new ConfigError(`cannot read ${named ? displayPath(file) : `the ${opts.name} config file`}: ${detail}`, { cause: e });
  }
  if (!isRecord(r.config)) throw new ConfigError(`${displayPath(r._configFile ?? r.configFile ?? opts.name)}: a config file must hold an object of options, e.g. { port: 8080 }`);
  const layers: FileLayer[] = [];
  for (const l of r.layers ?? []) {
    if (!isRecord(l.config)) continue;
    const file = (l as { _configFile?: string })._configFile ?? (l.cwd !== undefined && r._configFile ? r._configFile : l.configFile ? resolve(l.cwd ?? opts.cwd, l.configFile) : undefined);
    // c12 may report an extended file by the relative path it was given.
    if (file && Object.keys(l.config).length > 0) layers.push({ file: resolve(opts.cwd, file), config: l.config });
  }
  return { layers, merged: r.config, envName: opts.envName };
}

/** The extensions c12 reads a config file with (its SUPPORTED_EXTENSIONS), in the order pop names a failing file. */
const EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".cjs", ".cts", ".json", ".jsonc", ".json5", ".yaml", ".yml", ".toml"];

/** The config files c12 would consider in `cwd` that exist: `<name>.config.*` first, then `.<name>rc`. */
function candidates(cwd: string, name: string): string[] {
  const names = new Set(readdir(cwd) ?? []);
  return [...EXTENSIONS.map((e) => `${name}.config${e}`), `.${name}rc`].filter((f) => names.has(f)).map((f) => join(cwd, f));
}

/**
 * Could c12 find anything in `cwd`: `<name>.config[.ext]`, `.<name>rc`, or a `.config/` folder? One listing of the
 * folder instead of c12's ~70 probes: a project without config files never imports c12 at all (half of
 * `pop config show`'s time).
 */
function mayHaveFiles(cwd: string, name: string): boolean {
  const names = readdir(cwd);
  if (!names) return true; // let c12 say what is wrong
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
      if (other && other !== top && isRecord(value)) {
        check(file, value, other, `${prefix}${key}.`, false);
        continue;
      }
      const known = [...project.options.keys(), ...(project === top ? [...projects.keys()].filter((p) => p !== top.name) : [])];
      const hint = didYouMean(key, known) || (known.length ? `; known keys: ${known.join(", ")}` : `; ${project.name} defines no options`);
      out.push(`${displayPath(file)}: unknown key "${prefix}${key}"${project === top ? "" : ` for project "${project.name}"`} is ignored${hint}`);
    }
  };
  for (const layer of files.layers) check(layer.file, layer.config, top, "", true);
  return [...new Set(out)];
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

/** An error from reading a config file, with the file and line Bun reports for syntax errors. */
function describe(e: unknown): string {
  const err = e as { message?: string; position?: { file?: string; line?: number; column?: number } | null };
  if (err?.position?.file) return `${displayPath(err.position.file)}:${err.position.line ?? 0}:${err.position.column ?? 0}: ${err.message}`;
  return err?.message ?? String(e);
}
