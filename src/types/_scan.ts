import { readFileSync } from "node:fs";
import type { PluginRoot } from "../hub/_discover.ts";
import { listDir } from "../hub/_scan.ts";

/** One module as the hub will show it: the file that defines it and the names its source declares. */
export interface ModuleNode {
  file: string;
  /** `__func_alias__`: export name -> hub name. */
  alias: Record<string, string>;
}

/** One sub (or sub-sub): its modules and sub-subs, by hub name. */
export interface SubNode {
  modules: Map<string, ModuleNode>;
  subs: Map<string, SubNode>;
}

const VIRTUALNAME = /^\s*export\s+const\s+__virtualname__\s*(?::[^=]+)?=\s*(["'`])([A-Za-z_$][\w$]*)\1/m;
const OVERRIDE = /^\s*export\s+const\s+__override__\s*(?::[^=]+)?=\s*true\b/m;
const ALIAS = /^\s*export\s+const\s+__func_alias__\s*(?::[^=]+)?=\s*\{([^}]*)\}/m;
const PAIR = /(?:(["'])([\w$]+)\1|([\w$]+))\s*:\s*(["'`])([\w$]+)\4/g;

/**
 * The subs of these plugin roots, read from the files' text without running them (types must not start a plugin):
 * the hub's own listing rules (listDir), `__virtualname__`, `__func_alias__` and `__override__` (app merging: a later
 * root's module replaces an earlier one only with `__override__`, as on the hub), DISABLE refs left out.
 */
export function scanRoots(roots: readonly PluginRoot[]): Map<string, SubNode> {
  const disabled = new Set(roots.flatMap((r) => r.disable));
  const dirs = new Map<string, string[]>();
  for (const root of roots) for (const [name, list] of Object.entries(root.dyne)) dirs.set(name, [...(dirs.get(name) ?? []), ...list]);
  const subs = new Map<string, SubNode>();
  for (const [name, list] of dirs) {
    if (name === "pop" || disabled.has(name)) continue; // hub.pop is pop's own, typed by the pop module
    subs.set(name, scanSub(list, name, disabled));
  }
  return subs;
}

function scanSub(dirs: readonly string[], ref: string, disabled: ReadonlySet<string>): SubNode {
  const node: SubNode = { modules: new Map(), subs: new Map() };
  const children = new Map<string, string[]>();
  for (const dir of dirs) {
    const listing = listDir(dir);
    for (const f of listing.files) {
      const text = readSource(f.file);
      const name = VIRTUALNAME.exec(text)?.[2] ?? f.name;
      if (disabled.has(`${ref}.${name}`)) continue;
      if (node.modules.has(name) && !OVERRIDE.test(text)) continue; // the hub refuses the second one: the first stays
      node.modules.set(name, { file: f.file, alias: readAlias(text) });
    }
    for (const d of listing.dirs) children.set(d.name, [...(children.get(d.name) ?? []), d.dir]);
  }
  for (const [name, list] of children) if (!disabled.has(`${ref}.${name}`)) node.subs.set(name, scanSub(list, `${ref}.${name}`, disabled));
  return node;
}

function readSource(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return ""; // unreadable: the hub reports it when it loads; its type still comes from the file
  }
}

function readAlias(text: string): Record<string, string> {
  const body = ALIAS.exec(text)?.[1];
  const alias: Record<string, string> = {};
  if (body === undefined) return alias;
  for (const m of body.matchAll(PAIR)) alias[(m[2] ?? m[3])!] = m[5]!;
  return alias;
}
