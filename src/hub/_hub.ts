import { BUILTIN_POP } from "./_builtins.ts";
import { discoverRoots, type DiscoverOptions, type PluginRoot } from "./_discover.ts";
import { hide, STATE, state, subMeta } from "./_meta.ts";
import { registerPopModule } from "./_popmodule.ts";
import { isDirectory, isFile } from "../_fs.ts";
import { EXTS } from "./_names.ts";
import { endExitTrap } from "./_exit.ts";
import { shutdownModule } from "./_module.ts";
import type { IsolateSpec, RemoteSpec } from "./_manifest.ts";
import { placements } from "./_place.ts";
import { addPreloadedSub, addSubMeta, loadAll } from "./_sub.ts";
import { setCallTimeout } from "./_trace.ts";
import { MAX_TIMER_MS, messageOf, type PluginLoadError, PopError, ShutdownError, UsageError } from "../errors.ts";
import { log } from "../output.ts";
import type { Hub, HubState, LoadMode, SubMeta } from "./_types.ts";

/** Options of `createHub`. */
export interface HubOptions {
  /** Plugin roots whose dynes `hub.pop.sub.add({ dyneName })` can add. */
  roots?: PluginRoot[];
  /** Any load failure throws instead of leaving the module out. */
  strict?: boolean;
  /** Refs of subs or modules to leave disabled, each with where the request came from. */
  disable?: Array<{ ref: string; source: string }>;
  /** Where load warnings go (default: stderr); `fields` is what a JSON log line carries beside the message (a load failure's code, ref, location). */
  warn?: (message: string, fields?: Record<string, unknown>) => void;
  /** Milliseconds an import or `__init__` may take before that module fails (default 30000; 0 for no limit). */
  loadTimeout?: number;
  /** Milliseconds each `__shutdown__` may take when the hub closes (default 10000). */
  shutdownTimeout?: number;
  /** Milliseconds an async hub call may run before it rejects with a TimeoutError naming its ref (default 0: no limit). */
  callTimeout?: number;
  /** Subs to run isolated (`--isolate SUB=MODE`), over what the roots' manifests and conf.ts say. */
  isolate?: Record<string, IsolateSpec>;
  /** Subs served elsewhere (`--remote SUB=URL`), over what the roots' manifests and conf.ts say. */
  remote?: Record<string, RemoteSpec>;
  /** Where a remote sub with no token of its own reads POP_TOKEN (default: process.env). */
  env?: Record<string, string | undefined>;
}

/** Where createHub leaves `{ closeOpenHubs, hubsNeedClosing }` for the CLI. */
export const HUBS = Symbol.for("pop.hubs");

/** Hubs created and not closed yet: what the CLI closes on SIGINT and SIGTERM. */
const OPEN = new Set<Hub>();

/**
 * Create a hub holding only the built-in `pop` sub.
 * @example
 * const hub = createHub({ roots: await discoverRoots({ plugins: ["examples/poppy"] }) });
 * await hub.pop.sub.add({ dyneName: "rpc" });
 * await hub.rpc.math.fib({ num: 11 }); // 89
 */
export function createHub(opts: HubOptions = {}): Hub {
  return createHubOn({ OPT: {} } as Hub, opts);
}

