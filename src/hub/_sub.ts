import { isDirectory, isFile, nodeFs } from "../_fs.ts";
import { basename, join, resolve } from "../_path.ts";
import { PluginLoadError, PopError, RefError, UsageError } from "../errors.ts";
import { fail, loadModule, loadModules, loadModuleSync, moduleObject, newRecord, shutdownModule } from "./_module.ts";
import { hide, state, SUB, subMeta } from "./_meta.ts";
import { placeSub } from "./_place.ts";
import { EXTS, listContracts, listNames, moduleName, RESERVED_DIRS, subName } from "./_scan.ts";
import type { Hub, LoadMode, ModuleRecord, SubMeta, SubObject } from "./_types.ts";

/** Options of `hub.pop.sub.add`. */
export interface AddSubOptions {
  /** A dyne name: the folders that plugin roots, conf.ts DYNE and packages registered for it. */
  dyneName?: string;
  /** Folders of the sub (instead of, or besides, a dyne name). */
  path?: string | string[];
  /** Name on the hub; defaults to the dyne name or the folder's name. */
  name?: string;
  /** "lazy" (default) imports a module on first use; "eager" imports all of them now. */
  load?: LoadMode;
  /** Nest the new sub under another one: `{ path: "./extra", sub: hub.mods }` makes `hub.mods.extra`. */
  sub?: Record<string, any>;
  /** `false`: do not run the sub's init module's `__init__` (POP's `init=False`). */
  init?: boolean;
  /** `false`: do not call `__virtual__`; every module loads (POP's `virtual=False`). */
  virtual?: boolean;
  /** Any load failure in this sub throws, as on a strict hub (POP's `stop_on_failures`). */
  stopOnFailures?: boolean;
}

const ADD_OPTIONS = new Set(["dyneName", "path", "name", "load", "sub", "init", "virtual", "stopOnFailures"]);

/** A bad call of hub.pop.sub.add / remove / reload: a usage error naming the call. */
function subUsage(message: string): UsageError {
  return new UsageError(message, "hub.pop.sub", { hint: false });
}

const RESERVED = new Set(["pop", "OPT"]);

/** Add a sub to the hub (POP's `hub.pop.sub.add`): scan its folders, run its init, load its modules per `load`. Adding the same sub again is a no-op. */
export async function addSub(hub: Hub, opts: AddSubOptions): Promise<SubObject> {
  const meta = await addSubMeta(hub, opts);
  if (meta) return meta.object;
  const name = opts?.name ?? opts?.dyneName;
  return (name !== undefined && state(hub).placed.has(name) ? hub[name] : undefined) ?? {}; // a placed sub is what isolateSub / remoteSub put there
}

/**
 * addSub's work, resolving to the sub's meta (undefined when disabled). Internal callers await this one: awaiting a
 * promise of the sub object makes the promise machinery read its `.then`, which a lazy sub answers by probing for a
 * module file named then.ts (four stats).
 */
