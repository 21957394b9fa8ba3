// File-system checks for pop's start-up paths, on Bun's own APIs. Importing node:fs costs ~1.8 ms of a compiled
// pop's start-up, about a third of `pop --version` (docs/benchmarks.md), so the paths every `pop call` and
// `pop config show` takes use these instead: a literal Bun.Glob pattern is one stat, not a listing. node:fs is still
// loaded, on first use, for what only it does (writes, realpath, big listings); on Windows it does everything.
import type * as NodeFs from "node:fs";
import { surelyMissing } from "./_probe.ts";

export { surelyMissing };

let fs: typeof NodeFs | undefined;
/** node:fs for every check: set by a command that loads it anyway (pop create writes with it), where it is the faster. */
let preferNode = false;

/** node:fs, loaded on first use. */
export function nodeFs(): typeof NodeFs {
  return (fs ??= require("node:fs") as typeof NodeFs);
}

/** From now on, answer every check with node:fs (loaded now): for commands that need it anyway. */
export function preferNodeFs(): void {
  nodeFs();
  preferNode = true;
}

const WINDOWS = process.platform === "win32";
const GLOB_SPECIAL = /[*?[\]{}!]/g;

/** Whether a name holds a glob special character (the regex replace runs only then: a process's first regex costs a compiled pop ~0.15 ms). */
function globSpecial(name: string): boolean {
  for (let i = 0; i < name.length; i++) if ("*?[]{}!".includes(name[i]!)) return true;
  return false;
}

/** Whether one literal name exists in `dir` (as a file only, with `onlyFiles`); symlinks are followed, like stat. */
function probe(dir: string, name: string, onlyFiles: boolean): boolean {
  if (surelyMissing(dir === "/" ? `/${name}` : `${dir}/${name}`)) return false;
  try {
    const pattern = globSpecial(name) ? name.replace(GLOB_SPECIAL, "\\$&") : name;
    for (const _ of new Bun.Glob(pattern).scanSync({ cwd: dir, onlyFiles, dot: true })) return true;
  } catch {
    // a missing or unreadable folder: nothing there
  }
  return false;
}

/** `path` split at its last slash; undefined for a root, a trailing slash, a last `.` or `..`, or a backslash (callers then ask node:fs). */
function split(path: string): [string, string] | undefined {
  if (path.includes("\\")) return undefined;
  const i = path.lastIndexOf("/");
  const name = path.slice(i + 1);
  if (name === "" || name === "." || name === "..") return undefined;
  return [i < 0 ? "." : i === 0 ? "/" : path.slice(0, i), name];
}

/** Whether `path` is a file (or a link to one). */
export function isFile(path: string): boolean {
  const parts = WINDOWS || preferNode ? undefined : split(path);
  if (parts) return probe(parts[0], parts[1], true);
  try {
    return nodeFs().statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false; // ENOTDIR (a file on the way), EACCES: not a file pop can see
  }
}

/** Whether anything is at `path` (a broken link is nothing). */
export function exists(path: string): boolean {
  const parts = WINDOWS || preferNode ? undefined : split(path);
  if (!parts) return nodeFs().existsSync(path);
  return probe(parts[0], parts[1], false);
}

/** Whether `path` is a folder (or a link to one); false when missing or not searchable. */
export function isDirectory(path: string): boolean {
  if (WINDOWS || preferNode) {
    try {
      return nodeFs().statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      return false;
    }
  }
  if (surelyMissing(path)) return false;
  try {
    // Scanning from a path that is not a folder throws (ENOENT, ENOTDIR); the literal name costs one stat.
    for (const _ of new Bun.Glob(".pop-probe").scanSync({ cwd: path, onlyFiles: false, dot: true })) break;
    return true;
  } catch (e) {
    // A folder pop may not read is still a folder: callers list it and say "permission denied".
    if ((e as { code?: string }).code !== "EACCES") return false;
    try {
      return nodeFs().statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      return false;
    }
  }
}

/** Why folder `dir` cannot be listed ("permission denied", "not a folder", ...), or undefined when it can (or is missing). */
export function unreadable(dir: string): string | undefined {
  try {
    nodeFs().readdirSync(dir);
    return undefined;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return undefined;
    return code === "EACCES" || code === "EPERM" ? "permission denied" : code === "ENOTDIR" ? "not a folder" : ((e as Error).message ?? String(e));
  }
}

/**
 * The entry names of folder `dir` (unsorted), or undefined when it cannot be listed. Bun.Glob lists about 1 us per
 * entry slower than readdirSync, which pays for node:fs's load only in big folders: those (more than one 16 KiB
 * block of entries, some hundreds) are read with node:fs.
 */
export function readdir(dir: string, small = false): string[] | undefined {
  try {
    // `small`: a folder expected to hold a few entries (a plugin root), listed without first asking its size (a
    // Bun.file() stat, ~60 us on first use); a big one still costs no more than node:fs's load would.
    if (WINDOWS || preferNode || (!small && Bun.file(dir).size > 16384)) return nodeFs().readdirSync(dir);
    return [...new Bun.Glob("*").scanSync({ cwd: dir, onlyFiles: false, dot: true })];
  } catch {
    return undefined;
  }
}

/** A file's text, or undefined when it cannot be read. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return preferNode ? nodeFs().readFileSync(path, "utf8") : await Bun.file(path).text();
  } catch {
    return undefined;
  }
}

/** Write to stderr synchronously (survives process.exit); console.error only when that fails. */
export function writeStderr(text: string): void {
  try {
    nodeFs().writeSync(2, text);
  } catch {
    console.error(text.endsWith("\n") ? text.slice(0, -1) : text);
  }
}