/** createHub onto an object that already holds `OPT` (pop call's lean path passes a function its hub before there is one: src/cli/_leanhub.ts). */
export function createHubOn(hub: Hub, opts: HubOptions): Hub {
  checkTimeouts(opts, "createHub");
  registerPopModule();
  endExitTrap(false);
  // hub.OPT is the config's, replaced by no one: `hub.OPT = {}` throws, as assigning to hub.OPT.<project> does.
  Object.defineProperty(hub, "OPT", { value: hub.OPT, enumerable: true, writable: false, configurable: true });
  const s: HubState = {
    roots: opts.roots ?? [],
    dyne: new Map(),
    dyneSource: new Map(),
    disabled: new Map(),
    strict: opts.strict ?? false,
    failures: [],
    subs: new Map(),
    contractCache: new Map(),
    warn: opts.warn ?? warnOnStderr,
    loaded: [],
    monitors: [],
    callerMonitors: 0,
    loadTimeout: opts.loadTimeout ?? 30_000,
    shutdownTimeout: opts.shutdownTimeout ?? 10_000,
    closing: undefined,
    callTimeout: 0,
    placed: placesAny(opts) ? placements(opts.roots ?? [], opts, (opts.env ?? process.env).POP_TOKEN) : new Map(),
  };
  OPEN.add(hub);
  // The CLI closes the hubs a command opened without importing the hub itself (`pop --version` never loads it).
  (globalThis as Record<symbol, unknown>)[HUBS] ??= { closeOpenHubs, hubsNeedClosing };
  hide(hub, STATE, s);
  for (const d of opts.disable ?? []) s.disabled.set(d.ref, d.source);
  for (const root of opts.roots ?? []) {
    for (const name in root.dyne) {
      const prev = s.dyne.get(name);
      s.dyne.set(name, prev ? prev.concat(root.dyne[name]!) : root.dyne[name]!.slice());
      const from = s.dyneSource.get(name);
      s.dyneSource.set(name, from ? `${from}, ${root.dir}` : root.dir);
    }
    for (const ref of root.disable) if (!s.disabled.has(ref)) s.disabled.set(ref, `DISABLE in ${root.confFile}`);
  }
  addPreloadedSub(hub, "pop", BUILTIN_POP);
  if (opts.callTimeout) setCallTimeout(hub, opts.callTimeout);
  return hub;
}

/** Whether the hub places any sub elsewhere (isolated, remote): options or a root say so. */
function placesAny(opts: HubOptions): boolean {
  if (opts.isolate || opts.remote) return true;
  for (const r of opts.roots ?? []) if (r.isolate || r.remote) return true;
  return false;
}

const TIMEOUTS = ["loadTimeout", "shutdownTimeout", "callTimeout"] as const;

/** A whole number of milliseconds from 0 (no limit) to the longest timer: what every timeout option must be. */
const fineTimeout = (v: unknown) => v === undefined || (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_TIMER_MS);

/** The hub's timeouts, checked before anything starts: whole milliseconds from 0 (no limit) to the longest timer, else a UsageError naming the option. */
function checkTimeouts(opts: HubOptions, fn: string): void {
  // The common case in one line; the messages below only when one is wrong.
  if (fineTimeout(opts.loadTimeout) && fineTimeout(opts.shutdownTimeout) && fineTimeout(opts.callTimeout)) return;
  badTimeouts(opts, fn);
}

/** The UsageError for the first timeout fineTimeout refuses: not a whole number of milliseconds, or past the longest timer. */
function badTimeouts(opts: HubOptions, fn: string): void {
  for (const key of TIMEOUTS) {
    const v: unknown = opts[key];
    if (fineTimeout(v)) continue;
    const shown = typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v));
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      throw new UsageError(`${fn}: option ${key} must be a whole number of milliseconds, 0 for no limit; got ${shown}`, fn, { hint: false });
    throw new UsageError(
      `${fn}: option ${key} is ${shown} ms, more than ${MAX_TIMER_MS} ms (about 24.8 days), the longest timer pop can set; give at most ${MAX_TIMER_MS}, or 0 for no limit`,
      fn,
      { hint: false },
    );
  }
}

/** The default warning sink: the output module (one `pop: warning: ...` line, or a JSON line). */
function warnOnStderr(message: string, fields?: Record<string, unknown>): void {
  log.warn(message, fields);
}

/** Options of `loadHub`: discovery plus hub options, and what to record of its calls. */
export interface LoadHubOptions extends DiscoverOptions, Omit<HubOptions, "roots"> {
  load?: LoadMode;
  /** Log every hub call (ref, root and version, duration, outcome) through the output module. */
  trace?: boolean;
  /** Append one JSON line per hub call to this file, each written before the call returns. */
  audit?: string;
}

