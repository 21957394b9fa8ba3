import { relative } from "../_path.ts";
import type { SubNode } from "./_scan.ts";

/** A project whose conf.ts types `hub.OPT.<name>`. */
export interface ProjectConf {
  name: string;
  confFile: string;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The text of the hub's declarations: `HubSubs` augmented with every sub, each module typed from its own file. */
export function renderHub(subs: ReadonlyMap<string, SubNode>, projects: readonly ProjectConf[], outDir: string): string {
  const lines = [
    "// The hub of this project's plugin roots, written by `pop types` (run it again, or `pop test`, after adding or renaming",
    "// a module; a change inside a plugin file needs nothing: each module's type is its file's own).",
    'import type { PluginModule, ProjectOptions, SubState } from "pop";',
    "",
    'declare module "pop" {',
    "  interface HubSubs {",
  ];
  for (const [name, sub] of [...subs].sort(byName)) lines.push(`    ${key(name)}: ${subType(sub, outDir, "    ")};`);
  if (projects.length > 0) {
    lines.push("    OPT: {");
    for (const p of projects) lines.push(`      ${key(p.name)}: ProjectOptions<typeof import(${spec(p.confFile, outDir)})>;`);
    lines.push("    };");
  }
  lines.push("  }", "}", "");
  return lines.join("\n");
}

function subType(sub: SubNode, outDir: string, indent: string): string {
  const inner = `${indent}  `;
  const members: string[] = [];
  for (const [name, m] of [...sub.modules].sort(byName)) {
    if (sub.subs.has(name)) continue; // a module and a folder of one name: the hub shows the folder
    const alias = Object.entries(m.alias);
    const aliasType = alias.length === 0 ? "" : `, { ${alias.map(([from, to]) => `${key(from)}: ${JSON.stringify(to)}`).join("; ")} }`;
    // A JavaScript plugin's type is `any` unless allowJs types it: not a sign of a missing file.
    const typed = /\.m?js$/.test(m.file) ? `${aliasType || ", {}"}, false` : aliasType;
    members.push(`${inner}${key(name)}: PluginModule<typeof import(${spec(m.file, outDir)})${typed}>;`);
  }
  for (const [name, child] of [...sub.subs].sort(byName)) {
    members.push(`${inner}${key(name)}: ${subType(child, outDir, inner)};`);
  }
  return members.length === 0 ? "SubState" : `SubState & {\n${members.join("\n")}\n${indent}}`;
}

/** A module specifier for `file` from the declarations' folder: relative, forward slashes. */
function spec(file: string, outDir: string): string {
  const rel = relative(outDir, file).replaceAll("\\", "/");
  return JSON.stringify(rel.startsWith(".") ? rel : `./${rel}`);
}

function key(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

function byName<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
