// Hot reload: watch (without keeping the process alive) the folders of the hub's subs and reload a changed plugin file through the hub's own reload
// (fresh copy imported under a new URL and swapped in, the old one shut down once its calls in flight have settled;
// a copy that fails leaves the old one serving).
import { nodeFs, readdir } from "../_fs.ts";
import { basename, dirname, join, relative } from "../_path.ts";
import { messageOf } from "../errors.ts";
import { log } from "../output.ts";
import { trackCalls } from "./_inflight.ts";
import { reloadRef } from "./_internal.ts";
import { state, subMeta } from "./_meta.ts";
import { dropModule, loadModule } from "./_module.ts";
import { moduleName } from "./_names.ts";
import { addedFile, addedFolder, loadAll } from "./_sub.ts";
import type { Hub, ModuleRecord, SubMeta } from "./_types.ts";

/** What `watchHub` reports for each reload: the module and its file, and the file whose change caused it when that is another one (a contract or an imported helper); for an isolated sub, the sub and the changed file; for a remote sub, the sub and its server's URL. */
export interface WatchEvent {
  ref: string;
  file: string;
  changed?: string;
  /** A new plugin file or folder, loaded as a new module or sub-sub of its sub (a sub that loads all its modules: pop serve's). */
  added?: "module" | "sub";
  /** A plugin file deleted: its module is off the hub (shut down once its calls in flight settled). */
  removed?: "module";
  /** The module had failed to load (at start, or as a new file): this is its first copy that loaded. */
  recovered?: true;
}

/** The line pop app --watch and pop serve --watch print for a reload: `reloaded live.m from app/live/m.ts (app/live/_fmt.ts changed)`, files relative to the working directory (`reloaded far from http://10.0.0.5:8080` for a remote sub). */
export function reloadMessage(event: WatchEvent): string {
  const rel = (f: string) => {
    if (!f.startsWith("/")) return f; // a remote sub's server URL
    const r = relative(process.cwd(), f);
    return r && !r.startsWith("..") ? r : f;
  };
  if (event.added) return `loaded new ${event.added} ${event.ref} from ${rel(event.file)}`;
  if (event.removed) return `removed module ${event.ref} (${rel(event.file)} was deleted)`;
  if (event.recovered) return `loaded ${event.ref} from ${rel(event.file)} (it had failed to load)`;
  return `reloaded ${event.ref} from ${rel(event.file)}${event.changed ? ` (${rel(event.changed)} changed)` : ""}`;
}

/** Options of `watchHub`. */
export interface WatchOptions {
  /** A changed file was reloaded and is serving now. */
  onReload?(event: WatchEvent): void;
  /** A changed file failed to load: the old version keeps serving. Without it, the output module says why. */
  onError?(event: WatchEvent & { error: Error }): void;
  /** Milliseconds to wait after a change before reloading (editors write a file in several steps); default 50. */
  debounce?: number;
}

/**
 * Watch the folders of every sub on the hub and reload a plugin file when its content changes; returns the disposer.
 * Calls in flight finish on the old module, which is shut down once they have settled (at most the hub's shutdown
 * timeout, then anyway with a warning). A file that fails to load leaves the old version running and is
 * reported (onError, else a warning naming the file and why); fixing it reloads it. A sub that loads all its
 * modules takes new plugin files and folders as new modules and sub-subs; an isolated sub restarts its side on any
 * change in its folders; a remote sub's function list is asked for again every second (docs/lifecycle.md).
 * @example
 * const stop = watchHub(hub, { onReload: ({ ref }) => log.info(`reloaded ${ref}`) });
 * onHubClose(hub, stop);
 */