/** Discover plugin roots, create a hub and add every dyne found (what `pop tree` and `pop call` do). With `load: "eager"`, everything is loaded: subs that another sub's `__init__` adds included. */
export async function loadHub(opts: LoadHubOptions): Promise<Hub> {
  checkTimeouts(opts ?? {}, "loadHub");
  // Discovery warnings (a skipped POP_PLUGIN_PATH entry, a bad "pop" field) go where load warnings go.
  const roots = await discoverRoots({ ...opts, warn: opts.warn ?? warnOnStderr });
  const hub = createHub({ ...opts, roots });
  const s = state(hub);
  // Refs --disable, POP_DISABLE or a conf.ts DISABLE name that match nothing are said (a typo does nothing).
  const confDisables = roots.flatMap((r) => r.disable.map((ref) => ({ ref, source: `DISABLE in ${r.confFile}` })));
  if (opts.disable?.length || confDisables.length) unmatchedDisables(hub, [...(opts.disable ?? []), ...confDisables]);
  // Watching calls loads its code only when asked for: a plain `pop call` never imports it.
  if (opts.trace || opts.audit) await (await import("../observe/index.ts")).observeHub(hub, opts);
  if (opts.load === "eager") await loadAll(hub, s.subs.get("pop")!, false); // built-ins are otherwise installed on first read
  if (s.placed.size > 0) await placeUnrooted(hub); // first: a local sub's __init__ may call into them, as into a sub of the merged app
  for (const name of [...s.dyne.keys()]) {
    if (s.subs.get(name)?.dirs.length) continue; // added already, by another sub's init
    if (s.placed.has(name) && hub[name] !== undefined) continue; // placed (isolated, remote) already
    if (Object.hasOwn(hub, name)) reservedFolder(hub, name);
    else await addSubMeta(hub, { dyneName: name, load: opts.load ?? "lazy" }, true);
  }
  if (opts.load === "eager") await loadEverything(hub);
  return hub;
}

/** A --disable or POP_DISABLE ref naming no sub of any root (a typo, a sub renamed) does nothing: said, not silent. */
function unmatchedDisables(hub: Hub, disable: Array<{ ref: string; source: string }>): void {
  const s = state(hub);
  for (const { ref, source } of disable) {
    const sub = ref.split(".")[0]!;
    if (sub === "pop") s.warn(`${source} ${JSON.stringify(ref)}: pop's own sub cannot be disabled; ignored`);
    else if (!s.dyne.has(sub) && !s.placed.has(sub))
      s.warn(`${source} ${JSON.stringify(ref)} names no sub of this hub (${[...s.dyne.keys()].sort().join(", ") || "none"}); ignored: check the spelling`);
    else if (!s.placed.has(sub) && !onDisk(s.dyne.get(sub)!, ref.split(".").slice(1)))
      s.warn(
        `${source} ${JSON.stringify(ref)}: sub "${sub}" has no file or folder of that name (in ${s.dyne.get(sub)!.join(", ")}); unless a module takes it as its __virtualname__, it disables nothing: check the spelling`,
      );
  }
}

/** Whether `path` (folders, then a module file or a folder) is in one of a sub's folders: what a disabled ref can name. */
function onDisk(dirs: string[], path: string[]): boolean {
  if (path.length === 0) return true;
  const last = path[path.length - 1]!;
  for (const dir of dirs) {
    const base = [dir, ...path.slice(0, -1)].join("/");
    if (isDirectory(`${base}/${last}`) || EXTS.some((e) => isFile(`${base}/${last}${e}`))) return true;
  }
  return false;
}

/** A root's folder named like pop's own namespaces (pop, OPT): one bad folder must not take the hub down. */
function reservedFolder(hub: Hub, name: string): void {
  const s = state(hub);
  const message = `${s.dyne.get(name)!.join(", ")}: a sub cannot be named "${name}" (reserved by pop); rename the folder`;
  if (s.strict) throw new PopError(message);
  s.warn(message);
}

