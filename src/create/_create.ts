// `pop create TEMPLATE NAME`: find the template on the hub's `create` sub, check the name, render the files, find
// conflicts, edit DYNE, then write everything at once (or, with --dry-run, only say what would be written).
import { version as popVersion } from "../../package.json" with { type: "json" };
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { preferNodeFs, readdir } from "../_fs.ts";
import { PopError, quote, UsageError } from "../errors.ts";
import { log } from "../output.ts";
import { hubOptions } from "../cli/_hubargs.ts";
import { addBuiltinSub, createHub, discoverRoots, DiscoveryError, type Hub, hubRoots, type PluginRoot, readRoot } from "../hub/index.ts";
import { confEdited } from "../hub/_discover.ts";
import { isProject } from "../types/_project.ts";
import { iterRef } from "../hub/_internal.ts";
import { BUILTIN_CREATE } from "./_builtin.ts";
import { addToDyne } from "./_dyne.ts";
import { badName } from "./_names.ts";
import type { CreateContext, TemplateModule, TemplateOutput } from "./_types.ts";
import { type PlannedFile, writeFiles } from "./_write.ts";

/** The command, as errors name it. */
export const PATH = "pop create";

/** What the command line asked for. */
export interface CreateRequest {
  template: string;
  name: string;
  pattern?: string | undefined;
  dir?: string | undefined;
  in?: string | undefined;
  dryRun: boolean;
  force: boolean;
  /** Run `pop types` on the folder afterwards (unless the template says not to). */
  types: boolean;
  /** The hub options (--plugins, --disable, --strict, --no-packages, --load-timeout). */
  hubArgs: Record<string, unknown>;
}

/** One file of the result: `create`d, `replace`d (--force), `edit`ed (conf.ts DYNE) or written by `pop types`. */
export interface FileAction {
  path: string;
  action: "create" | "replace" | "edit" | "types";
}

/** What `pop create` did (or, in a dry run, would do). */
export interface CreateResult {
  template: string;
  name: string;
  dir: string;
  dryRun: boolean;
  files: FileAction[];
  /** What the template says about what it wrote (e.g. into a sub that was there). */
  notes: string[];
  /** What the user must still do by hand (a DYNE entry that could not be added safely). */
  todo: string[];
  next: string[];
}

/** The hub `pop create` renders with: the built-in templates, plus the `create/` sub of the roots in use. */
export async function templateHub(hubArgs: Record<string, unknown>, project: string | undefined): Promise<Hub> {
  const opts = hubOptions(hubArgs, PATH);
  let roots: PluginRoot[];
  try {
    roots = await discoverRoots({ ...opts, named: project ? [{ dir: project, source: "--in" }] : [], warn: (m) => log.warn(m) });
  } catch (e) {
    if (e instanceof DiscoveryError) throw new UsageError(e.message, PATH, { cause: e, hint: false });
    throw e;
  }
  // A template that fails to load is reported once (a lazy sub may try it again on each read).
  const seen = new Set<string>();
  const warn = (m: string) => void (seen.has(m) || (seen.add(m), log.warn(m)));
  const hub = createHub({ ...opts, roots, warn });
  await addBuiltinSub(hub, "create", BUILTIN_CREATE);
  return hub;
}

/** The folder whose plugin root joins the template hub: --in, else the working directory when it is a project (has a conf.ts). */
export function projectRootFor(req: Pick<CreateRequest, "in">): string | undefined {
  if (req.in !== undefined) return isDir(resolve(req.in)) ? resolve(req.in) : undefined;
  const cwd = process.cwd();
  return ["conf.ts", "conf.mts", "conf.js", "conf.mjs"].some((f) => existsSync(join(cwd, f))) ? cwd : undefined;
}

/** A template's module name for a command-line name: `service-type` is module `service_type`. */
export function moduleName(template: string): string {
  return template.replace(/-/g, "_");
}

/** The command-line name of a template module. */
export function templateName(mod: string): string {
  return mod.replace(/_/g, "-");
}