export async function addSubMeta(hub: Hub, opts: AddSubOptions, tolerant = false): Promise<SubMeta | undefined> {
  const s = state(hub);
  // loadHub's own adds (tolerant) pass options it built from its roots: only a caller's are checked.
  if (!tolerant) checkAddOptions(opts);
  const parent = opts.sub === undefined ? undefined : subMeta(opts.sub);
  const dirs: string[] = [];
  // A sub marked remote needs no folder here: its server has the code (a split machine has only its own roots).
  const remoteOnly = parent === undefined && s.placed.size > 0 && s.placed.get(opts.name ?? opts.dyneName ?? "")?.kind === "remote";
  if (opts.dyneName !== undefined) {
    const found = s.dyne.get(opts.dyneName);
    if (!found && !remoteOnly) throw noDyne(hub, opts.dyneName);
    if (found) dirs.push(...found);
  }
  if (opts.path !== undefined) for (const p of Array.isArray(opts.path) ? opts.path : [opts.path]) dirs.push(resolve(p));
  const name = opts.name ?? opts.dyneName ?? (dirs[0] ? basename(dirs[0]) : undefined);
  if (!name || (dirs.length === 0 && !remoteOnly)) throw subUsage("hub.pop.sub.add needs a dyneName or a path");
  if (!subName(name)) return badFolder(hub, name, dirs, tolerant && !parent);
  const holder = parent ? parent.object : hub;
  const ref = parent ? `${parent.ref}.${name}` : name;
  if (!parent && RESERVED.has(name) && hub[name] !== undefined) throw subUsage(`cannot add a sub named "${name}": the name is reserved`);
  const existing = parent ? (parent.subs.has(name) ? subMeta(parent.subs.get(name)) : undefined) : s.subs.get(name);
  if (existing) return addedAgain(existing, ref, dirs);
  if (parent && Object.hasOwn(parent.object, name)) throw subUsage(`cannot add sub "${ref}": "${parent.ref}" already has a module or value named "${name}"`);
  // Disabled on request: nothing to warn about; a ref into it says it is disabled.
  if (s.disabled.has(ref)) return undefined;
  const placed = parent ? undefined : s.placed.get(name);
  if (placed && !placed.placing) {
    if (hub[name] !== undefined) return s.subs.get(name);
    await placeSub(hub, name, dirs, tolerant);
    const added = s.subs.get(name);
    if (added && s.onSubAdded) for (const f of s.onSubAdded) f(added); // --watch: an isolated sub restarts on a change
    return added;
  }
  for (const d of dirs) if (!isDirectory(d)) noFolder(hub, ref, d);
  const meta = buildSub(hub, name, ref, dirs, opts.load ?? "lazy", parent);
  if (opts.init === false) meta.init = false;
  if (opts.virtual === false) meta.virtual = false;
  if (opts.stopOnFailures) meta.stopOnFailures = true;
  if (parent) {
    parent.subs.set(name, meta.object);
    Object.defineProperty(parent.object, name, { value: meta.object, enumerable: true, writable: true, configurable: true });
  } else {
    holder[name] = meta.object;
    s.subs.set(name, meta);
  }
  const activation = activate(hub, meta, tolerant);
  pending.set(meta, activation);
  try {
    await activation;
  } finally {
    pending.delete(meta);
  }
  // A top-level sub added from another sub's init (poppy's __init__ adding rpc) goes if that sub's activation is undone.
  if (!parent) activating?.getStore()?.added.push(meta);
  if (s.onSubAdded) for (const f of s.onSubAdded) f(meta);
  return meta;
}

/** A sub added again: the same folders are a no-op (waiting for an add still running its inits), others an error. */
async function addedAgain(existing: SubMeta, ref: string, dirs: string[]): Promise<SubMeta> {
  if (existing.dirs.join("\0") !== dirs.join("\0"))
    throw subUsage(`sub "${ref}" is already on the hub (from ${existing.dirs.join(", ")}); give the new one another name`);
  // Another add of it is still running its inits: this one resolves (or rejects) with that one, unless it comes
  // from those inits (a sub adding itself again), which must not wait for themselves.
  const running = pending.get(existing);
  if (running && !within(existing)) await running;
  return existing;
}

/** hub.pop.sub.add's options, checked: an object of known options, a known load mode, `sub` a sub of the hub. */
function checkAddOptions(opts: AddSubOptions): void {
  if (!opts || typeof opts !== "object")
    throw subUsage(`hub.pop.sub.add takes an options object, e.g. { dyneName: "rpc" } or { path: "./rpc" }; got ${JSON.stringify(opts)}`);
  const unknown = Object.keys(opts).filter((k) => !ADD_OPTIONS.has(k));
  if (unknown.length > 0)
    throw subUsage(
      `hub.pop.sub.add: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; known: ${[...ADD_OPTIONS].join(", ")}`,
    );
  if (opts.load !== undefined && opts.load !== "lazy" && opts.load !== "eager")
    throw subUsage(`hub.pop.sub.add: load must be "lazy" or "eager", got ${JSON.stringify(opts.load)}`);
  if (opts.sub !== undefined && !subMeta(opts.sub)) throw subUsage("hub.pop.sub.add: `sub` must be a sub of the hub, e.g. { path, sub: hub.mods }");
}

function noFolder(hub: Hub, ref: string, dir: string): void {
  state(hub).warn(`sub "${ref}": folder ${dir} does not exist or is not readable; the sub has no modules from it`);
}

function noDyne(hub: Hub, dyneName: string): RefError {
  const known = [...state(hub).dyne.keys()].sort().join(", ") || "none";
  return new RefError(`no dyne "${dyneName}" (known: ${known}); add its plugin root with --plugins DIR or POP_PLUGIN_PATH`, dyneName);
}

const SUB_NAMES = "use ASCII letters, digits, _ and -, starting with a letter";

