import { nodeFs } from "../_fs.ts";
import { moduleFunctions } from "./_module.ts";
import type { SourceLocation } from "../errors.ts";
import { state, subMeta } from "./_meta.ts";
import type { FunctionRecord, Hub, ModuleRecord, SubMeta } from "./_types.ts";

/** A function as `pop tree` shows it. */
export interface FunctionInfo {
  name: string;
  ref: string;
  /** Parameters after the hub, as written in the source (types included). */
  params: string;
  doc: string | null;
  line: number | undefined;
  contracts: string[];
}

/** What an isolated side applies, kept on the host's stand-ins for `pop tree`: contract files per module and per function. */
interface Applied {
  contracts: string[];
  functions: Record<string, string[]>;
  /** Where they are applied: "isolated worker". */
  on: string;
}

const appliedElsewhere = new WeakMap<ModuleRecord, Applied>();
const foldersElsewhere = new WeakMap<SubMeta, string[]>();

/** Record, for `pop tree`, the folders of a sub placed elsewhere (it has none on this hub: nothing here scans them). */
export function showFolders(meta: SubMeta, dirs: string[]): void {
  foldersElsewhere.set(meta, dirs);
}

/** Record, for `pop tree`, the contracts a module placed elsewhere runs under there (`on`: "isolated worker"). */
export function showApplied(rec: ModuleRecord, contracts: string[], functions: Record<string, string[]>, on: string): void {
  appliedElsewhere.set(rec, { contracts, functions, on });
}

/** Each plugin file's text, read again once the file changed (a --watch reload, an isolated side's fresh start). */
const sources = new Map<string, { stamp: string; text: string | undefined }>();

function source(file: string): string | undefined {
  const f = Bun.file(file);
  const stamp = `${f.lastModified}:${f.size}`;
  const known = sources.get(file);
  if (known && known.stamp === stamp) return known.text;
  let text: string | undefined;
  try {
    text = nodeFs().readFileSync(file, "utf8");
  } catch {
    text = undefined;
  }
  sources.set(file, { stamp, text });
  return text;
}

/** Describe a loaded module's functions from its source: parameter list, JSDoc summary, line. */
export function describeFunctions(rec: ModuleRecord): FunctionInfo[] {
  const text = rec.source ?? source(rec.file);
  const applied = appliedElsewhere.get(rec);
  return moduleFunctions(rec).map((f) => describe(applied ? { ...f, contracts: applied.functions[f.name] ?? [] } : f, text));
}

function describe(f: FunctionRecord, text: string | undefined): FunctionInfo {
  const base = { name: f.name, ref: f.ref, contracts: f.contracts };
  const at = text ? findDeclaration(text, f.exportName) : -1;
  if (!text || at < 0) return { ...base, params: dropHub(paramsOf(Function.prototype.toString.call(f.raw), 0)), doc: null, line: undefined };
  const open = text.indexOf("(", at);
  return { ...base, params: dropHub(paramsOf(text, open)), doc: docBefore(text, at) ?? null, line: text.slice(0, at).split("\n").length };
}

function findDeclaration(text: string, name: string): number {
  const esc = name.replace(/[$]/g, "\\$");
  const re = new RegExp(`^[ \\t]*export\\s+(?:async\\s+)?(?:function\\s*\\*?\\s*${esc}\\s*[(<]|(?:const|let|var)\\s+${esc}\\s*(?::[^=]+)?=)`, "m");
  const m = re.exec(text);
  return m ? m.index + m[0].length - m[0].trimStart().length : -1;
}

/** The text between the parenthesis at `open` and its match, whitespace collapsed. */
function paramsOf(text: string, open: number): string {
  const start = text.indexOf("(", open);
  if (start < 0) return "";
  let depth = 0;
  let quote = "";
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = "";
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if (ch === "(" || ch === "{" || ch === "[" || ch === "<") depth++;
    else if (ch === ")" || ch === "}" || ch === "]" || (ch === ">" && text[i - 1] !== "=")) {
      depth--;
      if (depth === 0 && ch === ")")
        return text
          .slice(start + 1, i)
          .replace(/\s+/g, " ")
          .trim()
          .replace(/,$/, "");
    }
  }
  return "";
}

