import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const PLUGIN_EXT = /\.(ts|mts|js|mjs)$/;
const NOT_PLUGIN = /\.(d\.ts|d\.mts|test\.ts|test\.js|spec\.ts)$/;
/** Folders inside a sub that are not sub-subs. */
export const RESERVED_DIRS = new Set(["contracts", "rcontracts", "node_modules", "test", "tests"]);

/** A plugin file's module name, or undefined when the file is not a plugin. */
export function moduleName(file: string): string | undefined {
  if (!PLUGIN_EXT.test(file) || NOT_PLUGIN.test(file)) return undefined;
  const name = file.replace(PLUGIN_EXT, "");
  if (name.startsWith("_") || name.startsWith(".")) return undefined;
  return name;
}

/** What one folder of a sub holds: plugin files by module name, and child folders. */
export interface DirListing {
  files: Array<{ name: string; file: string }>;
  dirs: Array<{ name: string; dir: string }>;
}

/** List a sub folder; a missing folder lists as empty. Only names without a plugin extension are stat'ed. */
export function listDir(dir: string): DirListing {
  const out: DirListing = { files: [], dirs: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  names.sort();
  for (const entry of names) {
    const name = moduleName(entry);
    if (name) {
      out.files.push({ name, file: join(dir, entry) });
      continue;
    }
    if (entry.startsWith(".") || entry.startsWith("_") || RESERVED_DIRS.has(entry) || PLUGIN_EXT.test(entry)) continue;
    const path = join(dir, entry);
    if (isDirectory(path)) out.dirs.push({ name: entry, dir: path });
  }
  return out;
}

/** Contract files of a `contracts/` or `rcontracts/` folder, by contract name. */
export function listContracts(dir: string): Array<{ name: string; file: string }> {
  return listDir(dir).files;
}

/** Whether `path` is a folder (false when missing). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A sub folder's raw entry names (to probe for modules on demand) and its child folders (sub-subs). */
export function listNames(dir: string): { names: string[]; dirs: Array<{ name: string; dir: string }> } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { names: [], dirs: [] };
  }
  const dirs: Array<{ name: string; dir: string }> = [];
  for (const entry of names) {
    // Plugin files and dotted names are never sub folders; only the rest are stat'ed.
    if (entry.includes(".") || entry.startsWith("_") || RESERVED_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    if (isDirectory(path)) dirs.push({ name: entry, dir: path });
  }
  dirs.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { names, dirs };
}