export function watchHub(hub: Hub, opts: WatchOptions = {}): () => void {
  const fs = nodeFs();
  const wait = opts.debounce ?? 50;
  const watchers = new Map<string, import("node:fs").FSWatcher>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const hashes = new Map<string, number | bigint>();
  const running = new Map<string, Promise<void>>();
  let stopped = false;
  // Calls in flight are counted while watching, so that a reload shuts the old copy down only once they have settled.
  const untrack = trackCalls(hub);

  const hashOf = (file: string): number | bigint | undefined => {
    try {
      return Bun.hash(fs.readFileSync(file));
    } catch {
      return undefined;
    }
  };

  const reloadOne = async (rec: ModuleRecord, changed?: string): Promise<void> => {
    const event: WatchEvent = changed === undefined ? { ref: rec.ref, file: rec.file } : { ref: rec.ref, file: rec.file, changed };
    if (rec.state === "failed") event.recovered = true;
    try {
      await reloadRef(hub, rec.ref);
      opts.onReload?.(event);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(messageOf(e));
      if (opts.onError) opts.onError({ ...event, error });
      else log.warn(`${rec.file}: reload of "${rec.ref}" failed, the old version keeps running: ${error.message}`);
    }
  };

  const removeOne = async (rec: ModuleRecord): Promise<void> => {
    hashes.delete(rec.file);
    await dropModule(hub, rec);
    opts.onReload?.({ ref: rec.ref, file: rec.file, removed: "module" });
  };

  const loadAdded = async (rec: ModuleRecord): Promise<void> => {
    const event: WatchEvent = { ref: rec.ref, file: rec.file, added: "module" };
    await loadModule(hub, rec);
    if (rec.state === "loaded") opts.onReload?.(event);
    // A failure the hub has said already, with its file and line (once: not again as "new module failed").
    else if (rec.error && opts.onError) opts.onError({ ...event, error: rec.error });
  };

  /** A new folder in an eager sub's folder: its sub-sub, loaded whole and watched from now on. */
  const loadAddedSub = async (meta: SubMeta): Promise<void> => {
    watchSub(meta);
    const event: WatchEvent = { ref: meta.ref, file: meta.dirs[0]!, added: "sub" };
    try {
      await loadAll(hub, meta, true); // a module of it that fails is said as any load failure is; the sub is there
    } catch (e) {
      const error = e instanceof Error ? e : new Error(messageOf(e));
      if (opts.onError) opts.onError({ ...event, error });
      else log.warn(`${event.file}: new sub "${meta.ref}" failed to load: ${error.message}`);
      return;
    }
    opts.onReload?.(event);
  };

  /** A folder made in a watched folder: a new sub-sub of an eager sub, or of an isolated sub (its side restarts when it holds plugin files). */
  const folderMade = async (dir: string): Promise<void> => {
    if (placedFile.has(dir) || watchers.has(dir)) return undefined; // watched already
    // A contracts/ folder made in a sub's folder: watched, and the contract files already in it taken as new ones.
    if (basename(dir) === "contracts" && subOfFolder(hub, dirname(dir))) {
      watchDir(dir);
      for (const name of readdir(dir) ?? []) await reload(join(dir, name));
      return undefined;
    }
    const newSub = newFolder(hub, dir);
    if (newSub) return loadAddedSub(newSub);
    const isolated = placedFile.get(dirname(dir));
    const found = isolated ? walkPlaced(isolated, dir) : undefined;
    return found ? restart(isolated!, found.file, found.hash) : undefined;
  };

  const reload = async (file: string): Promise<void> => {
    if (stopped) return;
    const h = hashOf(file);
    if (h === undefined) {
      if (isFolder(file)) return folderMade(file);
      // A deleted plugin file: its module goes (an isolated sub leaves it out at its side's next restart).
      const gone = placedFile.has(dirname(file)) ? undefined : recordOf(hub, file);
      return gone ? removeOne(gone) : undefined;
    }
    if (h === hashes.get(file)) return; // the same bytes (a second event for one write)
    const inIsolated = placedFile.get(dirname(file));
    if (inIsolated) return SOURCE.test(file) ? restart(inIsolated, file, h) : undefined;
    const rec = recordOf(hub, file);
    if (rec) {
      hashes.set(file, h);
      return reloadOne(rec);
    }
    if (!SOURCE.test(file)) return; // an editor's swap file, a README: nothing a module imports
    // A new plugin file in a sub's folder: a sub that loads all its modules (eager: pop serve's) loads it now.
    const added = newModule(hub, file);
    if (added) {
      hashes.set(file, h);
      return loadAdded(added);
    }
    // A contract file new in a sub's contracts/ folder: the sub has it from now on, and the loaded modules it
    // applies to (the module of its name; every module, for init.ts) reload with it.
    const fresh = isContract(hub, file) ? undefined : newContract(hub, file);
    if (fresh) {
      hashes.set(file, h);
      for (const rec of fresh) await reloadOne(rec, file);
      return;
    }
    // Not a module: a contract, or a helper some module imports. Their cached copies are dropped and the modules
    // they apply to (or that import them) reload, importing fresh copies; a file nothing uses changes nothing.
    const contract = isContract(hub, file);
    const dependents = contract ? contractUsers(hub, file).map((rec) => ({ rec, chain: [file] })) : importers(hub, file);
    if (!contract && dependents.length === 0) return;
    hashes.set(file, h);
    if (contract) state(hub).contractCache.delete(file);
    for (const f of new Set(dependents.flatMap((d) => d.chain))) delete require.cache[f];
    if (contract) delete require.cache[file]; // a module not loaded yet takes the new contract too
    for (const d of dependents) await reloadOne(d.rec, file);
  };

  const changed = (dir: string, name: string | null) => {
    if (stopped || !name) return;
    const file = `${dir}/${basename(name)}`;
    clearTimeout(timers.get(file));
    timers.set(
      file,
      setTimeout(() => {
        timers.delete(file);
        // One reload of a file at a time: a change during a reload reloads again after it.
        const prev = running.get(file) ?? Promise.resolve();
        const next = prev.then(() => reload(file));
        running.set(file, next);
        void next.finally(() => running.get(file) === next && running.delete(file));
      }, wait),
    );
  };

  const watchDir = (dir: string) => {
    if (watchers.has(dir)) return;
    try {
      const w = fs.watch(dir, { persistent: false }, (_event, name) => changed(dir, typeof name === "string" ? name : null));
      w.on("error", (e: unknown) => log.warn(`${dir}: cannot watch the folder any more: ${messageOf(e)}`));
      w.unref(); // watching never keeps a finished app alive (Bun's persistent: false alone does not, once a listener is on)
      watchers.set(dir, w);
    } catch (e) {
      log.warn(`${dir}: cannot watch the folder for changes: ${messageOf(e)}`);
    }
  };

  // A remote sub's code runs on its server (whose own --watch reloads it there): its function list is asked for
  // again every REMOTE_POLL_MS, and a list that changed puts the sub back with stand-ins for it. A server that does not
  // answer a poll is skipped quietly: the calls into it say so.
  const polls = new Map<string, ReturnType<typeof setInterval>>();
  const pollRemote = (name: string) => {
    const placed = state(hub).placedReload?.get(name);
    if (!placed?.url || polls.has(name)) return;
    const url = placed.url;
    let busy = false;
    const timer = setInterval(async () => {
      if (busy || stopped) return;
      busy = true;
      try {
        if (await placed.reload()) opts.onReload?.({ ref: name, file: url });
      } catch {
        // not answering now: the next poll asks again
      } finally {
        busy = false;
      }
    }, REMOTE_POLL_MS);
    timer.unref(); // polling never keeps a finished app alive
    polls.set(name, timer);
  };

  // An isolated sub: a change anywhere in its folders starts a fresh side (isolateSub's reload), one at a time.
  const restarting = new Map<string, Promise<void>>();
  const restart = (name: string, file: string, h: number | bigint) => {
    const placed = state(hub).placedReload?.get(name);
    if (!placed || stopped) return;
    hashes.set(file, h);
    const event: WatchEvent = { ref: name, file };
    const next = (restarting.get(name) ?? Promise.resolve()).then(async () => {
      if (stopped) return;
      try {
        if (await placed.reload()) opts.onReload?.(event);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(messageOf(e));
        if (opts.onError) opts.onError({ ...event, error });
        else log.warn(`${file}: reload of isolated sub "${name}" failed, the old side keeps running: ${error.message}`);
      }
    });
    restarting.set(name, next);
  };
  const placedFile = new Map<string, string>(); // folder -> the isolated sub it belongs to
  /** Watch `dir` and the folders under it for isolated sub `name`, noting each plugin file's hash; returns the first such file. */
  const walkPlaced = (name: string, dir: string): { file: string; hash: number | bigint } | undefined => {
    if (placedFile.has(dir)) return undefined;
    placedFile.set(dir, name);
    watchDir(dir);
    let entries: import("node:fs").Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return undefined;
    }
    let first: { file: string; hash: number | bigint } | undefined;
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name === "node_modules" || e.name.startsWith(".")) continue;
        const found = walkPlaced(name, path);
        first ??= found;
      } else if (SOURCE.test(e.name)) {
        const hash = hashOf(path);
        if (hash === undefined) continue;
        hashes.set(path, hash);
        first ??= { file: path, hash };
      }
    }
    return first;
  };
  const watchPlaced = (name: string) => {
    for (const dir of state(hub).placedReload?.get(name)?.folders ?? []) walkPlaced(name, dir);
  };
  const isFolder = (path: string): boolean => {
    try {
      return fs.statSync(path).isDirectory();
    } catch {
      return false;
    }
  };

  const watchSub = (top: SubMeta) => {
    const placed = state(hub).placedReload?.get(top.name);
    if (placed) return placed.url ? pollRemote(top.name) : watchPlaced(top.name);
    if (state(hub).placed.has(top.name)) return; // placed elsewhere, not on the hub (yet)
    for (const meta of subTree(top)) {
      for (const dir of meta.dirs) {
        watchDir(dir);
        if (isFolder(join(dir, "contracts"))) watchDir(join(dir, "contracts")); // a contract file added there applies
      }
      for (const f of [...[...meta.contracts.values()].flat(), ...meta.rcontracts]) watchDir(dirname(f));
      for (const rec of meta.modules.values()) {
        if (rec.preloaded) continue;
        const h = hashOf(rec.file);
        if (h !== undefined) hashes.set(rec.file, h);
        watchDir(dirname(rec.file));
      }
    }
  };
  for (const meta of state(hub).subs.values()) watchSub(meta);
  // Subs added later (an app's cli adding them as it goes) are watched as they arrive.
  const s = state(hub);
  (s.onSubAdded ??= new Set()).add(watchSub);

  return () => {
    if (stopped) return;
    stopped = true;
    untrack();
    s.onSubAdded?.delete(watchSub);
    for (const t of timers.values()) clearTimeout(t);
    for (const t of polls.values()) clearInterval(t);
    for (const w of watchers.values()) w.close();
    watchers.clear();
  };
}

