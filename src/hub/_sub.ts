import { isDirectory, isFile, nodeFs } from "../_fs.ts";
import { basename, join, resolve } from "../_path.ts";
import { PluginLoadError, RefError } from "./_errors.ts";
import { fail, loadModule, loadModuleSync, moduleObject, settle } from "./_load.ts";
import { hide, state, SUB, subMeta } from "./_meta.ts";
import { listContracts, listNames, moduleName, RESERVED_DIRS } from "./_scan.ts";
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
}

const RESERVED = new Set(["pop", "OPT"]);

/** Add a sub to the hub (POP's `hub.pop.sub.add`): scan its folders, run its init, load its modules per `load`. */
export async function addSub(hub: Hub, opts: AddSubOptions): Promise<SubObject> {
  const s = state(hub);
  const dirs: string[] = [];
  if (opts.dyneName !== undefined) {
    const found = s.dyne.get(opts.dyneName);
    if (!found) {
      const known = [...s.dyne.keys()].sort().join(", ") || "none";
      throw new RefError(`no dyne "${opts.dyneName}" (known: ${known}); add its plugin root with --plugins DIR or POP_PLUGIN_PATH`, opts.dyneName);
    }
    dirs.push(...found);
  }
  if (opts.path !== undefined) for (const p of Array.isArray(opts.path) ? opts.path : [opts.path]) dirs.push(resolve(p));
  const name = opts.name ?? opts.dyneName ?? (dirs[0] ? basename(dirs[0]) : undefined);
  if (!name || dirs.length === 0) throw new TypeError("hub.pop.sub.add needs a dyneName or a path");
  if (RESERVED.has(name) && hub[name] !== undefined) throw new TypeError(`cannot add a sub named "${name}": the name is reserved`);
  const existing = s.subs.get(name);
  if (existing) {
    if (existing.dirs.join("\0") === dirs.join("\0")) return existing.object;
    throw new TypeError(`sub "${name}" is already on the hub (from ${existing.dirs.join(", ")}); give the new one another name`);
  }
  // Disabled on request: nothing to warn about; a ref into it says it is disabled.
  if (s.disabled.has(name)) return {};
  const meta = buildSub(hub, name, name, dirs, opts.load ?? "lazy", undefined);
  hub[name] = meta.object;
  s.subs.set(name, meta);
  await initSub(hub, meta);
  return meta.object;
}

/** A built-in sub whose modules are already imported (the `pop` sub itself). */
export function addPreloadedSub(hub: Hub, name: string, modules: Record<string, { file: string; exports: Record<string, unknown>; source?: string }>): SubMeta {
  const meta = newMeta(hub, name, name, [], "eager", undefined);
  for (const [mod, m] of Object.entries(modules)) {
    const rec = newRecord(meta, mod, m.file);
    rec.preloaded = m.exports;
    if (m.source !== undefined) rec.source = m.source;
    meta.modules.set(mod, rec);
  }
  meta.scanned = true;
  hub[name] = meta.object;
  state(hub).subs.set(name, meta);
  // Installed when first read, like any lazy module: `pop call` of a user function never pays for them.
  return meta;
}