/**
 * Add the placed subs no plugin root of this hub provides (`loadHub` and `pop app` call it). A remote sub needs only
 * its server, so a split machine holding none of its code still gets it. An isolated sub runs modules from a folder
 * on this side: `--isolate` naming a sub no root has is a usage error; a manifest or conf.ts that does (it may place
 * a sub of a root not in this run) is a warning, an error on a strict hub.
 */
export async function placeUnrooted(hub: Hub): Promise<void> {
  const s = state(hub);
  for (const [name, p] of s.placed) {
    if (name === "pop")
      throw new UsageError(
        `${p.spec.source}: "pop" is pop's built-in sub, which always runs in pop itself; isolate or serve one of the plugins' subs instead`,
        p.spec.source,
        { hint: false },
      );
    if (s.dyne.has(name) || s.disabled.has(name) || hub[name] !== undefined) continue;
    if (p.kind === "remote") {
      await addSubMeta(hub, { dyneName: name }, true);
      continue;
    }
    const fix = `add the root holding "${name}" (--plugins DIR), or serve it elsewhere and give --remote ${name}=URL`;
    const message = `${p.spec.source}: no plugin root provides sub "${name}", and an isolated sub runs its modules from a folder on this side; ${fix}`;
    if (p.spec.source.startsWith("--isolate") || s.strict) throw new UsageError(message, p.spec.source, { hint: false });
    s.warn(message);
  }
}

/** Load every module of every sub, again and again until a pass adds no sub (an __init__ may add subs, lazily). */
export async function loadEverything(hub: Hub): Promise<void> {
  const s = state(hub);
  // Progress is new subs or settled modules; a pass that makes none ends it (no module stays pending forever).
  const progress = () => allSubs(hub).reduce((n, m) => n + 1 + [...m.modules.values()].filter((r) => r.state !== "pending").length, 0);
  for (let before = -1; !s.closing;) {
    const now = progress();
    if (now === before) return;
    before = now;
    for (const meta of allSubs(hub)) await loadAll(hub, meta, false);
  }
}

/** Every sub on the hub, sub-subs included, parents first. */
function allSubs(hub: Hub): SubMeta[] {
  const out: SubMeta[] = [];
  const walk = (m: SubMeta) => {
    out.push(m);
    for (const c of m.subs.values()) walk(subMeta(c)!);
  };
  for (const m of state(hub).subs.values()) walk(m);
  return out;
}

// ---- The public hub API: what the CLI, config and built-in plugins use instead of the hub's hidden state. ----

/** The plugin roots the hub was created with, in order, each with where it came from (`source`). */
export function hubRoots(hub: Hub): PluginRoot[] {
  return state(hub).roots;
}

/** Every load failure so far, in the order they happened. */
export function hubFailures(hub: Hub): PluginLoadError[] {
  return state(hub).failures;
}

/** The folders a dyne name stands for (every root's, in root order), or undefined when no root has it. */
export function dyneDirs(hub: Hub, name: string): string[] | undefined {
  return state(hub).dyne.get(name);
}

/** Names of the subs on the hub, in the order they were added (`pop` first). */
export function subNames(hub: Hub): string[] {
  return [...state(hub).subs.keys()];
}

/** Report a warning the way this hub does (the output module unless `createHub({ warn })` said otherwise). */
export function hubWarn(hub: Hub, message: string): void {
  state(hub).warn(message);
}

/**
 * Close the hub: every loaded module's `__shutdown__(hub)` runs, in reverse load order, each bounded by the hub's
 * shutdown timeout; the errors (throws and timeouts) are collected and thrown together as one ShutdownError once
 * every hook has had its turn. Closing twice returns the same promise.
 */
export function closeHub(hub: Hub): Promise<void> {
  const s = state(hub);
  s.closing ??= (async () => {
    const errors: Error[] = [];
    // Close hooks first, last registered first (a daemon built on the hub stops before the modules it uses go).
    const hooks = CLOSERS.get(hub) ?? [];
    for (let i = hooks.length - 1; i >= 0; i--) {
      try {
        await hooks[i]!();
      } catch (e) {
        errors.push(e instanceof Error ? e : new PopError(messageOf(e)));
      }
    }
    CLOSERS.delete(hub);
    for (let i = s.loaded.length - 1; i >= 0; i--) {
      const e = await shutdownModule(hub, s.loaded[i]!);
      if (e) errors.push(e);
    }
    s.loaded.length = 0;
    OPEN.delete(hub);
    if (errors.length > 0) throw new ShutdownError(errors);
  })();
  return s.closing;
}