/** How often --watch asks a remote sub's server for its function list. */
const REMOTE_POLL_MS = 1000;

/** Files a plugin may import (and so a change that may matter). */
const SOURCE = /\.(?:[cm]?[jt]sx?|json)$/;

/** The sub (or sub-sub) one of whose folders is `dir`. */
function subOfFolder(hub: Hub, dir: string): SubMeta | undefined {
  return allSubs(hub).find((m) => m.dirs.includes(dir));
}

/**
 * A contract file that appeared in a sub's contracts/ folder: recorded on the sub (as when the sub was added), and
 * the loaded modules it applies to returned, to reload. Undefined when `file` is no contract file of a sub folder.
 */
function newContract(hub: Hub, file: string): ModuleRecord[] | undefined {
  const dir = dirname(file);
  if (basename(dir) !== "contracts") return undefined;
  const meta = subOfFolder(hub, dirname(dir));
  const name = moduleName(basename(file)); // a contract file is named as a plugin file is
  if (!meta || !name) return undefined;
  const files = meta.contracts.get(name) ?? [];
  if (!files.includes(file)) files.push(file);
  meta.contracts.set(name, files);
  // contracts/init.ts wraps every module of the sub; the init module itself is not reloaded (that would run its
  // __init__ again): its functions take the new contract at the next restart.
  return [...meta.modules.values()].filter((r) => r.state === "loaded" && !r.preloaded && (name === "init" ? r.name !== "init" : r.name === name));
}

