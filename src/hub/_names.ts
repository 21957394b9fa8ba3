// Names the hub gives meaning to: plugin file extensions, a root's manifest and conf files, reserved folders, what
// makes a module name and a sub name. Shared by the sub tree (src/hub/_scan.ts, _sub.ts), discovery and pop call's
// lean path (src/cli/_lean.ts), which must decide as the hub does before the hub's code is loaded: this file imports
// nothing.

/** A plugin file's extensions, in the order a module's files are probed (the last one found is the module). */
export const EXTS = [".ts", ".mts", ".js", ".mjs"];

/** A plugin root's conf file names, in the order they are looked for. */
export const CONF_FILES = ["conf.ts", "conf.mts", "conf.js", "conf.mjs"];

/** What makes a root more than its sub folders: manifests and conf files (discovery reads them; pop call's lean path leaves such a root to the hub). */
export const ROOT_FILES = ["pop.json", "package.json", ...CONF_FILES];

/** Folders inside a sub that are not sub-subs. */
export const RESERVED_DIRS = new Set(["contracts", "rcontracts", "node_modules", "test", "tests"]);

/** A plugin file's module name, or undefined when the file is not a plugin. */
export function moduleName(file: string): string | undefined {
  // String tests, not regexes: this runs once per file of every listed sub.
  const c = file.charCodeAt(0);
  if (c === 95 /* _ */ || c === 46 /* . */) return undefined;
  const dot = file.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const ext = file.slice(dot);
  if (ext !== ".ts" && ext !== ".mts" && ext !== ".js" && ext !== ".mjs") return undefined;
  const name = file.slice(0, dot);
  return name.endsWith(".d") || name.endsWith(".test") || name.endsWith(".spec") ? undefined : name;
}

/** A sub name: a letter or `$`, then letters, digits, `_`, `$` or `-` (/^[A-Za-z$][\w$-]*$/ without a regex: the first regex a process runs costs a compiled pop ~0.15 ms). */
export function subName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36;
    if (!letter && (i === 0 || !((c >= 48 && c <= 57) || c === 95 || c === 45))) return false;
  }
  return name.length > 0;
}