/** A root's folder with a name no ref can reach (1num, "sp ace", ünï): one bad folder must not take the hub down (loadHub's adds). */
function badFolder(hub: Hub, name: string, dirs: string[], tolerant: boolean): undefined {
  if (!tolerant) throw badName(name);
  const s = state(hub);
  const message = `${dirs.join(", ")}: a sub cannot be named ${JSON.stringify(name)} (${SUB_NAMES}); rename the folder, or start its name with _ to keep it off the hub`;
  if (s.strict) throw new PopError(message);
  s.warn(message);
  return undefined;
}

function badName(name: string): UsageError {
  return subUsage(`hub.pop.sub.add: ${JSON.stringify(name)} is not a sub name: ${SUB_NAMES}`);
}

/** A sub's activation under way: the sub, the top-level subs its inits added, the activation it runs in (if any). */
interface Activation {
  meta: SubMeta;
  added: SubMeta[];
  outer: Activation | undefined;
}

/** The activation the current code runs in (followed across awaits), set only while a sub activates. */
let activating: import("node:async_hooks").AsyncLocalStorage<Activation> | undefined;

/** Subs whose add is still running their inits: a second add of the same sub waits for it. */
const pending = new WeakMap<SubMeta, Promise<void>>();

/** Whether the current code runs inside `meta`'s activation (its inits, or those of a sub they add). */
function within(meta: SubMeta): boolean {
  for (let a = activating?.getStore(); a; a = a.outer) if (a.meta === meta) return true;
  return false;
}

/**
 * Run a new sub's inits (and, eager, load its modules) atomically: if its init module (or a sub-sub's) fails, or
 * under --strict or stopOnFailures any module does, the modules it loaded are shut down (last first), the sub is taken
 * off the hub again, and the error is thrown. `tolerant` (loadHub adding every dyne, not strict) keeps a failed init
 * as a load failure of that module, as before, so one broken sub does not end a command that never calls it. The
 * top-level subs its inits added are undone with it (last added first): the hub is as it was before the add.
 */
function activate(hub: Hub, meta: SubMeta, tolerant: boolean): Promise<void> {
  // No plugin code runs while a lazy sub without init files activates: nothing can add a sub to undo, so no async
  // context is needed (loading node:async_hooks and entering AsyncLocalStorage is ~0.9 ms of a one-shot pop call).
  if (meta.load !== "eager" && !hasInit(hub, meta)) return Promise.resolve();
  return runActivation(hub, meta, tolerant);
}

async function runActivation(hub: Hub, meta: SubMeta, tolerant: boolean): Promise<void> {
  const s = state(hub);
  const mark = s.failures.length;
  activating ??= new (require("node:async_hooks") as typeof import("node:async_hooks")).AsyncLocalStorage<Activation>();
  const outer = activating.getStore();
  const added: SubMeta[] = [];
  try {
    await activating.run({ meta, added, outer }, () => initSub(hub, meta));
    if (!tolerant) {
      const failed = s.failures.slice(mark).find((f) => f.ref === `${meta.ref}.init` || (f.ref.startsWith(`${meta.ref}.`) && f.ref.endsWith(".init")));
      if (failed) throw failed;
    }
    // Activated: what its inits added belongs to the activation this one runs in, if any (undone with it).
    outer?.added.push(...added);
  } catch (e) {
    await rollback(hub, meta);
    for (const other of added.reverse()) if (s.subs.get(other.name) === other) await rollback(hub, other);
    throw e;
  }
}

/** Take a sub whose activation failed back off the hub: its loaded modules shut down, last loaded first. */
async function rollback(hub: Hub, meta: SubMeta): Promise<void> {
  const s = state(hub);
  const inside = (m: SubMeta | undefined): boolean => {
    for (; m; m = m.parent) if (m === meta) return true;
    return false;
  };
  for (const rec of s.loaded.filter((r) => inside(r.sub)).reverse()) {
    const e = await shutdownModule(hub, rec);
    if (e) s.warn(`while undoing sub "${meta.ref}": ${e.message}`);
  }
  if (meta.parent) {
    meta.parent.subs.delete(meta.name);
    delete meta.parent.object[meta.name];
  } else if (s.subs.get(meta.name) === meta) {
    s.subs.delete(meta.name);
    delete hub[meta.name];
  }
}