/** Whether `file` is a contract (contracts/ or rcontracts/) of any sub. */
function isContract(hub: Hub, file: string): boolean {
  return allSubs(hub).some((m) => m.rcontracts.includes(file) || [...m.contracts.values()].some((fs) => fs.includes(file)));
}

/** The loaded modules a contract file applies to. */
function contractUsers(hub: Hub, file: string): ModuleRecord[] {
  return loadedRecords(hub).filter((r) => r.contracts.includes(file));
}

/**
 * The loaded modules importing `file` (directly or through other local files), each with the files of its import
 * graph that lead to it (`file` included): the copies to drop from the module cache so that a fresh import of the
 * module evaluates them again. Imports are read from the sources as they are now (Bun's transpiler); packages
 * (bare specifiers, node_modules) are left out.
 */
function importers(hub: Hub, file: string): Array<{ rec: ModuleRecord; chain: string[] }> {
  const graph = new Map<string, string[]>();
  const importsOf = (f: string): string[] => {
    let out = graph.get(f);
    if (out) return out;
    out = [];
    graph.set(f, out);
    try {
      const ext = f.slice(f.lastIndexOf(".") + 1);
      const loader = ext === "tsx" || ext === "jsx" || ext === "js" ? ext : ext === "mjs" || ext === "cjs" ? "js" : "ts";
      for (const i of new Bun.Transpiler({ loader }).scanImports(nodeFs().readFileSync(f, "utf8"))) {
        if (!i.path.startsWith(".") && !i.path.startsWith("/")) continue;
        const to = Bun.resolveSync(i.path, dirname(f));
        if (!to.includes("/node_modules/")) out.push(to);
      }
    } catch {
      // unreadable, unparsable or unresolvable: its imports are not followed
    }
    return out;
  };
  const found: Array<{ rec: ModuleRecord; chain: string[] }> = [];
  for (const rec of loadedRecords(hub)) {
    const reaches = new Map<string, boolean>();
    const visit = (f: string): boolean => {
      if (f === file) return true;
      const known = reaches.get(f);
      if (known !== undefined) return known;
      reaches.set(f, false); // a cycle ends here
      let r = false;
      for (const g of importsOf(f)) if (visit(g)) r = true;
      reaches.set(f, r);
      return r;
    };
    if (visit(rec.file)) found.push({ rec, chain: [file, ...[...reaches].filter(([f, r]) => r && f !== rec.file).map(([f]) => f)] });
  }
  return found;
}

