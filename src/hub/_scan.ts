import { isDirectory, readdir, unreadable } from "../_fs.ts";
import { join } from "../_path.ts";
import { moduleName, RESERVED_DIRS } from "./_names.ts";

export { CONF_FILES, EXTS, moduleName, RESERVED_DIRS, ROOT_FILES, subName } from "./_names.ts";

const PLUGIN_EXT = /\.(ts|mts|js|mjs)$/;

/** What one folder of a sub holds: plugin files by module name, and child folders. */
export interface DirListing {
  files: Array<{ name: string; file: string }>;
  dirs: Array<{ name: string; dir: string }>;
}

/** List a sub folder; a missing folder lists as empty. Only names without a plugin extension are stat'ed. */
export function listDir(dir: string): DirListing {
  const out: DirListing = { files: [], dirs: [] };
  const names = readdir(dir);
  if (!names) return out;
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
  return listDir(dir).files; // most subs have none: a missing folder lists as empty
}

/** What listNames found. */
export interface Listing {
  names: string[];
  dirs: Array<{ name: string; dir: string }>;
  /** Why a folder that exists cannot be listed ("permission denied"). */
  unreadable?: string;
  /** Nothing is there. */
  missing?: true;
}

/** A sub folder's raw entry names (to probe for modules on demand) and its child folders (sub-subs); `unreadable` says why a folder that exists cannot be listed. */
export function listNames(dir: string, small = false): Listing {
  const names = readdir(dir, small);
  if (!names) {
    const why = unreadable(dir);
    return why ? { names: [], dirs: [], unreadable: why } : { names: [], dirs: [], missing: true };
  }
  const dirs: Array<{ name: string; dir: string }> = [];
  for (const entry of names) {
    // Plugin files and dotted names are never sub folders; only the rest are stat'ed.
    if (entry.includes(".") || entry.startsWith("_") || RESERVED_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    if (isDirectory(path)) dirs.push({ name: entry, dir: path });
  }
  if (dirs.length > 1) dirs.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { names, dirs };
}