/** Take a sub off the hub (POP's `hub.pop.sub.remove`): its modules shut down (reverse load order), then it is gone. */
export async function removeSub(hub: Hub, ref: string): Promise<void> {
  const s = state(hub);
  const parts = ref.split(".");
  if (parts[0] === "pop" && parts.length === 1) throw subUsage('the built-in "pop" sub cannot be removed');
  let meta = s.subs.get(parts[0]!);
  for (let i = 1; meta && i < parts.length; i++) meta = subMeta(meta.subs.get(parts[i]!));
  if (!meta) throw new RefError(`no sub "${ref}" to remove (subs: ${[...s.subs.keys()].join(", ")})`, ref);
  const inside = (m: SubMeta | undefined): boolean => {
    for (; m; m = m.parent) if (m === meta) return true;
    return false;
  };
  const errors: Error[] = [];
  for (let i = s.loaded.length - 1; i >= 0; i--) {
    const rec = s.loaded[i];
    if (rec && inside(rec.sub)) {
      const e = await shutdownModule(hub, rec);
      if (e) errors.push(e);
    }
  }
  if (meta.parent) {
    meta.parent.subs.delete(meta.name);
    delete meta.parent.object[meta.name];
  } else {
    s.subs.delete(meta.name);
    delete hub[meta.name];
  }
  if (errors.length > 0) throw new (await import("../errors.ts")).ShutdownError(errors);
}

/** The modules of a preloaded sub, by name: each one's file and exports (and its source, for `pop tree`). */
export type PreloadedModules = Record<string, { file: string; exports: Record<string, unknown>; source?: string }>;

/** A preloaded sub-sub: its modules, its own sub-subs. */
export interface PreloadedTree {
  modules: PreloadedModules;
  subs?: Record<string, PreloadedTree>;
}

/**
 * A sub whose modules are already imported (the `pop` sub itself), or are stand-ins for modules running elsewhere (an
 * isolated or remote sub), with `subs` its sub-subs (`hub.name.admin.x`), nested the same way. Such a sub has no folders
 * here: nothing is scanned, and a name that is neither a module nor a sub-sub of it is undefined.
 */
export function addPreloadedSub(hub: Hub, name: string, modules: PreloadedModules, subs: Record<string, PreloadedTree> = {}): SubMeta {
  const meta = preloadedMeta(hub, name, name, { modules, subs }, undefined);
  hub[name] = meta.object;
  state(hub).subs.set(name, meta);
  // Installed when first read, like any lazy module: `pop call` of a user function never pays for them.
  return meta;
}

function preloadedMeta(hub: Hub, name: string, ref: string, tree: PreloadedTree, parent: SubMeta | undefined): SubMeta {
  const meta = newMeta(hub, name, ref, [], "eager", parent);
  for (const mod in tree.modules) {
    const m = tree.modules[mod]!;
    const rec = newRecord(hub, meta, mod, m.file);
    rec.preloaded = m.exports;
    if (m.source !== undefined) rec.source = m.source;
    meta.modules.set(mod, rec);
  }
  meta.scanned = true;
  for (const child in tree.subs) {
    const sub = tree.subs[child]!;
    if (meta.modules.has(child)) continue; // a module of that name wins, as for subs from folders
    const c = preloadedMeta(hub, child, `${ref}.${child}`, sub, meta);
    meta.subs.set(child, c.object);
    Object.defineProperty(meta.object, child, { value: c.object, enumerable: true, writable: true, configurable: true });
  }
  return meta;
}

/**
 * A sub of built-in modules that plugin roots may extend (the deploy tool's `service` sub): the dyne's folders
 * from every root, plus the built-ins for the names no root defines. A root's module of a built-in's name replaces
 * it only with `export const __override__ = true` (app merging), else it is a load error naming both.
 */
export async function addBuiltinSub(
  hub: Hub,
  name: string,
  modules: Record<string, { file: string; exports: Record<string, unknown>; source?: string }>,
): Promise<SubObject> {
  const s = state(hub);
  // A sub of that name already on the hub (loadHub added the roots' service/ folders) gets the built-ins too: the
  // roots' modules beside them, not instead of them.
  const meta = s.subs.get(name) ?? (s.dyne.has(name) ? await addSubMeta(hub, { dyneName: name }) : undefined);
  const sub = meta ?? newMeta(hub, name, name, [], "lazy", undefined);
  if (!meta) {
    hub[name] = sub.object;
    s.subs.set(name, sub);
  }
  for (const [mod, m] of Object.entries(modules)) {
    const had = sub.modules.get(mod);
    if (had && (had.file === m.file || had.others.includes(m.file))) continue; // added already
    const own = sub.dirs.length > 0 ? findModule(hub, sub, mod) : undefined;
    if (own) {
      own.others = [m.file, ...own.others];
      continue;
    }
    const rec = newRecord(hub, sub, mod, m.file);
    rec.preloaded = m.exports;
    if (m.source !== undefined) rec.source = m.source;
    sub.modules.set(mod, rec);
  }
  if (sub.dirs.length === 0) sub.scanned = true;
  return sub.object;
}

