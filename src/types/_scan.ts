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
 * the hub's own listing rules (listDir), `__func_alias__`, `__override__` (app merging: a later root's file of the
 * same name replaces an earlier one only with `__override__`, else neither loads, as on the hub), DISABLE refs left
 * out, and `__virtualname__` by the hub's rule for a module loaded with its whole sub (in file-name order): a name
 * another file holds is taken only from one that did not load, else the claimant is refused. Only the modules the
 * hub would load are typed; every `__virtual__` is taken to accept.
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

/** One plugin file as the hub's record of it: the name it holds, and whether it loads (every `__virtual__` assumed to accept). */
interface Candidate {
  stem: string;
  name: string;
  file: string;
  /** Files of the same name in earlier folders (app merging): this one replaces them only with `__override__`. */
  others: number;
  text: string;
  state: "pending" | "loaded" | "refused";
}

const EXTS = [".ts", ".mts", ".js", ".mjs"];

function scanSub(dirs: readonly string[], ref: string, disabled: ReadonlySet<string>): SubNode {
  const node: SubNode = { modules: new Map(), subs: new Map() };
  const children = new Map<string, string[]>();
  const byStem = new Map<string, Array<{ file: string; at: number }>>();
  dirs.forEach((dir, at) => {
    const listing = listDir(dir);
    for (const f of listing.files) byStem.set(f.name, [...(byStem.get(f.name) ?? []), { file: f.file, at }]);
    for (const d of listing.dirs) children.set(d.name, [...(children.get(d.name) ?? []), d.dir]);
  });
  // The hub's records: one per file name, the last folder's file (then extension order), loaded in name order.
  const held = new Map<string, Candidate>();
  for (const stem of [...byStem.keys()].sort()) {
    const files = byStem.get(stem)!.sort((x, y) => x.at - y.at || EXTS.indexOf(extOf(x.file)) - EXTS.indexOf(extOf(y.file)));
    const file = files[files.length - 1]!.file;
    held.set(stem, { stem, name: stem, file, others: files.length - 1, text: "", state: "pending" });
  }
  const rename = (c: Candidate, to: string) => {
    if (held.get(c.name) === c) held.delete(c.name);
    c.name = to;
    held.set(to, c);
  };
  for (const c of held.values()) if (disabled.has(`${ref}.${c.stem}`)) c.state = "refused"; // never imported
  // A file and a sub folder of one name: the folder is the sub-sub, the file is not loaded ("clashes with the sub folder").
  for (const name of children.keys()) if (!disabled.has(`${ref}.${name}`)) held.delete(name);
  for (const c of [...held.values()]) {
    if (c.state !== "pending") continue;
    c.text = readSource(c.file);
    const v = VIRTUALNAME.exec(c.text)?.[2];
    let claim: string | undefined;
    if (v !== undefined && v !== c.name) {
      // A name another file holds is only claimed: it is taken from a holder that did not load, else it clashes.
      const holder = held.get(v);
      if (holder && holder !== c) claim = v;
      else rename(c, v);
    }
    if (claim === undefined && disabled.has(`${ref}.${c.name}`)) {
      c.state = "refused";
      continue;
    }
    if (claim !== undefined) {
      const holder = held.get(claim)!;
      if (holder.state !== "refused") {
        c.state = "refused"; // "__virtualname__ clashes with module …"
        continue;
      }
      held.delete(holder.name); // the holder steps back to its file's name
      if (!held.has(holder.stem)) {
        holder.name = holder.stem;
        held.set(holder.stem, holder);
      }
      rename(c, claim);
    }
    c.state = c.others > 0 && !OVERRIDE.test(c.text) ? "refused" : "loaded"; // "defined by both …": no __override__
  }
  for (const [name, c] of held) if (c.state === "loaded") node.modules.set(name, { file: c.file, alias: readAlias(c.text) });
  for (const [name, list] of children) if (!disabled.has(`${ref}.${name}`)) node.subs.set(name, scanSub(list, `${ref}.${name}`, disabled));
  return node;
}

function extOf(file: string): string {
  return file.slice(file.lastIndexOf("."));
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
  const alias: Record<string, string> = Object.create(null); // no prototype: an export named toString is its own
  if (body === undefined) return alias;
  for (const m of body.matchAll(PAIR)) alias[(m[2] ?? m[3])!] = m[5]!;
  return alias;
}