function newMeta(hub: Hub, name: string, ref: string, dirs: string[], load: LoadMode, parent: SubMeta | undefined): SubMeta {
  const meta: SubMeta = {
    name, ref, dirs, load, parent,
    modules: new Map(), files: new Map(), subs: new Map(), entries: undefined, scanned: false,
    contracts: new Map(), rcontracts: parent ? [...parent.rcontracts] : [],
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
        loadModuleSync(hub, rec);
        if (rec.state === "failed") throw rec.error;
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
const NOT_MODULES = new Set(["then", "toJSON", "constructor", "toString", "valueOf", "inspect", "asymmetricMatch", "$$typeof", "nodeType", "length", "prototype"]);

/** Load every pending module of a sub on the synchronous path. */
export function loadAllSync(hub: Hub, meta: SubMeta): void {
  scanModules(hub, meta);
  for (const rec of [...meta.modules.values()]) if (rec.state === "pending") loadModuleSync(hub, rec);
}

/**
 * Load (synchronously) only the pending modules whose source mentions `__virtualname__`: a name that
 * matches no file can only be one of theirs. A data read like `hub.rpc.CACHE` must not load the whole sub.
 */
export function loadVirtualNamed(hub: Hub, meta: SubMeta): void {
  scanModules(hub, meta);
  for (const rec of [...meta.modules.values()]) if (rec.state === "pending" && mentionsVirtualName(rec.file)) loadModuleSync(hub, rec);
}

function mentionsVirtualName(file: string): boolean {
  try {
    return nodeFs().readFileSync(file, "utf8").includes("__virtualname__");
  } catch {
    return true;
  }
}

function newRecord(sub: SubMeta, name: string, file: string): ModuleRecord {
  return { name, file, others: [], sub, ref: `${sub.ref}.${name}`, state: "pending", contracts: [] };
}

const EXTS = [".ts", ".mts", ".js", ".mjs"];

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
  const rec = newRecord(meta, name, file);
  rec.others = files.slice(0, -1);
  meta.modules.set(name, rec);
  meta.files.set(file, rec);
  const why = state(hub).disabled.get(rec.ref);
  if (why !== undefined) {
    rec.state = "disabled";
    rec.reason = `disabled by ${why}`;
  }
  return rec;
}

/** Make a record for every plugin file of the sub (tree, patterns, load-all and suggestions need them all). */
export function scanModules(hub: Hub, meta: SubMeta): void {
  if (meta.scanned) return;
  listSub(hub, meta);
  // Straight from the listing, not by probing each name (this loop runs once per file: keep it plain).
  const byName = new Map<string, string[]>();
  for (let i = 0; i < meta.dirs.length; i++) {
    const dir = meta.dirs[i]!;
    for (const e of meta.entries![i]!) {
      const n = moduleName(e);
      if (n === undefined) continue;
      const list = byName.get(n);
      if (list) list.push(`${dir}/${e}`);
      else byName.set(n, [`${dir}/${e}`]);
    }
  }
  const disabled = state(hub).disabled;
  for (const n of [...byName.keys()].sort()) {
    if (meta.modules.has(n) || meta.subs.has(n)) continue;
    const files = byName.get(n)!;
    // Several files for one name: folder order first (as listed), then extension order, as findModule probes.
    if (files.length > 1) files.sort((x, y) => meta.dirs.indexOf(x.slice(0, x.lastIndexOf("/"))) - meta.dirs.indexOf(y.slice(0, y.lastIndexOf("/"))) || EXTS.indexOf(x.slice(x.lastIndexOf("."))) - EXTS.indexOf(y.slice(y.lastIndexOf("."))));
    const file = files[files.length - 1]!;
    if (meta.files.has(file)) continue;
    const rec = newRecord(meta, n, file);
    rec.others = files.slice(0, -1);
    meta.modules.set(n, rec);
    meta.files.set(file, rec);
    const why = disabled.get(rec.ref);
    if (why !== undefined) {
      rec.state = "disabled";
      rec.reason = `disabled by ${why}`;
    }
  }
  meta.scanned = true;
}

function buildSub(hub: Hub, name: string, ref: string, dirs: string[], load: LoadMode, parent: SubMeta | undefined): SubMeta {
  const meta = newMeta(hub, name, ref, dirs, load, parent);
  // A lazy sub is not listed: its modules and sub-subs are found by name when first reached.
  const children = load === "eager" ? listEntries(meta) : undefined;
  for (let i = 0; i < dirs.length; i++) {
    // A listed folder says whether it has contract folders; an unlisted one is asked.
    const has = (folder: string) => meta.entries?.[i]?.has(folder) ?? true;
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
  if (!meta.entries) addChildren(hub, meta, listEntries(meta));
}

/** Fill the sub's entry names; returns its child folders by name. */
function listEntries(meta: SubMeta): Map<string, string[]> {
  const children = new Map<string, string[]>();
  meta.entries = [];
  for (const dir of meta.dirs) {
    const listing = listNames(dir);
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
    if (s.strict) throw new Error(message);
    s.warn(message);
    return undefined;
  }
  const child = buildSub(hub, name, `${meta.ref}.${name}`, dirs, meta.load, meta);
  meta.subs.set(name, child.object);
  Object.defineProperty(meta.object, name, { value: child.object, enumerable: true, writable: true, configurable: true });
  return child;
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
  return meta.dirs.map((d) => join(d, name)).filter(isDirectory);
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

async function initSub(hub: Hub, meta: SubMeta): Promise<void> {
  const init = findModule(hub, meta, "init");
  if (init) await loadModule(hub, init);
  if (meta.load === "eager") await loadAll(hub, meta, false);
  for (const child of meta.subs.values()) {
    const cm = subMeta(child)!;
    await initSub(hub, cm);
  }
}

/** Load every pending module of a sub (and with `deep`, its sub-subs): imports run in parallel, installs and __init__ in name order. */
export async function loadAll(hub: Hub, meta: SubMeta, deep: boolean): Promise<void> {
  scanModules(hub, meta);
  const pending: ModuleRecord[] = [];
  for (const r of meta.modules.values()) {
    if (r.state !== "pending" || r.loading) continue;
    // init first: it sets up the sub for the rest, as when the sub is added.
    if (r.name === "init") pending.unshift(r);
    else pending.push(r);
  }
  const imported = await importAll(pending);
  for (let i = 0; i < pending.length; i++) {
    const rec = pending[i]!;
    if (rec.state !== "pending" || rec.loading) {
      await rec.loading;
      continue;
    }
    const exports = imported[i]!;
    const r = exports instanceof ImportFailure ? fail(hub, rec, exports.error) : settle(hub, rec, exports);
    if (r instanceof Promise) await (rec.loading = r);
  }
  for (const rec of meta.modules.values()) if (rec.loading && rec.state === "pending") await rec.loading;
  if (deep) for (const child of meta.subs.values()) await loadAll(hub, subMeta(child)!, true);
}

/** Import every file in parallel. The common case (nothing fails) adds no promise per module; a failure sorts them out once. */
async function importAll(recs: ModuleRecord[]): Promise<Array<Record<string, unknown> | ImportFailure>> {
  const load = (r: ModuleRecord) => r.preloaded ?? (import(r.file) as Promise<Record<string, unknown>>);
  try {
    return await Promise.all(recs.map(load));
  } catch {
    const settled = await Promise.allSettled(recs.map(load));
    return settled.map((s) => (s.status === "fulfilled" ? s.value : new ImportFailure(s.reason)));
  }
}

class ImportFailure {
  constructor(readonly error: unknown) {}
}