/** Drop the first parameter (the hub). */
function dropHub(params: string): string {
  let depth = 0;
  for (let i = 0; i < params.length; i++) {
    const ch = params[i]!;
    if ("({[<".includes(ch)) depth++;
    else if (")}]".includes(ch) || (ch === ">" && params[i - 1] !== "=")) depth--;
    else if (ch === "," && depth === 0) return params.slice(i + 1).trim();
  }
  return "";
}

function docBefore(text: string, at: number): string | undefined {
  const before = text.slice(0, at).trimEnd();
  if (!before.endsWith("*/")) return undefined;
  const start = before.lastIndexOf("/**");
  if (start < 0) return undefined;
  const body = before
    .slice(start + 3, -2)
    .split("\n")
    .map((l) => l.replace(/^\s*\*\s?/, "").trim());
  const lines: string[] = [];
  for (const l of body) {
    if (l.startsWith("@")) break;
    lines.push(l);
  }
  return lines.join(" ").replace(/\s+/g, " ").trim() || undefined;
}

/** A plugin root as `pop tree` lists it. */
export interface RootView {
  dir: string;
  /** Where it came from: "--plugins", "POP_PLUGIN_PATH", "package foo (from /x/package.json)", "pop app". */
  source: string;
  conf: string | undefined;
  /** Its manifest file (pop.json or package.json), when it has one. */
  manifest: string | undefined;
  /** Its manifest's name and version. */
  name: string | undefined;
  version: string | undefined;
  /** Its manifest's engines.pop range. */
  engine: string | undefined;
}

/** A module as `pop tree` shows it. Paths are absolute. */
export interface ModuleView {
  name: string;
  ref: string;
  file: string;
  state: ModuleRecord["state"];
  reason?: string;
  location?: SourceLocation;
  contracts: string[];
  /** Where its contracts are applied when not in this process: "isolated worker", "isolated process". */
  contractsOn?: string;
  functions: FunctionInfo[];
}

/** A sub as `pop tree` shows it: its modules (init first) and its sub-subs. */
export interface SubView {
  name: string;
  ref: string;
  dirs: string[];
  /** Where a placed sub runs: `remote http://host:8888` or `isolated (worker)`; absent for a sub of this process. */
  placed?: string;
  modules: ModuleView[];
  subs: SubView[];
}

/** Everything on a hub, as plain data: its roots, every sub (modules in whatever state) and every load failure. */
export interface HubView {
  roots: RootView[];
  subs: SubView[];
  failures: Array<{ ref: string; file: string; line?: number; column?: number; reason: string }>;
}

/** The hub as plain data (what `pop tree` prints). It loads nothing: call `hub.pop.sub.load()` first for everything. */
export function inspectHub(hub: Hub): HubView {
  const s = state(hub);
  return {
    roots: s.roots.map((r) => ({
      dir: r.dir,
      source: r.source,
      conf: r.confFile,
      manifest: r.manifest?.file,
      name: r.manifest?.name,
      version: r.manifest?.version,
      engine: r.manifest?.engine,
    })),
    subs: [...s.subs.values()].map((meta) => {
      const p = meta.placed ? s.placed.get(meta.name) : undefined;
      return describeSub(meta, p && (p.kind === "remote" ? `remote ${p.spec.url}` : `isolated (${p.spec.mode})`));
    }),
    failures: s.failures.map((f) => ({ ref: f.ref, ...f.location, reason: f.reason })),
  };
}

/** A sub and its sub-subs; `placed` (where a placed sub runs) marks them all. */
function describeSub(meta: SubMeta, placed: string | undefined): SubView {
  const view: SubView = {
    name: meta.name,
    ref: meta.ref,
    dirs: foldersElsewhere.get(meta) ?? meta.dirs,
    modules: [...meta.modules.values()].sort((a, b) => (a.name === "init" ? -1 : b.name === "init" ? 1 : a.name < b.name ? -1 : 1)).map(describeModule),
    subs: [...meta.subs.values()].map((o) => describeSub(subMeta(o)!, placed)),
  };
  if (placed) view.placed = placed;
  return view;
}

function describeModule(rec: ModuleRecord): ModuleView {
  const applied = appliedElsewhere.get(rec);
  const view: ModuleView = { name: rec.name, ref: rec.ref, file: rec.file, state: rec.state, contracts: applied?.contracts ?? rec.contracts, functions: [] };
  if (applied) view.contractsOn = applied.on;
  if (rec.reason !== undefined) view.reason = rec.reason;
  if (rec.location) view.location = rec.location;
  if (rec.state === "loaded") view.functions = describeFunctions(rec);
  return view;
}