/** The template module `template` from the hub, checked; a usage error listing the templates when there is none. */
export function templateOf(hub: Hub, template: string): TemplateModule {
  const mod = moduleName(template);
  // What hub.pop.sub.iter("create") returns, without installing the pop.sub module just to list one sub.
  const entries = iterRef(hub, "create");
  const names = entries.filter((e) => e.kind === "module").map((e) => e.name);
  if (!/^[A-Za-z][\w-]*$/.test(template) || !names.includes(mod))
    throw new UsageError(`no template ${quote(template)}; templates: ${names.map(templateName).sort().join(", ")} (pop create --list)`, PATH, { hint: false });
  const m = hub.create[mod] as Partial<TemplateModule>;
  const file = entries.find((e) => e.name === mod)?.file ?? mod;
  const problem = templateProblem(m);
  if (problem) throw new PopError(`${file}: template ${quote(template)} ${problem}`);
  return m as TemplateModule;
}

/** What a loaded template module lacks to be usable (render, target, description), or undefined. */
export function templateProblem(m: Partial<TemplateModule>): string | undefined {
  if (typeof m.render !== "function") return "exports no render(hub, ctx) function";
  if (m.target !== "new" && m.target !== "project") return 'must export target = "new" (a new folder) or "project" (into --in)';
  if (typeof m.description !== "string") return "exports no description string";
  return undefined;
}

/** Render, check and write (or only plan, with `dryRun`). */
export async function create(req: CreateRequest): Promise<CreateResult> {
  // node:fs is loaded to write anyway; then its checks are faster than Bun.Glob's (the hub's discovery makes dozens).
  preferNodeFs();
  const projectRoot = projectRootFor(req);
  const hub = await templateHub(req.hubArgs, projectRoot);
  const tpl = templateOf(hub, req.template);
  const { name, sub } = parseName(req, tpl);
  const pattern = checkPattern(req, tpl);
  const where = tpl.target === "new" ? (req.dir ?? name) : (req.in ?? ".");
  if (tpl.target === "new" && req.in !== undefined)
    throw new UsageError(`--in is for templates that write into a project; "${req.template}" makes a new folder: use --dir`, PATH);
  if (tpl.target === "project" && req.dir !== undefined)
    throw new UsageError(`--dir is for new projects; "${req.template}" writes into a project: use --in`, PATH);
  const dir = resolve(where);
  if (tpl.target === "project" && !isDir(dir))
    throw new UsageError(`project folder ${quote(where)} is not a folder: pass --in with the folder holding the project (its conf.ts and subs)`, PATH);
  if (tpl.target === "new" && existsSync(dir) && !isDir(dir))
    throw new UsageError(`${quote(where)} exists and is not a folder: pass --dir with another place`, PATH);
  if (tpl.target === "new") {
    // A file on the way (--dir afile/sub): the same mistake, said before anything is staged.
    for (let up = dirname(dir); up !== dirname(up); up = dirname(up))
      if (existsSync(up)) {
        if (!isDir(up))
          throw new UsageError(
            `${quote(relative(process.cwd(), up) || up)} is a file, so ${quote(where)} cannot be made under it: pass --dir with another place`,
            PATH,
          );
        break;
      }
  }

  const root = tpl.target === "project" ? await projectRootOf(hub, dir) : undefined;
  // Into a folder that is not there yet, nothing exists: no look-up per file.
  const fresh = !existsSync(dir);
  const exists = (p: string) => !fresh && existsSync(join(dir, p));
  const rawDyne = root?.conf?.DYNE as Record<string, string[]> | undefined;
  const ctx: CreateContext = {
    name,
    ...(sub === undefined ? {} : { sub }),
    ...(pattern === undefined ? {} : { pattern }),
    project: root ? projectNameOf(root) : name,
    ...(rawDyne === undefined ? {} : { dyne: rawDyne }),
    where,
    exists,
    popVersion: POP_VERSION,
  };
  const out = checkOutput(await tpl.render(ctx), req.template);

  const planned: PlannedFile[] = Object.entries(out.files).map(([path, text]) => ({ path, text, exists: exists(path) }));
  const actions: FileAction[] = planned.map((f) => ({ path: f.path, action: f.exists ? "replace" : "create" }));
  if (out.schema !== undefined) actions.push({ path: out.schema, action: exists(out.schema) ? "replace" : "create" });
  const todo: string[] = [];
  // The template's own conf.ts, when it writes one, is what it is: no DYNE edit on top of it.
  if (out.dyne && root && rawDyne !== undefined && root.confFile && !Object.hasOwn(out.files, relative(dir, root.confFile))) {
    const conf = readFileSync(root.confFile, "utf8");
    const edit = addToDyne(conf, rawDyne, out.dyne);
    const confPath = relative(dir, root.confFile);
    const missing = Object.entries(out.dyne).filter(([k]) => !Object.hasOwn(rawDyne, k));
    if ("problem" in edit) {
      const entries = missing.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ");
      todo.push(`add ${entries} to DYNE in ${join(where, confPath)} (not edited: ${edit.problem})`);
    } else if (edit.added.length > 0) {
      planned.push({ path: confPath, text: edit.text, exists: true });
      actions.push({ path: confPath, action: "edit" });
    }
  }
  if (!fresh) {
    sameButCase(dir, where, actions);
    unmetSigs(dir, where, planned);
  }
  for (const a of actions)
    if (a.action !== "edit" && !fresh && isDir(join(dir, a.path)))
      throw new UsageError(`${join(where, a.path)} is a folder: nothing written`, PATH, { hint: false });
  const clash = actions.filter((a) => a.action === "replace");
  if (clash.length > 0 && !req.force) {
    const list = clash.map((a) => join(where, a.path)).join(", ");
    throw new UsageError(
      `${list} ${clash.length === 1 ? "exists" : "exist"}: nothing written; pass --force to replace ${clash.length === 1 ? "it" : "them"} (and only ${clash.length === 1 ? "it" : "them"})`,
      PATH,
      { hint: false },
    );
  }
  const notes = [...(out.notes ?? [])];
  if (tpl.target === "new") {
    const outer = enclosingProject(dir);
    if (outer !== undefined) {
      const inner = relative(outer, dir);
      notes.push(
        `this is inside the project ${quote(relative(process.cwd(), outer) || ".")}: its pop test runs these tests too and its tsc checks these files against its own hub; add ${quote(inner)} to the "exclude" of its tsconfig.json, or create the project elsewhere`,
      );
    }
  }
  let next = out.next ?? [];
  // pop test types the hub of a project only (conf.ts, pop.json or a "pop" package.json): elsewhere it runs untyped.
  if (tpl.target === "project" && !isProject(dir)) next = next.map((n) => (n.startsWith("pop test ") ? `pop test --no-types ${n.slice(9)}` : n));
  const result: CreateResult = { template: req.template, name: req.name, dir: where, dryRun: req.dryRun, files: actions, notes, todo, next };
  if (req.dryRun) return result;

  try {
    await writeFiles(dir, planned, out.schema === undefined ? undefined : async (staged) => [await schemaFile(staged, out.schema!, dir)]);
  } catch (e) {
    throw fsError(e, dir, where);
  }
  if (root?.confFile && actions.some((a) => a.action === "edit")) confEdited(root.confFile); // pop types reads the DYNE just written
  if (req.types && out.types !== false) for (const f of await refreshTypes(dir, where)) result.files.push({ path: f, action: "types" });
  return result;
}