/** The sub-sub a new folder makes in the sub whose folder holds it, when that sub loads all its modules (see addedFolder). */
function newFolder(hub: Hub, dir: string): SubMeta | undefined {
  const [meta, i] = folderOf(hub, dirname(dir)) ?? [];
  return meta?.load === "eager" ? addedFolder(hub, meta, i!, basename(dir)) : undefined;
}

/** The record a new plugin file makes in the sub whose folder holds it, when that sub loads all its modules (see addedFile). */
function newModule(hub: Hub, file: string): ModuleRecord | undefined {
  const [meta, i] = folderOf(hub, dirname(file)) ?? [];
  if (!meta) return undefined;
  const rec = addedFile(hub, meta, i!, basename(file)); // a lazy sub notes the name too: it finds the file by it
  return rec && meta.load === "eager" ? rec : undefined;
}

/** The sub (or sub-sub) that has `dir` among its folders, and its index there. */
function folderOf(hub: Hub, dir: string): [SubMeta, number] | undefined {
  for (const meta of allSubs(hub)) {
    const i = meta.dirs.indexOf(dir);
    if (i >= 0) return [meta, i];
  }
  return undefined;
}

function loadedRecords(hub: Hub): ModuleRecord[] {
  return allSubs(hub).flatMap((m) => [...m.modules.values()].filter((r) => r.state === "loaded" && !r.preloaded));
}

/** The record of the loaded (or failed) module whose file is `file`, in any sub. */
function recordOf(hub: Hub, file: string): ModuleRecord | undefined {
  for (const meta of allSubs(hub)) {
    const rec = meta.files.get(file);
    if (rec && !rec.preloaded && (rec.state === "loaded" || rec.state === "failed")) return rec;
  }
  return undefined;
}

function allSubs(hub: Hub): SubMeta[] {
  return [...state(hub).subs.values()].flatMap(subTree);
}

/** A sub and its sub-subs, parents first. */
function subTree(top: SubMeta): SubMeta[] {
  const out: SubMeta[] = [];
  const walk = (m: SubMeta) => {
    out.push(m);
    for (const c of m.subs.values()) walk(subMeta(c)!);
  };
  walk(top);
  return out;
}