const CLOSERS = new WeakMap<Hub, Array<() => unknown>>();

/**
 * Run `fn` when the hub closes (avvio's onClose): before the modules' `__shutdown__` hooks, the last registered
 * first; its error is collected with theirs. Returns the undo function. What a long-running command (the deploy
 * agent, a server) must stop on SIGINT or SIGTERM hangs here, since the CLI closes every hub then.
 */
export function onHubClose(hub: Hub, fn: () => unknown): () => void {
  // Reading the hub's state checks it is one (and makes pop call's stand-in the hub it stands for).
  if (!state(hub)) throw new UsageError("onHubClose(hub, fn) needs a hub: the object a plugin function gets first", "onHubClose", { hint: false });
  const list = CLOSERS.get(hub) ?? [];
  list.push(fn);
  CLOSERS.set(hub, list);
  return () => {
    const at = list.indexOf(fn);
    if (at >= 0) list.splice(at, 1);
  };
}

/** Whether closing the open hubs has anything to run: a close hook, or a loaded module with a `__shutdown__`. */
export function hubsNeedClosing(): boolean {
  for (const hub of OPEN) {
    if ((CLOSERS.get(hub)?.length ?? 0) > 0) return true;
    for (const rec of state(hub).loaded) if (rec.exports && typeof rec.exports.__shutdown__ === "function") return true;
  }
  return false;
}

/**
 * Close every hub not closed yet (the CLI's end and its signal handler: the process ends next); one ShutdownError for
 * all their failures. From here on process.exit is no longer trapped, so a plugin still loading cannot hold the exit.
 */
export async function closeOpenHubs(): Promise<void> {
  endExitTrap();
  const errors: Error[] = [];
  for (const hub of [...OPEN]) {
    try {
      await closeHub(hub);
    } catch (e) {
      errors.push(...(e instanceof ShutdownError ? e.errors : [e as Error]));
    }
  }
  if (errors.length > 0) throw new ShutdownError(errors);
}

/**
 * Where a ref's code comes from: its module's file and the plugin root holding it (undefined for built-ins), or for a
 * sub served elsewhere (--remote), the URL of its server (and the root here that names the sub, if any).
 */
export function refOrigin(hub: Hub, ref: string): { file?: string; root?: PluginRoot; remote?: string } {
  const s = state(hub);
  const parts = ref.split(".");
  const placed = s.placed.get(parts[0]!);
  if (placed?.kind === "remote") {
    const dir = s.dyne.get(parts[0]!)?.[0];
    const root = dir ? rootHolding(s.roots, `${dir}/`) : undefined;
    return root ? { remote: placed.spec.url, root } : { remote: placed.spec.url };
  }
  let meta = s.subs.get(parts[0]!);
  for (let i = 1; meta && i < parts.length; i++) {
    const rec = meta.modules.get(parts[i]!);
    if (rec) {
      const root = rootHolding(s.roots, rec.file);
      return root ? { file: rec.file, root } : { file: rec.file };
    }
    meta = subMeta(meta.subs.get(parts[i]!));
  }
  // Not a module on this side (an isolated or remote sub): the root of the sub's first folder.
  const dir = s.dyne.get(parts[0]!)?.[0];
  const root = dir ? rootHolding(s.roots, `${dir}/`) : undefined;
  return root ? { root } : {};
}

function rootHolding(roots: PluginRoot[], file: string): PluginRoot | undefined {
  for (let i = roots.length - 1; i >= 0; i--) {
    const r = roots[i]!;
    for (const dirs of Object.values(r.dyne)) for (const d of dirs) if (file.startsWith(`${d}/`)) return r;
    if (file.startsWith(`${r.dir}/`)) return r;
  }
  return undefined;
}