function newMeta(hub: Hub, name: string, ref: string, dirs: string[], load: LoadMode, parent: SubMeta | undefined): SubMeta {
  const meta: SubMeta = {
    name,
    ref,
    dirs,
    load,
    parent,
    modules: new Map(),
    files: new Map(),
    subs: new Map(),
    entries: undefined,
    scanned: false,
    contracts: new Map(),
    rcontracts: parent ? [...parent.rcontracts] : [],
    object: {},
  };
  meta.object = Object.create(loader(hub, meta)) as SubObject;
  hide(meta.object, SUB, meta);
  return meta;
}

/**
 * The visible step that makes lazy loading work without touching the call path: a sub object's
 * prototype. Property reads that find an own property (every loaded module, sub-sub and data) never
 * reach it; a miss asks it, and it loads the module of that name, which then becomes an own property.
 */
function loader(hub: Hub, meta: SubMeta): object {
  let triedAll = false;
  return new Proxy(Object.create(null) as object, {
    get(_target, key) {
      if (typeof key !== "string") return undefined;
      const rec = findModule(hub, meta, key);
      if (rec && rec.name === key) {
        loadModuleSync(hub, rec, true); // a failure is thrown to this read, just below: said once, by whoever gets it
        if (rec.state !== "loaded" && rec.state !== "pending") throw notLoaded(rec);
        moduleObject(hub, rec);
      } else if (NOT_MODULES.has(key)) {
        return undefined; // probed by await, JSON, inspection: no file of that name, so never load for it
      } else if (findChild(hub, meta, key)) {
        // a sub-sub, now an own property
      } else if (!triedAll) {
        // No file of that name: it may be a module's __virtualname__, known only once imported.
        triedAll = true;
        loadVirtualNamed(hub, meta);
      }
      return Object.hasOwn(meta.object, key) ? meta.object[key] : undefined;
    },
  });
}

/** Names that inspection (await, JSON, console.log, test matchers) probes on any object: a miss on them loads nothing more. */
const NOT_MODULES = new Set([
  "then",
  "toJSON",
  "constructor",
  "toString",
  "valueOf",
  "inspect",
  "asymmetricMatch",
  "$$typeof",
  "nodeType",
  "length",
  "prototype",
]);

/** Load every pending module of a sub on the synchronous path. */
export function loadAllSync(hub: Hub, meta: SubMeta): void {
  scanModules(hub, meta);
  for (const rec of [...meta.modules.values()]) if (rec.state === "pending") loadModuleSync(hub, rec);
}

/**
 * Load (synchronously) only the pending modules that may declare a `__virtualname__` (their source names it, or
 * re-exports another file's exports): a name that matches no file can only be one of theirs. A data read like
 * `hub.rpc.CACHE` must not load the whole sub.
 */
export function loadVirtualNamed(hub: Hub, meta: SubMeta): void {
  scanModules(hub, meta);
  for (const rec of [...meta.modules.values()]) if (rec.state === "pending" && mayRename(rec.file)) loadModuleSync(hub, rec);
}

/** Subs whose modules a ref that missed has loaded: a second miss loads nothing again. */
const loadedOnMiss = new WeakSet<SubMeta>();

/**
 * A ref names something the sub has no file or folder for: load the sub's modules not loaded yet (the async way, so
 * an async `__virtual__` or `__init__` is awaited), once per sub, so a `__virtualname__` is found as `pop tree` finds it.
 */
export async function loadOnMiss(hub: Hub, meta: SubMeta): Promise<void> {
  if (loadedOnMiss.has(meta)) return;
  loadedOnMiss.add(meta);
  scanModules(hub, meta);
  await loadModules(
    hub,
    [...meta.modules.values()].filter((r) => r.state === "pending"),
  );
}

/** Whether a module's source may give it a `__virtualname__`: it names one, or `export *` brings one from another file. */
function mayRename(file: string): boolean {
  try {
    const text = nodeFs().readFileSync(file, "utf8");
    return text.includes("__virtualname__") || /export\s*\*/.test(text);
  } catch {
    return true;
  }
}

/** Files Bun could import that are not plugins: said once when a sub is listed, never skipped silently. */
const OTHER_EXT = /\.(cjs|cts|tsx|jsx)$/;

