import { basename, join, resolve } from "node:path";
import { PluginLoadError, RefError } from "./_errors.ts";
import { fail, loadModule, loadModuleSync, settle } from "./_load.ts";
import { hide, state, SUB, subMeta } from "./_meta.ts";
import { listContracts, listDir } from "./_scan.ts";
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
  if (s.disabled.has(name)) {
    s.warn(`sub "${name}" is disabled (${s.disabled.get(name)})`);
    return {};
  }
  const meta = buildSub(hub, name, name, dirs, opts.load ?? "lazy", undefined);
  hub[name] = meta.object;
  s.subs.set(name, meta);
  await initSub(hub, meta);
  return meta.object;
}

/** A built-in sub whose modules are already imported (the `pop` sub itself). */
export function addPreloadedSub(hub: Hub, name: string, modules: Record<string, { file: string; exports: Record<string, unknown> }>): SubMeta {
  const meta = newMeta(name, name, [], "eager", undefined);
  for (const [mod, m] of Object.entries(modules)) {
    const rec = newRecord(meta, mod, m.file);
    rec.preloaded = m.exports;
    meta.modules.set(mod, rec);
  }
  hub[name] = meta.object;
  state(hub).subs.set(name, meta);
  for (const rec of meta.modules.values()) loadModuleSync(hub, rec);
  return meta;
}

function newMeta(name: string, ref: string, dirs: string[], load: LoadMode, parent: SubMeta | undefined): SubMeta {
  const object: SubObject = {};
  const meta: SubMeta = { name, ref, dirs, load, modules: new Map(), subs: new Map(), contracts: new Map(), rcontracts: parent ? [...parent.rcontracts] : [], parent, object };
  hide(object, SUB, meta);
  return meta;
}

function newRecord(sub: SubMeta, name: string, file: string): ModuleRecord {
  return { name, file, others: [], sub, ref: `${sub.ref}.${name}`, state: "pending", contracts: [] };
}

function buildSub(hub: Hub, name: string, ref: string, dirs: string[], load: LoadMode, parent: SubMeta | undefined): SubMeta {
  const s = state(hub);
  const meta = newMeta(name, ref, dirs, load, parent);
  const children = new Map<string, string[]>();
  for (const dir of dirs) {
    for (const c of listContracts(join(dir, "contracts"))) {
      const files = meta.contracts.get(c.name) ?? [];
      files.push(c.file);
      meta.contracts.set(c.name, files);
    }
    for (const c of listContracts(join(dir, "rcontracts"))) meta.rcontracts.push(c.file);
    const listing = listDir(dir);
    for (const f of listing.files) {
      const prev = meta.modules.get(f.name);
      if (prev) {
        prev.others.push(prev.file);
        prev.file = f.file;
      } else {
        meta.modules.set(f.name, newRecord(meta, f.name, f.file));
      }
    }
    for (const d of listing.dirs) children.set(d.name, [...(children.get(d.name) ?? []), d.dir]);
  }
  for (const [childName, childDirs] of children) {
    const childRef = `${ref}.${childName}`;
    if (s.disabled.has(childRef)) continue;
    const clash = meta.modules.get(childName);
    if (clash) {
      meta.modules.delete(childName);
      const err = new PluginLoadError(clash.ref, { file: clash.file }, `module name clashes with the sub folder ${childDirs.join(", ")}; rename one of them`);
      clash.state = "failed";
      clash.error = err;
      clash.reason = err.reason;
      clash.location = err.location;
      s.failures.push(err);
      if (s.strict) throw err;
      s.warn(err.message);
    }
    const child = buildSub(hub, childName, childRef, childDirs, load, meta);
    meta.subs.set(childName, child.object);
    Object.defineProperty(meta.object, childName, { value: child.object, enumerable: true, writable: true, configurable: true });
  }
  for (const rec of meta.modules.values()) {
    const why = s.disabled.get(rec.ref);
    if (why !== undefined) {
      rec.state = "disabled";
      rec.reason = `disabled by ${why}`;
      continue;
    }
    if (rec.name !== "init") defineLazy(hub, rec);
  }
  return meta;
}

/** The visible step that makes a lazy module load on first access: a getter that replaces itself with the module. */
function defineLazy(hub: Hub, rec: ModuleRecord): void {
  Object.defineProperty(rec.sub.object, rec.name, {
    enumerable: true,
    configurable: true,
    get() {
      loadModuleSync(hub, rec);
      if (rec.state === "failed") throw rec.error;
      const d = Object.getOwnPropertyDescriptor(rec.sub.object, rec.name);
      return d && "value" in d ? d.value : undefined;
    },
  });
}

async function initSub(hub: Hub, meta: SubMeta): Promise<void> {
  const init = meta.modules.get("init");
  if (init) await loadModule(hub, init);
  if (meta.load === "eager") await loadAll(hub, meta, false);
  for (const child of meta.subs.values()) {
    const cm = subMeta(child)!;
    await initSub(hub, cm);
  }
}

/** Load every pending module of a sub (and with `deep`, its sub-subs): imports run in parallel, installs and __init__ in name order. */
export async function loadAll(hub: Hub, meta: SubMeta, deep: boolean): Promise<void> {
  const pending = [...meta.modules.values()].filter((r) => r.state === "pending" && !r.loading);
  const imported = await Promise.all(pending.map((r) => r.preloaded ?? (import(r.file) as Promise<Record<string, unknown>>).then((x) => x, (err) => new ImportFailure(err))));
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

class ImportFailure {
  constructor(readonly error: unknown) {}
}