const POP_VERSION: string = popVersion;

function parseName(req: CreateRequest, tpl: TemplateModule): { name: string; sub?: string } {
  const what = req.template === "project" ? "project" : req.template === "sub" ? "sub" : req.template === "service-type" ? "service type" : "template's";
  if (tpl.ref === "sub/name") {
    const parts = req.name.split("/");
    if (parts.length !== 2) throw new UsageError(`${quote(req.name)} is not SUB/NAME: give the sub and the module, e.g. "calc/stats"`, PATH);
    const empty = parts[0] === "" ? "sub" : parts[1] === "" ? "module" : undefined;
    if (empty) throw new UsageError(`${empty} name is empty in ${quote(req.name)}: give SUB/NAME, e.g. "calc/stats"`, PATH);
    const why = badName(parts[0]!, "sub", "calc") ?? badName(parts[1]!, "module", "stats");
    if (why) throw new UsageError(why, PATH);
    return { sub: parts[0]!, name: parts[1]! };
  }
  const why = badName(req.name, what === "template's" ? `"${req.template}"` : what);
  if (why) throw new UsageError(why, PATH);
  return { name: req.name };
}

function checkPattern(req: CreateRequest, tpl: TemplateModule): string | undefined {
  const choices = tpl.patterns;
  if (!choices || choices.length === 0) {
    if (req.pattern !== undefined) throw new UsageError(`template "${req.template}" takes no --pattern`, PATH);
    return undefined;
  }
  if (req.pattern === undefined) throw new UsageError(`template "${req.template}" needs --pattern: ${choices.join(", ")}`, PATH);
  if (!choices.includes(req.pattern)) throw new UsageError(`invalid value for --pattern: ${quote(req.pattern)}; choose from ${choices.join(", ")}`, PATH);
  return req.pattern;
}