/** The record of module `name`, found by probing the sub's folder listings (not by importing anything). */
export function findModule(hub: Hub, meta: SubMeta, name: string): ModuleRecord | undefined {
  const known = meta.modules.get(name);
  if (known || meta.scanned || meta.subs.has(name) || moduleName(`${name}.ts`) !== name) return known;
  const files: string[] = [];
  for (let i = 0; i < meta.dirs.length; i++) {
    // Listed folders are looked up in memory; an unlisted (lazy) folder is probed: four stats, not a listing.
    const entries = meta.entries?.[i];
    for (const ext of EXTS) if (entries ? entries.has(name + ext) : isFile(join(meta.dirs[i]!, name + ext))) files.push(join(meta.dirs[i]!, name + ext));
  }
  if (files.length === 0) return undefined;
  if (!meta.entries) {
    const dirs = childDirs(meta, name);
    if (dirs.length > 0) {
      reportClash(hub, `${meta.ref}.${name}`, files[files.length - 1]!, dirs); // the folder wins
      return undefined;
    }
  }
  const file = files[files.length - 1]!;
  const claimed = meta.files.get(file);
  if (claimed) return claimed;
  return moduleAt(hub, meta, name, file, files.slice(0, -1));
}

/** The record of module `name` of `meta`, at `file` (found by findModule, or by pop call's lean path before the hub existed: src/cli/_leanhub.ts). */
export function moduleAt(hub: Hub, meta: SubMeta, name: string, file: string, others: string[] = []): ModuleRecord {
  const rec = newRecord(hub, meta, name, file, others);
  meta.modules.set(name, rec);
  meta.files.set(file, rec);
  return rec;
}

/**
 * A plugin file that appeared in one of `meta`'s folders while pop runs (hot reload), given as that folder's index and
 * the entry's name: a sub that listed its folders notes it, and one that made its records from the listing (scanned:
 * eager, or listed whole by pop tree) gets a record for it, returned for the caller to load. Undefined when it makes
 * no new module (a helper, a test, a name the sub already has) or the sub is lazy and will find it by name anyway.
 */
export function addedFile(hub: Hub, meta: SubMeta, index: number, entry: string): ModuleRecord | undefined {
  const n = moduleName(entry);
  if (n === undefined || n.includes(".") || meta.modules.has(n) || meta.subs.has(n)) return undefined;
  meta.entries?.[index]?.add(entry);
  if (!meta.scanned) return undefined;
  const file = `${meta.dirs[index]}/${entry}`;
  const rec = moduleAt(hub, meta, n, file);
  return rec;
}

/**
 * A folder that appeared in one of `meta`'s folders while pop runs (hot reload): a sub that made its records from the
 * listing (scanned) gets it as a sub-sub, returned for the caller to load; undefined when the sub is lazy (it finds
 * it by name), already has that name (a module or a sub-sub) or the name is disabled or reserved.
 */
export function addedFolder(hub: Hub, meta: SubMeta, index: number, entry: string): SubMeta | undefined {
  // The folders a listing takes for sub-subs (listNames): no dot, no leading "_", not a reserved name.
  if (!meta.scanned || entry.includes(".") || entry.startsWith("_") || RESERVED_DIRS.has(entry)) return undefined;
  if (meta.subs.has(entry) || meta.modules.has(entry)) return undefined;
  if (state(hub).disabled.has(`${meta.ref}.${entry}`)) return undefined;
  meta.entries?.[index]?.add(entry);
  return addChild(hub, meta, entry, [`${meta.dirs[index]}/${entry}`]);
}

/** Make a record for every plugin file of the sub (tree, patterns, load-all and suggestions need them all). */
export function scanModules(hub: Hub, meta: SubMeta): void {
  if (meta.scanned) return;
  listSub(hub, meta);
  // Straight from the listing, not by probing each name (this loop runs once per file: keep it plain).
  const byName = new Map<string, string[]>();
  const others: string[] = [];
  for (let i = 0; i < meta.dirs.length; i++) {
    const dir = meta.dirs[i]!;
    for (const e of meta.entries![i]!) {
      const n = moduleName(e);
      if (n === undefined) {
        if (OTHER_EXT.test(e) && e.charCodeAt(0) !== 95 /* _ */ && !e.includes(".test.") && !e.includes(".spec.")) others.push(`${dir}/${e}`);
        continue;
      }
      const list = byName.get(n);
      if (list) list.push(`${dir}/${e}`);
      else byName.set(n, [`${dir}/${e}`]);
    }
  }
  for (const f of others.sort())
    state(hub).warn(`${f}: not a plugin file (pop loads .ts, .mts, .js and .mjs); rename it, or start its name with "_" if a plugin imports it`);
  for (const n of [...byName.keys()].sort()) {
    if (meta.modules.has(n) || meta.subs.has(n)) continue;
    const files = byName.get(n)!;
    // Several files for one name: folder order first (as listed), then extension order, as findModule probes.
    if (files.length > 1)
      files.sort(
        (x, y) =>
          meta.dirs.indexOf(x.slice(0, x.lastIndexOf("/"))) - meta.dirs.indexOf(y.slice(0, y.lastIndexOf("/"))) ||
          EXTS.indexOf(x.slice(x.lastIndexOf("."))) - EXTS.indexOf(y.slice(y.lastIndexOf("."))),
      );
    const file = files[files.length - 1]!;
    if (meta.files.has(file)) continue;
    const rec = newRecord(hub, meta, n, file, files.slice(0, -1));
    meta.modules.set(n, rec);
    meta.files.set(file, rec);
    if (n.includes("."))
      fail(
        hub,
        rec,
        new PluginLoadError(
          rec.ref,
          { file },
          `the file name makes the module name "${n}", which holds a dot and could never be called by ref; rename the file (e.g. ${n.replaceAll(".", "_")}.ts)`,
        ),
      );
  }
  meta.scanned = true;
}

