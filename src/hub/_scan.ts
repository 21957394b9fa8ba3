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

/** List a sub folder; a missing folder lists as empty. */
export function listDir(dir: string): DirListing {
  const out: DirListing = { files: [], dirs: [] };
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && isDirectory(path));
    if (isDir) {
      if (!e.name.startsWith(".") && !e.name.startsWith("_") && !RESERVED_DIRS.has(e.name)) out.dirs.push({ name: e.name, dir: path });
    } else {
      const name = moduleName(e.name);
      if (name) out.files.push({ name, file: path });
    }
  }
  return out;
}

/** Contract files of a `contracts/` or `rcontracts/` folder, by contract name. */
export function listContracts(dir: string): Array<{ name: string; file: string }> {
  return listDir(dir).files;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