/** A template's output, checked: every path relative and inside the target folder. */
function checkOutput(out: unknown, template: string): TemplateOutput {
  const o = out as TemplateOutput;
  const bad = (why: string) => new PopError(`template ${quote(template)} ${why}`);
  if (!o || typeof o !== "object" || !o.files || typeof o.files !== "object") throw bad("returned no files: render must return { files: { path: text } }");
  const paths = [...Object.keys(o.files), ...(o.schema === undefined ? [] : [o.schema])];
  for (const p of paths) {
    const segs = p.split("/");
    if (p === "" || isAbsolute(p) || p.includes("\\") || segs.some((s) => s === "" || s === "." || s === "..") || segs[0]!.startsWith(".pop-create-"))
      throw bad(`wants to write ${quote(p)}: paths must be relative and stay inside the target folder`);
  }
  for (const [p, t] of Object.entries(o.files)) if (typeof t !== "string") throw bad(`gave ${quote(p)} no text`);
  return o;
}

async function projectRootOf(hub: Hub, dir: string): Promise<PluginRoot> {
  const known = hubRoots(hub).find((r) => r.dir === dir);
  if (known) return known;
  try {
    return await readRoot(dir, "--in");
  } catch (e) {
    if (e instanceof DiscoveryError) throw new UsageError(e.message, PATH, { cause: e, hint: false });
    throw e;
  }
}

/**
 * A new file whose name differs only in case from one already there (store.ts beside Store.ts): two modules on a
 * case-sensitive disk, a clash on another, and tsc and bun test stumble on them. Refused.
 */
function sameButCase(dir: string, where: string, actions: FileAction[]): void {
  for (const a of actions) {
    if (a.action !== "create") continue;
    const parts = a.path.split("/");
    for (let i = 0; i < parts.length; i++) {
      const parent = join(dir, ...parts.slice(0, i));
      const entries = readdir(parent);
      if (!entries) break;
      const want = parts[i]!;
      const other = entries.find((e) => e !== want && e.toLowerCase() === want.toLowerCase());
      if (other)
        throw new UsageError(
          `${join(where, ...parts.slice(0, i), want)} differs only in case from ${join(where, ...parts.slice(0, i), other)}, which exists: nothing written; choose another name`,
          PATH,
          { hint: false },
        );
      if (!entries.includes(want)) break;
    }
  }
}

const SIG = /export\s+(?:async\s+)?(?:function\s*\*?\s*|const\s+|let\s+|var\s+)sig_([A-Za-z_$][\w$]*)/g;
const EXPORTED = /export\s+(?:async\s+)?(?:function\s*\*?\s*|const\s+|let\s+|var\s+|class\s+)([A-Za-z_$][\w$]*)/g;

/**
 * A sub whose contracts/init.ts has sig contracts requires those functions of every module but init (docs/plugins.md):
 * a module written without them, or a sig contract written over modules that lack them, would fail to load and take
 * the project's tests with it. Refused, naming what is missing (text read, nothing imported).
 */