function buildSub(hub: Hub, name: string, ref: string, dirs: string[], load: LoadMode, parent: SubMeta | undefined): SubMeta {
  const meta = newMeta(hub, name, ref, dirs, load, parent);
  // A lazy sub is not listed: its modules and sub-subs are found by name when first reached.
  const children = load === "eager" ? listEntries(hub, meta) : undefined;
  for (let i = 0; i < dirs.length; i++) {
    // A listed folder says whether it has contract folders; an unlisted one is asked (a probe, then a listing).
    const has = (folder: string) => meta.entries?.[i]?.has(folder) ?? isDirectory(join(dirs[i]!, folder));
    if (has("contracts")) {
      for (const c of listContracts(join(dirs[i]!, "contracts"))) {
        const files = meta.contracts.get(c.name) ?? [];
        files.push(c.file);
        meta.contracts.set(c.name, files);
      }
    }
    if (has("rcontracts")) for (const c of listContracts(join(dirs[i]!, "rcontracts"))) meta.rcontracts.push(c.file);
  }
  if (children) addChildren(hub, meta, children); // after the contracts: sub-subs inherit the recursive ones
  return meta;
}

/** List the sub's folders once: entry names for module lookups, and every sub-sub (a module of the same name is a clash). */
function listSub(hub: Hub, meta: SubMeta): void {
  if (!meta.entries) addChildren(hub, meta, listEntries(hub, meta));
}

/** Fill the sub's entry names; returns its child folders by name. */
function listEntries(hub: Hub, meta: SubMeta): Map<string, string[]> {
  const children = new Map<string, string[]>();
  meta.entries = [];
  for (const dir of meta.dirs) {
    const listing = listNames(dir);
    if (listing.unreadable) folderProblem(hub, meta, dir, listing.unreadable);
    meta.entries.push(new Set(listing.names));
    for (const d of listing.dirs) children.set(d.name, [...(children.get(d.name) ?? []), d.dir]);
  }
  return children;
}

function addChildren(hub: Hub, meta: SubMeta, children: Map<string, string[]>): void {
  const s = state(hub);
  for (const [childName, dirs] of children) {
    if (meta.subs.has(childName) || s.disabled.has(`${meta.ref}.${childName}`)) continue;
    const clash = findModule(hub, meta, childName);
    if (clash) {
      meta.modules.delete(childName);
      reportClash(hub, `${meta.ref}.${childName}`, clash.file, dirs);
    }
    addChild(hub, meta, childName, dirs);
  }
}

function addChild(hub: Hub, meta: SubMeta, name: string, dirs: string[]): SubMeta | undefined {
  const loop = loopsBack(meta, dirs);
  if (loop) {
    const s = state(hub);
    const message = `${loop}: a link back to an enclosing folder of sub "${meta.ref}"; it is not a sub-sub (remove the link, or point it elsewhere)`;
    if (s.strict) throw new PopError(message);
    s.warn(message);
    return undefined;
  }
  const child = buildSub(hub, name, `${meta.ref}.${name}`, dirs, meta.load, meta);
  meta.subs.set(name, child.object);
  Object.defineProperty(meta.object, name, { value: child.object, enumerable: true, writable: true, configurable: true });
  return child;
}

