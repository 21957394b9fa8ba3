import { nodeFs, readdir } from "../_fs.ts";
import { basename, join } from "../_path.ts";
import { ConfigError } from "./_errors.ts";
import { displayPath } from "./_paths.ts";

/** The extensions pop reads config files with (the ones c12 supports): code is imported by Bun, data is parsed. */
export const CONFIG_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json", ".jsonc", ".json5", ".yaml", ".yml", ".toml"] as const;
const CODE = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);

/** `{ts,mts,...}`: how help, the JSON Schema and the docs list them. */
export const EXTENSIONS_TEXT = `{${CONFIG_EXTENSIONS.map((e) => e.slice(1)).join(",")}}`;

function extOf(file: string): string {
  const b = basename(file);
  const i = b.lastIndexOf(".");
  return i <= 0 ? "" : b.slice(i);
}

function lstat(path: string) {
  return nodeFs().lstatSync(path, { throwIfNoEntry: false });
}

function stat(path: string) {
  try {
    return nodeFs().statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** Whether `path` (or `path` plus a config extension) names something on disk. */
export function existsAsConfig(path: string): boolean {
  return lstat(path) !== undefined || CONFIG_EXTENSIONS.some((e) => lstat(path + e) !== undefined);
}

/**
 * The config file of `name` in folder `dir`: `<name>.config.<ext>`, else `.config/<name>.<ext>` or
 * `.config/<name>.config.<ext>` (c12's places). Two formats of one file are an error (which would win is not
 * obvious); a `<name>.config.<ext>` pop does not read is reported through `warn`.
 */
export function findConfig(dir: string, name: string, warn: ((m: string) => void) | undefined): string | undefined {
  const names = readdir(dir) ?? [];
  const prefix = `${name}.config.`;
  if (warn) {
    for (const n of names) {
      if (n.startsWith(prefix) && !(CONFIG_EXTENSIONS as readonly string[]).includes(n.slice(prefix.length - 1)) && !/[~#]$|\.(bak|orig|swp)$/.test(n)) {
        warn(`${displayPath(join(dir, n))} is not read: config files end in ${CONFIG_EXTENSIONS.join(", ")}; rename it (e.g. ${name}.config.ts)`);
      }
    }
  }
  const own = CONFIG_EXTENSIONS.map((e) => `${name}.config${e}`)
    .filter((n) => names.includes(n))
    .map((n) => join(dir, n));
  const sub = names.includes(".config") ? (readdir(join(dir, ".config")) ?? []) : [];
  const inSub = CONFIG_EXTENSIONS.flatMap((e) => [`${name}${e}`, `${name}.config${e}`])
    .filter((n) => sub.includes(n))
    .map((n) => join(dir, ".config", n));
  const group = own.length > 0 ? own : inSub;
  if (group.length > 1) {
    throw new ConfigError(`two config files for ${name}: ${group.map(displayPath).join(" and ")}; keep one (pop will not guess which wins)`);
  }
  return group[0];
}

/**
 * The config file `path` names: the file itself, `path.<ext>`, or (for a folder) the `<name>.config.*` in it.
 * `what` says where the path came from, for messages. Undefined only for a folder without one.
 */
export function locate(path: string, o: { name: string; what: string; folderIsError: boolean }): string | undefined {
  const l = lstat(path);
  if (!l) {
    const tries = CONFIG_EXTENSIONS.map((e) => path + e).filter((p) => lstat(p) !== undefined);
    if (tries.length > 1)
      throw new ConfigError(`${o.what} matches two config files: ${tries.map(displayPath).join(" and ")}; keep one, or name the file with its extension`);
    if (tries.length === 1) return locate(tries[0]!, o);
    throw new ConfigError(`${o.what} does not exist; give the path of an existing config file`);
  }
  const s = l.isSymbolicLink() ? stat(path) : l;
  if (!s) {
    let target = "";
    try {
      target = ` to "${nodeFs().readlinkSync(path)}"`;
    } catch {
      // unreadable link: say what is known
    }
    throw new ConfigError(`${o.what} is a symbolic link${target}, which does not exist; point it at a config file`);
  }
  if (s.isDirectory()) {
    if (o.folderIsError) throw new ConfigError(`${o.what} is a folder; give a config file, e.g. ${displayPath(join(path, `${o.name}.config.ts`))}`);
    return findConfig(path, o.name, undefined);
  }
  const ext = extOf(path);
  if (!(CONFIG_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new ConfigError(`${o.what} is not a config file pop reads: config files end in ${CONFIG_EXTENSIONS.join(", ")}`);
  }
  if (!s.isFile()) throw new ConfigError(`${o.what} is not a regular file; give a config file`);
  return path;
}

/** Read one config file: import code (its default export, or what a default function returns), parse data; it must hold an object. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const ext = extOf(file);
  let value: unknown;
  if (CODE.has(ext)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(file)) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${where(e, file)}: cannot load the config file: ${firstLine(buildError(e))}`, { cause: e });
    }
    if (!("default" in mod))
      throw new ConfigError(
        `${displayPath(file)}: a config file exports its options as default, e.g. export default { port: 8080 }; this one has no default export`,
      );
    value = mod.default;
    if (typeof value === "function") {
      try {
        value = await (value as () => unknown)();
      } catch (e) {
        throw new ConfigError(`${displayPath(file)}: its default export (a function) threw: ${firstLine(e)}`, { cause: e });
      }
    }
  } else {
    let text: string;
    try {
      text = nodeFs().readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new ConfigError(`cannot read ${displayPath(file)}: ${code === "EACCES" ? "permission denied" : firstLine(e)}`, { cause: e });
    }
    // A byte-order mark (Notepad writes one) is no part of the data; an empty file is a file with no settings yet.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    value = text.trim() === "" ? {} : await parseData(file, ext, text);
    // YAML holding only comments parses to nothing: no settings, as an empty file.
    if ((value === null || value === undefined) && (ext === ".yaml" || ext === ".yml")) value = {};
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`${displayPath(file)}: a config file must hold an object of options, e.g. { "port": 8080 }; this one holds ${kind(value)}`);
  }
  return value as Record<string, unknown>;
}

function kind(v: unknown): string {
  if (Array.isArray(v)) return `a list (${short(v)})`;
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object") return "an object that is not plain data";
  return `the ${typeof v} ${short(v)}`;
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Bun's "N errors building" for a syntax error: the first of its errors, which says what is wrong. */
function buildError(e: unknown): unknown {
  const errors = (e as { errors?: unknown[] })?.errors;
  return Array.isArray(errors) && errors.length > 0 ? errors[0] : e;
}

function firstLine(e: unknown): string {
  const m = e instanceof Error || (e && typeof e === "object" && "message" in e) ? String((e as Error).message) : String(e);
  return m.split("\n")[0]!.trim();
}

/** `file:line:column` for Bun's build errors (a syntax error in a .ts config), else the file. */
function where(e: unknown, file: string): string {
  const all = [e, ...(((e as { errors?: unknown[] })?.errors as unknown[]) ?? [])];
  for (const x of all) {
    const p = (x as { position?: { file?: string; line?: number; column?: number } | null })?.position;
    if (p?.line !== undefined) return `${displayPath(p.file || file)}:${p.line}:${(p.column ?? 0) + 1}`;
  }
  return displayPath(file);
}

const JSONC_ERRORS: Record<number, string> = {
  1: "invalid symbol",
  2: "invalid number format",
  3: "property name expected",
  4: "value expected",
  5: "colon expected",
  6: "comma expected",
  7: "closing brace expected",
  8: "closing bracket expected",
  9: "end of file expected",
  10: "invalid comment token",
  11: "unexpected end of comment",
  12: "unexpected end of string",
  13: "unexpected end of number",
  14: "invalid unicode sequence",
  15: "invalid escape character",
  16: "invalid character",
};

/** Parse JSON, JSONC, JSON5, YAML or TOML; a syntax error names file:line:column. */
async function parseData(file: string, ext: string, text: string): Promise<unknown> {
  const at = (line: number, column: number, what: string, msg: string) => new ConfigError(`${displayPath(file)}:${line}:${column}: invalid ${what}: ${msg}`);
  if (ext === ".json" || ext === ".jsonc") {
    if (ext === ".json") {
      try {
        return JSON.parse(text);
      } catch {
        // located below
      }
    }
    const { parseJSONC } = await import("confbox/jsonc");
    const errors: Array<{ error: number; offset: number; length: number }> = [];
    const value = parseJSONC(text, { errors, allowTrailingComma: ext === ".jsonc", disallowComments: ext === ".json" });
    const first = errors[0];
    if (!first) {
      if (ext === ".jsonc") return value;
      throw new ConfigError(`${displayPath(file)}: invalid JSON`);
    }
    const { line, column } = position(text, first.offset);
    return Promise.reject(at(line, column, ext === ".json" ? "JSON" : "JSONC", JSONC_ERRORS[first.error] ?? `error ${first.error}`));
  }
  try {
    if (ext === ".json5") return (await import("confbox/json5")).parseJSON5(text);
    if (ext === ".toml") return (await import("confbox/toml")).parseTOML(text);
    return (await import("confbox/yaml")).parseYAML(text);
  } catch (e) {
    const x = e as {
      lineNumber?: number;
      columnNumber?: number;
      line?: number;
      column?: number;
      mark?: { line: number; column: number };
      reason?: string;
      message?: string;
    };
    const msg = firstLine(e);
    if (ext === ".json5" && x.lineNumber !== undefined)
      return Promise.reject(at(x.lineNumber, x.columnNumber ?? 0, "JSON5", msg.replace(/^JSON5: /, "").replace(/ at \d+:\d+$/, "")));
    if (ext === ".toml" && x.line !== undefined) return Promise.reject(at(x.line, x.column ?? 0, "TOML", msg.replace(/^Invalid TOML document: /, "")));
    if (x.mark) return Promise.reject(at(x.mark.line + 1, x.mark.column + 1, "YAML", x.reason ?? msg));
    throw new ConfigError(`${displayPath(file)}: invalid ${ext.slice(1).toUpperCase()}: ${msg}`, { cause: e });
  }
}

/** 1-based line and column of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