function unmetSigs(dir: string, where: string, planned: PlannedFile[]): void {
  const text = (path: string) => planned.find((f) => f.path === path)?.text ?? readText(join(dir, path));
  const folders = new Set<string>();
  for (const f of planned) {
    const m = /^(.+)\/(?:contracts\/init|[^/]+)\.(?:ts|mts|js|mjs)$/.exec(f.path);
    if (m && !m[1]!.startsWith("test") && !m[1]!.endsWith("/contracts")) folders.add(m[1]!);
  }
  for (const folder of folders) {
    const contract = `${folder}/contracts/init.ts`;
    const sigs = [...(text(contract) ?? "").matchAll(SIG)].map((m) => m[1]!);
    if (sigs.length === 0) continue;
    const contractNew = planned.some((f) => f.path === contract);
    const modules = contractNew ? (readdir(join(dir, folder)) ?? []).map((e) => `${folder}/${e}`) : [];
    for (const f of planned) if (f.path.startsWith(`${folder}/`) && !f.path.slice(folder.length + 1).includes("/")) modules.push(f.path);
    for (const path of new Set(modules)) {
      const base = path.slice(folder.length + 1);
      if (!/\.(?:ts|mts|js|mjs)$/.test(base) || /^(?:init|_)|\.(?:test|spec|d)\./.test(base)) continue;
      const exported = new Set([...(text(path) ?? "").matchAll(EXPORTED)].map((m) => m[1]!));
      const missing = sigs.filter((s) => !exported.has(s));
      if (missing.length === 0) continue;
      const names = missing.map((s) => `"${s}"`).join(", ");
      throw new UsageError(
        contractNew && !planned.some((p) => p.path === path)
          ? `${join(where, contract)} would require ${names} of every module of ${quote(folder)}, and ${join(where, path)} lacks them: nothing written; create this sub under a new name`
          : `${join(where, path)} would not load: ${join(where, contract)} requires ${names} of every module of ${quote(folder)}: nothing written; write the module by hand with them, or put it in another sub`,
        PATH,
        { hint: false },
      );
    }
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function projectNameOf(root: PluginRoot): string {
  const n = root.conf?.NAME;
  return typeof n === "string" && n !== "" ? n : root.dir.split("/").pop()!;
}

/** The project's config JSON Schema (what `pop config schema` prints), from the conf.ts just written in `staged`. */
async function schemaFile(staged: string, path: string, dir: string): Promise<PlannedFile> {
  const { configSchema, definitions } = await import("../config/index.ts");
  const { toJson } = await import("../output.ts");
  const root = await readRoot(staged, "pop create");
  const name = projectNameOf(root);
  const defs = definitions({ roots: [root] }, [name], { cli: name });
  return { path, text: `${toJson(configSchema(defs.top, defs.projects))}\n`, exists: existsSync(join(dir, path)) };
}

/** `pop types` on the folder written, when that command exists in this build; a failure is a warning (the files are fine). */
async function refreshTypes(dir: string, where: string): Promise<string[]> {
  const types = (await import("../types/index.ts")) as Record<string, unknown>;
  const writeTypes = types.writeTypes as ((o: { dir: string }) => Promise<{ files: string[] }>) | undefined;
  if (typeof writeTypes !== "function") return [];
  try {
    const { files } = await writeTypes({ dir });
    return files.map((f) => (isAbsolute(f) ? relative(dir, f) : f));
  } catch (e) {
    log.warn(`the hub's types were not written: ${(e as Error).message}; run "pop types ${where}"`);
    return [];
  }
}

const WHY: Record<string, string> = {
  ENOTDIR: "a file is where a folder must go",
  EISDIR: "a folder is where a file must go",
  EACCES: "permission denied: make the folder writable",
  EPERM: "not permitted: make the folder writable",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
};

/** A file-system failure while writing, as one line naming the file and why (after writeFiles undid everything). */
function fsError(e: unknown, dir: string, where: string): unknown {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (e instanceof PopError || typeof err?.code !== "string") return e;
  // The staging folder (.pop-create-*) is pop's own: a failure there is a failure to write the folder the user named.
  const at = [err.dest, err.path].find((p) => typeof p === "string" && !p.includes("/.pop-create-")) ?? dir;
  const rel = relative(dir, at);
  const file = rel === "" ? where : rel.startsWith("..") ? at : join(where, rel);
  const why = WHY[err.code] ?? err.message.replace(/^[A-Z0-9_]+:\s*/, "").replace(/,\s*\w+\s+'[^']*'(\s*->\s*'[^']*')?$/, "");
  return new PopError(`cannot write ${quote(file)}: ${why} (${err.code}); nothing was written`, { cause: e });
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest folder above `dir` that holds a conf.ts (a project a new one would land inside), if any. */
function enclosingProject(dir: string): string | undefined {
  for (let d = dirname(dir); ; d = dirname(d)) {
    if (existsSync(join(d, "conf.ts"))) return d;
    if (dirname(d) === d) return undefined;
  }
}