/** A sub folder that exists but cannot be listed: its modules are left out, and the log says why (strict: an error). */
function folderProblem(hub: Hub, meta: SubMeta, dir: string, why: string): void {
  const s = state(hub);
  const message = `${dir}: folder of sub "${meta.ref}" cannot be read (${why}); its modules are left out: make it readable (chmod a+rx)`;
  if (s.strict || meta.stopOnFailures) throw new PopError(message);
  s.warn(message);
}

/** A module file and a sub folder of the same name: the folder is the sub-sub, the file a load failure (reported once). */
function reportClash(hub: Hub, ref: string, file: string, dirs: string[]): void {
  const s = state(hub);
  if (s.failures.some((f) => f.ref === ref && f.location.file === file)) return;
  const err = new PluginLoadError(ref, { file }, `module name clashes with the sub folder ${dirs.join(", ")}; rename one of them`);
  s.failures.push(err);
  if (s.strict) throw err;
  s.warn(err.message);
}

/** A child folder that is (through a link) the sub's own folder or an enclosing one: following it would never end. */
function loopsBack(meta: SubMeta, dirs: string[]): string | undefined {
  const real = (p: string) => {
    try {
      return nodeFs().realpathSync(p);
    } catch {
      return p;
    }
  };
  const enclosing = new Set<string>();
  for (let m: SubMeta | undefined = meta; m; m = m.parent) for (const d of m.dirs) enclosing.add(real(d));
  return dirs.find((d) => enclosing.has(real(d)));
}

/** The folders of sub-sub `name` in an unlisted sub. */
function childDirs(meta: SubMeta, name: string): string[] {
  if (name === "" || name.includes(".") || name.includes("/") || name.startsWith("_") || RESERVED_DIRS.has(name)) return [];
  const out: string[] = [];
  for (const d of meta.dirs) {
    const dir = join(d, name);
    if (isDirectory(dir)) out.push(dir);
  }
  return out;
}

/** A sub-sub reached by name in a lazy sub: added now, its init run (an async init gates its functions). */
export function findChild(hub: Hub, meta: SubMeta, name: string): SubMeta | undefined {
  const known = meta.subs.get(name);
  if (known) return subMeta(known);
  if (meta.entries || state(hub).disabled.has(`${meta.ref}.${name}`)) return undefined;
  const dirs = childDirs(meta, name);
  if (dirs.length === 0) return undefined;
  const child = addChild(hub, meta, name, dirs);
  if (!child) return undefined;
  const init = findModule(hub, child, "init");
  if (init) loadModuleSync(hub, init);
  if (init?.loading) {
    const done = init.loading.then(() => void (child.initializing = undefined));
    child.initializing = done;
  }
  return child;
}

/** Whether a sub or any of its sub-subs has an init module (which initSub would load). */
function hasInit(hub: Hub, meta: SubMeta): boolean {
  if (findModule(hub, meta, "init")) return true;
  if (meta.subs.size === 0) return false; // a lazy sub not yet reached into: no Map iteration (a first use costs)
  for (const child of meta.subs.values()) if (hasInit(hub, subMeta(child)!)) return true;
  return false;
}

async function initSub(hub: Hub, meta: SubMeta): Promise<void> {
  const init = findModule(hub, meta, "init");
  if (init) await loadModule(hub, init);
  if (meta.load === "eager") await loadAll(hub, meta, false);
  for (const child of meta.subs.values()) {
    const cm = subMeta(child)!;
    await initSub(hub, cm);
  }
}

/** Load every pending module of a sub (and with `deep`, its sub-subs): imports run in parallel, installs and __init__ in name order, init first. */
export async function loadAll(hub: Hub, meta: SubMeta, deep: boolean): Promise<void> {
  scanModules(hub, meta);
  const pending: ModuleRecord[] = [];
  for (const r of meta.modules.values()) {
    if (r.state !== "pending") continue;
    // init first: it sets up the sub for the rest, as when the sub is added.
    if (r.name === "init") pending.unshift(r);
    else pending.push(r);
  }
  await loadModules(hub, pending);
  if (deep) for (const child of [...meta.subs.values()]) await loadAll(hub, subMeta(child)!, true);
}

/** Why a module that exists is not on the hub: its load error, or the reason it is off. */
export function notLoaded(rec: ModuleRecord): Error {
  if (rec.error) return rec.error;
  const why =
    rec.state === "virtual"
      ? `__virtual__ disabled it: ${rec.reason}`
      : rec.state === "shutdown"
        ? "it was shut down (the hub was closed, or its sub removed)"
        : (rec.reason ?? rec.state);
  return new PluginLoadError(rec.ref, rec.location ?? { file: rec.file }, why);
}
