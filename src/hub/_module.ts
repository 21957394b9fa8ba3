// A module record's whole life, in one file. The sub tree (src/hub/_sub.ts) finds plugin files and asks for
// records; everything that happens to a record after that happens here:
//
//   pending ──import──> (virtual name, __virtual__, checks, install, __init__) ──> loaded ──> shutdown
//      │                                                                    └──> failed | virtual | disabled
//      └──> disabled (by --disable, POP_DISABLE or a conf.ts DISABLE)
//
// `become` is the only place a record's state is written. There is one importer with three ways in: `loadModule`
// (import(), awaits async hooks), `loadModuleSync` (require(), the first read through a lazy sub) and `loadModules`
// (a batch of imports in parallel, then installs in order); all three end in `settle`. Imports and __init__ are
// bounded by the hub's load timeout, and a plugin calling process.exit() while it loads fails that module instead
// of ending pop.
import { ExitCalledError, formatLocation, PopError, type SourceLocation, TimeoutError } from "../errors.ts";
import { ExitCalled, exitErrorIs, guardExitSync, releaseExit, trapExit } from "./_exit.ts";
import { log } from "../output.ts";
import { bindChain, bindHub } from "./_call.ts";
import { buildChain, checkSigParams, contractsFor, type LoadedContract, requiredSigs } from "./_contracts.ts";
import { describeThrow, oneLine, PluginLoadError } from "./_errors.ts";
import { callsRunning, settleCalls } from "./_inflight.ts";
import { MOD, put, state } from "./_meta.ts";
import { traceFn, wrapsCalls } from "./_trace.ts";
import type { AnyFn, FunctionRecord, Hub, ModuleRecord, ModuleState, SubMeta } from "./_types.ts";

// A trapped process.exit() throws a PopError from here on (before the hub loads, pop call's lean path has its own).
exitErrorIs((message, requested) => new ExitCalledError(message, requested));

type Exports = Record<string, unknown>;

/** A new record for plugin file `file` of `sub`, pending or (when disabled by name) disabled. */
export function newRecord(hub: Hub, sub: SubMeta, name: string, file: string, others: string[] = []): ModuleRecord {
  const rec: ModuleRecord = { name, file, others, sub, ref: `${sub.ref}.${name}`, state: "pending", contracts: [] };
  // A file made again where a dropped module's was: imported afresh (Bun would hand back the old evaluation).
  const again = dropped.get(hub)?.get(file);
  if (again !== undefined) rec.generation = again;
  const why = state(hub).disabled.get(rec.ref);
  if (why !== undefined) become(hub, rec, "disabled", { reason: `disabled by ${why}` });
  return rec;
}

/** The one place a record changes state, with what goes with each state. */
function become(hub: Hub, rec: ModuleRecord, to: ModuleState, why: { reason?: string; error?: PluginLoadError; exports?: Exports } = {}): void {
  rec.state = to;
  if (to === "loaded") {
    rec.exports = why.exports;
    delete rec.reason;
    state(hub).loaded.push(rec);
    return;
  }
  leave(hub, rec, to, why);
}

/** The rest of `become`: a record leaving the loaded state (or never reaching it) keeps why, and goes off the hub. */
function leave(hub: Hub, rec: ModuleRecord, to: ModuleState, why: { reason?: string; error?: PluginLoadError; exports?: Exports }): void {
  if (why.reason !== undefined) rec.reason = why.reason;
  if (why.error) {
    rec.error = why.error;
    rec.reason = why.error.reason;
    rec.location = why.error.location;
  } else if (to !== "pending") {
    rec.location ??= { file: rec.file };
  }
  if (to === "pending") return;
  // Off the hub: forget the exports and take the module object off its sub.
  rec.exports = undefined;
  rec.bare = undefined;
  if (rec.object && Object.getOwnPropertyDescriptor(rec.sub.object, rec.name)?.value === rec.object) delete rec.sub.object[rec.name];
  rec.object = undefined;
  const loaded = state(hub).loaded;
  const at = loaded.lastIndexOf(rec);
  if (at >= 0) loaded.splice(at, 1);
}

// ---- Importing -------------------------------------------------------------------------------------------------

/** Load a module the asynchronous way (import(), awaiting async __virtual__ and __init__). Never throws unless the hub is strict. */
export function loadModule(hub: Hub, rec: ModuleRecord): Promise<void> {
  if (rec.state !== "pending") return rec.loading ?? Promise.resolve();
  rec.loading ??= guarded(hub, rec, "importing it", () => importFile(rec)).then(
    (exports) => settle(hub, rec, exports),
    (err) => fail(hub, rec, err),
  );
  return rec.loading;
}

/** Load a module synchronously (require()): the path of a first read through a lazy sub. An async __init__ gates the module's functions until it settles. */
export function loadModuleSync(hub: Hub, rec: ModuleRecord, thrown = false): void {
  if (rec.state !== "pending") return;
  try {
    const exports = rec.preloaded ?? guardExitSync(() => require(specifier(rec)) as Exports);
    const r = settle(hub, rec, exports, true);
    if ((rec.state as ModuleState) !== "loaded") return;
    moduleObject(hub, rec); // this path is a first read: the module is wanted now
    // An async __init__ (of the module, or of the lazily reached sub it is in) gates its functions until it settles.
    if (r instanceof Promise) gate(hub, rec, r);
    else if (rec.sub.initializing && rec.name !== "init") gate(hub, rec, rec.sub.initializing);
  } catch (err) {
    fail(hub, rec, err, thrown);
  }
}

/** Load pending modules together: imports in parallel (one timer for the batch), then each settled in the given order. */
export async function loadModules(hub: Hub, recs: ModuleRecord[]): Promise<void> {
  const pending = recs.filter((r) => r.state === "pending" && !r.loading);
  const imported = await importAll(hub, pending);
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
  for (const rec of recs) if (rec.loading && rec.state === "pending") await rec.loading;
}

function importFile(rec: ModuleRecord): Promise<Exports> {
  if (rec.preloaded) return Promise.resolve(rec.preloaded);
  return import(specifier(rec)) as Promise<Exports>;
}

/** What a record's file is imported as: a reloaded (or re-made) module under a new URL, so Bun evaluates a fresh copy (c12's cache-busting query). */
function specifier(rec: ModuleRecord): string {
  return rec.generation ? `${rec.file}?pop-reload=${rec.generation}` : rec.file;
}

class ImportFailure {
  constructor(readonly error: unknown) {}
}

/** Import every file in parallel. The common case (nothing fails, nothing hangs) adds no promise per module. */
async function importAll(hub: Hub, recs: ModuleRecord[]): Promise<Array<Exports | ImportFailure>> {
  if (recs.length === 0) return [];
  const ms = state(hub).loadTimeout;
  const deadline = performance.now() + ms;
  // The exit trap holds while any of these imports may still run its top-level code: until all settle or time out.
  trapExit();
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const imports = Promise.all(recs.map(importFile));
    const expired = new Promise<"timeout">((res) => {
      // A timer pending is also what keeps Bun from spinning a core on a top-level await that never settles.
      if (ms > 0) timer = setTimeout(() => res("timeout"), ms);
    });
    let timedOut = false;
    try {
      const all = await (ms > 0 ? Promise.race([imports, expired]) : imports);
      if (all !== "timeout") return all;
      timedOut = true;
    } catch {
      // one failed: sorted out below
    } finally {
      clearTimeout(timer);
    }
    // Slow path: each import's own outcome (Bun evaluates a file once: these are the same imports, not new ones).
    const done = recs.map(() => undefined as undefined | { ok: Exports } | { err: unknown });
    const each = Promise.all(
      recs.map((r, i) =>
        importFile(r).then(
          (ok) => void (done[i] = { ok }),
          (err) => void (done[i] = { err }),
        ),
      ),
    );
    if (timedOut) {
      // The limit passed: what settled did so long ago (its handlers run within a tick); the rest hung.
      await Promise.race([each, new Promise((res) => setTimeout(res, 0))]);
    } else {
      // One failed at once while others may still be loading: wait for them, up to what is left of the limit.
      let t2: ReturnType<typeof setTimeout> | undefined;
      const left = Math.max(0, deadline - performance.now());
      await (ms > 0 ? Promise.race([each, new Promise((res) => (t2 = setTimeout(res, left)))]) : each);
      clearTimeout(t2);
    }
    return done.map((d, i) => {
      if (d === undefined) return new ImportFailure(timeoutError(recs[i]!, "importing it", ms));
      return "ok" in d ? d.ok : new ImportFailure(d.err);
    });
  } finally {
    releaseExit();
  }
}

/**
 * Run a plugin's step (an import, an async __virtual__ or __init__) with process.exit trapped, bounded by the hub's
 * load timeout: its promise, or a TimeoutError naming the file and what it was doing. The trap is released when
 * the step settles or times out, whichever comes first: a step that never settles must not keep it.
 */
function guarded<T>(hub: Hub, rec: ModuleRecord, doing: string, step: () => Promise<T>): Promise<T> {
  const ms = state(hub).loadTimeout;
  trapExit();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    releaseExit();
  };
  let p: Promise<T>;
  try {
    p = step();
  } catch (e) {
    release();
    return Promise.reject(e);
  }
  // With no limit, only an import is watched (for a module exporting `then`, below).
  if (ms <= 0 && doing !== "importing it") return p.finally(release);
  // The limit's timer is armed on the next turn of the event loop, and only for a step still running then: an import
  // without a top-level await settles before that turn, and a compiled pop's first setTimeout costs ~0.1 to 0.3 ms of
  // every pop call (docs/benchmarks.md). The pending immediate, then the timer, keep Bun from spinning on a step that
  // never settles (docs/plugins.md).
  // Promise.withResolvers, not new Promise(executor): the constructor's first use costs a compiled pop ~0.15 ms.
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  const end = () => {
    settled = true;
    clearTimeout(timer);
    release();
  };
  p.then(
    (value) => {
      if (settled) return;
      end();
      resolve(value);
    },
    (err: unknown) => {
      if (settled) return;
      end();
      reject(err);
    },
  );
  setImmediate(() => {
    if (settled) return;
    // An import still unsettled a turn later is a top-level await, or a module exporting `then`, which import() takes
    // for a promise and waits on forever: the latter is said now, not after the load timeout.
    if (doing === "importing it" && exportsThen(specifier(rec))) {
      end();
      reject(thenError(rec));
      return;
    }
    if (ms > 0)
      timer = setTimeout(() => {
        end(); // the step is still running: end() clears this timer once it settles
        reject(timeoutError(rec, doing, ms));
      }, ms);
  });
  return promise;
}

function timeoutError(rec: ModuleRecord, doing: string, ms: number): PluginLoadError {
  if (doing === "importing it" && exportsThen(specifier(rec))) return thenError(rec);
  const err = new TimeoutError(`${rec.file}: module "${rec.ref}" did not finish ${doing} within ${ms} ms`, ms);
  const hint = doing === "importing it" ? "a top-level await that never settles?" : "an __init__ that never resolves?";
  return new PluginLoadError(rec.ref, { file: rec.file }, `timed out after ${ms} ms ${doing} (${hint} raise the limit with --load-timeout MS)`, { cause: err });
}

/**
 * Whether the module at `file`, evaluated already, exports a function named `then`. require() hands back an
 * evaluated module's namespace without awaiting it; a module still in its top-level await throws, and is not one.
 */
function exportsThen(specifier: string): boolean {
  try {
    return typeof (guardExitSync(() => require(specifier)) as Exports).then === "function";
  } catch {
    return false;
  }
}

function thenError(rec: ModuleRecord): PluginLoadError {
  return new PluginLoadError(
    rec.ref,
    { file: rec.file },
    'it exports a function named "then", so import() takes the module for a promise and waits on it for ever; rename the function (no plugin module can export "then")',
  );
}

// ---- After the import: virtual name, __virtual__, checks, install, __init__ ------------------------------------

/** Everything after the import. Synchronous unless the plugin's own hooks are async; with `sync`, an async __virtual__ is an error. */
export function settle(hub: Hub, rec: ModuleRecord, exports: Exports, sync = false): void | Promise<void> {
  let r: void | Promise<void>;
  try {
    // Call sites test for the rare hooks, so a plain module's load runs none of their code (each function's first
    // call costs a compiled pop ~32 ns per byte of its bytecode: docs/benchmarks.md).
    if (exports.__virtualname__ !== undefined) applyVirtualName(hub, rec, exports);
    if (rec.state !== "pending") return; // disabled under its virtual name
    const v = rec.sub.virtual === false || exports.__virtual__ === undefined ? true : guardExitSync(() => callVirtual(hub, exports));
    if (v instanceof Promise) {
      if (sync)
        throw new PluginLoadError(
          rec.ref,
          { file: rec.file },
          '__virtual__ is async, so the module cannot load on first access; add its sub with load: "eager" or await hub.pop.sub.load(ref) first',
        );
      r = guarded(hub, rec, "running __virtual__", () =>
        v.then(
          (x) => x,
          (err) => ({ err }),
        ),
      ).then((x) => activate(hub, rec, exports, x));
    } else {
      r = activate(hub, rec, exports, v);
    }
  } catch (err) {
    return fail(hub, rec, err);
  }
  // On the sync path the caller gates the module's functions on the promise and records its failure itself.
  return r instanceof Promise && !sync ? r.catch((err) => fail(hub, rec, err)) : r;
}

function activate(hub: Hub, rec: ModuleRecord, exports: Exports, v: unknown): void | Promise<void> {
  if ((v !== true || rec.claim !== undefined || rec.others.length > 0) && !acceptVirtual(hub, rec, exports, v)) return;
  install(hub, rec, exports);
  const init = exports.__init__ === undefined ? undefined : guardExitSync(() => runInit(hub, rec, exports));
  if (init instanceof Promise) return guarded(hub, rec, "running __init__", () => init).then(() => undefined);
}

/**
 * `export const __virtualname__ = "x"` puts the module on the hub as `x` instead of its file name. When another
 * file holds that name already, this one only claims it: after __virtual__, a claim that loads takes the name from
 * a holder that refused, and clashes with one that loaded (POP's test_verror_does_not_overload_loaded_mod).
 */
function applyVirtualName(hub: Hub, rec: ModuleRecord, exports: Exports): void {
  const v = exports.__virtualname__;
  if (v === undefined || v === rec.name) return;
  if (typeof v !== "string" || !IDENT.test(v)) {
    throw new PluginLoadError(rec.ref, { file: rec.file }, `__virtualname__ must be an identifier string, got ${JSON.stringify(v)}`);
  }
  const taken = rec.sub.modules.get(v);
  if (taken && taken !== rec) {
    rec.claim = v;
    return;
  }
  rename(rec, v);
  const why = state(hub).disabled.get(rec.ref);
  if (why !== undefined) become(hub, rec, "disabled", { reason: `disabled by ${why}` });
}

function rename(rec: ModuleRecord, to: string): void {
  const sub = rec.sub;
  if (sub.modules.get(rec.name) === rec) sub.modules.delete(rec.name);
  rec.name = to;
  rec.ref = `${sub.ref}.${to}`;
  sub.modules.set(to, rec);
}

/** The module name a file would have without a __virtualname__. */
function stemName(file: string): string {
  return file.slice(file.lastIndexOf("/") + 1).replace(/\.[^.]+$/, "");
}

function callVirtual(hub: Hub, exports: Exports): unknown {
  const v = exports.__virtual__;
  if (v === undefined) return true;
  if (typeof v !== "function") return v;
  try {
    return (v as AnyFn)(hub);
  } catch (err) {
    return { err };
  }
}

function acceptVirtual(hub: Hub, rec: ModuleRecord, exports: Exports, v: unknown): boolean {
  if (v && typeof v === "object" && "err" in v) {
    const { reason, location } = describeThrow((v as { err: unknown }).err, rec.file);
    throw new PluginLoadError(rec.ref, location, `__virtual__ ${reason}`, { cause: (v as { err: unknown }).err });
  }
  const accepted = v === true || v === undefined;
  if (accepted && rec.claim !== undefined) {
    const holder = rec.sub.modules.get(rec.claim)!;
    if (holder.state === "loaded" || holder.state === "pending") {
      throw new PluginLoadError(rec.ref, { file: rec.file }, `__virtualname__ "${rec.claim}" clashes with module ${holder.file}; choose another name`);
    }
    // The holder refused: it steps back to its file's name (pop tree still lists it), this module takes the name.
    const back = stemName(holder.file);
    rec.sub.modules.delete(holder.name);
    if (!rec.sub.modules.has(back)) {
      holder.name = back;
      rec.sub.modules.set(back, holder);
    }
    rename(rec, rec.claim);
    rec.claim = undefined;
  }
  checkOverride(rec, exports);
  if (accepted) return true;
  const reason = virtualReason(v);
  become(hub, rec, "virtual", { reason });
  // Not a warning: a module that turns itself off (wrong platform, a missing tool) is working as meant. pop tree
  // lists it with the reason, a call to it fails with the reason, and --log-level debug shows it here.
  log.debug(`${rec.file}: module "${rec.ref}" disabled itself: ${reason}`, { ref: rec.ref, file: rec.file });
  return false;
}

function virtualReason(v: unknown): string {
  if (typeof v === "string") return oneLine(v) || "__virtual__ returned an empty reason";
  return v === false ? "__virtual__ returned false" : `__virtual__ returned ${JSON.stringify(v)}`;
}

function checkOverride(rec: ModuleRecord, exports: Exports): void {
  if (rec.others.length === 0 || exports.__override__ === true) return;
  throw new PluginLoadError(
    rec.ref,
    { file: rec.file },
    `defined by both ${rec.others.join(" and ")} and ${rec.file}; rename one, or add \`export const __override__ = true\` to ${rec.file} to replace the earlier one`,
  );
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * Check a module at load and record it as loaded. A module under contracts is built onto its sub now (its
 * contract and sig errors belong to load time); a plain one is put on the sub when first read
 * (`moduleObject`), because reading a thousand module namespaces costs more than importing them.
 */
function install(hub: Hub, rec: ModuleRecord, exports: Exports): void {
  // Said at load, so pop tree says it too, not only a call that reads the module.
  if (typeof exports.default === "function") defaultNotOnHub(hub, rec, exports.default as AnyFn);
  const contracts = contractsFor(hub, rec, exports);
  if (exports.__func_alias__ !== undefined) readAlias(rec, exports);
  rec.applied = contracts;
  rec.contracts = contracts.length === 0 ? [] : contracts.map((c) => c.file);
  if (contracts.length > 0) build(hub, rec, exports, contracts);
  become(hub, rec, "loaded", { exports });
}

/** The module object on the hub (`hub.sub.mod`) of a loaded module, built on first need. */
export function moduleObject(hub: Hub, rec: ModuleRecord): Record<string, unknown> | undefined {
  if (rec.state !== "loaded" || !rec.exports) return undefined;
  return rec.object ?? build(hub, rec, rec.exports, rec.applied ?? []);
}

/** Bind the module's public functions to the hub, wrapped by its contracts, put its public values beside them, and put it on its sub. */
function build(hub: Hub, rec: ModuleRecord, exports: Exports, contracts: LoadedContract[]): Record<string, unknown> {
  const plain = contracts.length === 0;
  const alias = exports.__func_alias__ === undefined ? NO_ALIAS : readAlias(rec, exports);
  const ns: Record<string, unknown> = {};
  const bare: Record<string, AnyFn> = {};
  for (const key of Object.keys(exports)) {
    const value = exports[key];
    const kind = exportKind(key, value, alias);
    if (kind === undefined) continue;
    const name = alias[key] ?? key;
    if (kind === "value") {
      ns[name] = value; // data and classes: readable as they are (hub.sub.mod.VAR)
      continue;
    }
    // No contracts (the common case): the plain function bound to the hub, nothing else in the call path.
    const fn = plain ? bindHub(value as AnyFn, hub) : bindChain(buildChain(hub, rec, name, value as AnyFn, contracts));
    bare[name] = fn;
    ns[name] = fn;
  }
  if (!plain) {
    const missing = requiredSigs(rec, contracts).filter((s) => typeof ns[s.name] !== "function");
    if (missing.length > 0) throw new PluginLoadError(rec.ref, { file: rec.file }, missingMessage(rec, missing));
    checkSigParams(rec, exports, alias, contracts);
  }
  (ns as Record<symbol, unknown>)[MOD] = rec; // a plain symbol key: cheaper than defineProperty, still invisible to Object.keys and JSON
  rec.object = ns;
  rec.bare = bare;
  if (wrapsCalls(hub)) for (const name of Object.keys(bare)) ns[name] = traceFn(hub, `${rec.ref}.${name}`, bare[name]!, rec);
  put(rec.sub.object, rec.name, ns);
  return ns;
}

/** `export default function` is a common habit, and pop puts only named exports on the hub: said, not silently dropped. */
function defaultNotOnHub(hub: Hub, rec: ModuleRecord, fn: AnyFn): void {
  const name = fn.name && fn.name !== "default" ? fn.name : "run";
  state(hub).warn(
    `${rec.file}: its default export is not on the hub (only named exports are): write "export function ${name}(hub, ...)" to call it as ${rec.ref}.${name}`,
  );
}

/** `missing function "a" required by x.ts, "b" and "c" required by y.ts: export them from m.ts` */
function missingMessage(rec: ModuleRecord, missing: Array<{ name: string; file: string }>): string {
  const byFile = new Map<string, string[]>();
  for (const m of missing) byFile.set(m.file, [...(byFile.get(m.file) ?? []), `"${m.name}"`]);
  const parts = [...byFile].map(([file, names]) => `${names.join(", ")} required by ${file}`);
  return `missing function${missing.length > 1 ? "s" : ""} ${parts.join("; ")}: export ${missing.length > 1 ? "them" : "it"} from ${rec.file}`;
}

/**
 * What an export is on the hub: "fn" (a named function, not a class), "value" (public data or a class), or
 * undefined (private: a name starting with `_` unless aliased, `default`, or a pop hook).
 */
function exportKind(key: string, value: unknown, alias: Record<string, string>): "fn" | "value" | undefined {
  if (key === "default" || (key.charCodeAt(0) === 95 /* _ */ && !(key in alias))) return undefined;
  if (typeof value !== "function") return "value";
  // Only a capitalised name can plausibly be a class: skip the descriptor lookup for the rest.
  const c = key.charCodeAt(0);
  return c >= 65 && c <= 90 && isClass(value) ? "value" : "fn";
}

/** The functions a loaded module put on the hub, for `pop tree` (computed on demand, not at load). */
export function moduleFunctions(rec: ModuleRecord): FunctionRecord[] {
  const exports = rec.exports;
  if (rec.state !== "loaded" || !exports) return [];
  const alias = exports.__func_alias__ === undefined ? NO_ALIAS : aliasTable(exports.__func_alias__ as Record<string, string>);
  const contracts = rec.applied ?? [];
  const out: FunctionRecord[] = [];
  for (const key of Object.keys(exports)) {
    const value = exports[key];
    if (exportKind(key, value, alias) !== "fn") continue;
    const name = alias[key] ?? key;
    const applied = contracts
      .filter((c) => Object.keys(c.exports).some((k) => k === "pre" || k === "call" || k === "post" || k.endsWith(`_${name}`)))
      .map((c) => c.file);
    out.push({ name, exportName: key, ref: `${rec.ref}.${name}`, raw: value as AnyFn, contracts: applied });
  }
  return out;
}

/**
 * Aliases by export name, with no prototype: an export named `toString` or `constructor` must not find
 * Object.prototype's (it would become a "function" named by the native function's text).
 */
const NO_ALIAS: Record<string, string> = Object.freeze(Object.create(null));

function aliasTable(a: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null), a);
}

/** The module's `__func_alias__`, checked: every target a fresh identifier, no two functions under one name. */
function readAlias(rec: ModuleRecord, exports: Exports): Record<string, string> {
  const a = exports.__func_alias__;
  if (a === undefined) return {};
  const bad = (why: string) => new PluginLoadError(rec.ref, { file: rec.file }, `__func_alias__ ${why}`);
  if (!a || typeof a !== "object" || Array.isArray(a) || Object.values(a).some((v) => typeof v !== "string")) {
    throw bad(`must map export names to hub names, e.g. { del_: "delete" }; got ${JSON.stringify(a)}`);
  }
  const alias = aliasTable(a as Record<string, string>);
  const targets = new Map<string, string>();
  for (const [from, to] of Object.entries(alias)) {
    if (!IDENT.test(to) || to === "__proto__" || to.startsWith("_"))
      throw bad(`maps "${from}" to ${JSON.stringify(to)}, which is not a public name: use an identifier that does not start with "_"`);
    const prev = targets.get(to);
    if (prev !== undefined) throw bad(`maps both "${prev}" and "${from}" to "${to}": one name, one function`);
    if (to !== from && Object.hasOwn(exports, to) && !(to in alias) && exportKind(to, exports[to], NO_ALIAS) !== undefined) {
      throw bad(`maps "${from}" to "${to}", but the module also exports "${to}": rename one of them`);
    }
    targets.set(to, from);
  }
  return alias;
}

/** Classes have a read-only `prototype`; plain and async functions a writable one or none (no source stringifying). */
function isClass(fn: unknown): boolean {
  return Object.getOwnPropertyDescriptor(fn, "prototype")?.writable === false;
}

function runInit(hub: Hub, rec: ModuleRecord, exports: Exports): unknown {
  if (rec.sub.init === false && rec.name === "init") return undefined;
  const init = exports.__init__;
  if (init === undefined) return undefined;
  if (typeof init !== "function") throw new PluginLoadError(rec.ref, { file: rec.file }, `__init__ must be a function, got ${typeof init}`);
  let r: unknown;
  try {
    r = (init as AnyFn)(hub);
  } catch (err) {
    throw initError(rec, err);
  }
  if (r instanceof Promise) return r.catch((err) => Promise.reject(initError(rec, err)));
  return r;
}

function initError(rec: ModuleRecord, err: unknown): PluginLoadError {
  if (err instanceof PluginLoadError) return err;
  const { reason, location } = describeThrow(err, rec.file);
  return new PluginLoadError(rec.ref, location, `__init__ ${reason}`, { cause: err });
}

/** Until an async __init__ (of the module, or of its lazily reached sub) settles, each function waits for it. */
function gate(hub: Hub, rec: ModuleRecord, init: Promise<unknown>): void {
  const ns = moduleObject(hub, rec);
  if (!ns) return;
  const real = { ...ns };
  for (const key of Object.keys(real)) if (typeof real[key] === "function") ns[key] = (...args: unknown[]) => init.then(() => (real[key] as AnyFn)(...args));
  rec.gated = true;
  const subInit = rec.name === "init" ? undefined : rec.sub.initializing;
  rec.loading = (subInit ? Promise.all([subInit, init]) : init).then(
    () => {
      rec.gated = false;
      Object.assign(ns, real);
      if (wrapsCalls(hub) && rec.bare) for (const name of Object.keys(rec.bare)) ns[name] = traceFn(hub, `${rec.ref}.${name}`, rec.bare[name]!, rec);
    },
    (err) => {
      // Nobody awaits this promise: a strict hub's rethrow would go unhandled. The gated calls already reject with the error.
      try {
        fail(hub, rec, err);
      } catch {}
    },
  );
}

/**
 * Record a module's load failure, and warn of it, unless `thrown`: the failure goes to the code that reached for the
 * module (a read through a lazy sub throws it), which says it once, as its error (pop app's cli, a plugin's call).
 */
export function fail(hub: Hub, rec: ModuleRecord, err: unknown, thrown = false): void {
  const error = loadError(rec, err);
  become(hub, rec, "failed", { error });
  const s = state(hub);
  s.failures.push(error);
  if (s.strict || rec.sub.stopOnFailures) throw error;
  if (!thrown) s.warn(error.message, { code: error.code, ref: error.ref, location: error.location });
}

function loadError(rec: ModuleRecord, err: unknown): PluginLoadError {
  if (err instanceof PluginLoadError) return err;
  if (err instanceof ExitCalledError || err instanceof ExitCalled)
    return new PluginLoadError(rec.ref, describeThrow(err, rec.file).location, err.message, { cause: err });
  const { reason, location } = describeThrow(err, rec.file);
  return new PluginLoadError(rec.ref, location, reason, { cause: err });
}

// ---- The end of a record's life: shutdown, reload ---------------------------------------------------------------

/** A `__shutdown__` hook that threw or timed out. */
export class ShutdownHookError extends PopError {
  override name = "ShutdownHookError";
  override readonly code: string = "POP_SHUTDOWN_HOOK";
  readonly ref: string;
  readonly location: SourceLocation;
  readonly reason: string;
  constructor(ref: string, location: SourceLocation, reason: string, options?: { cause?: unknown }) {
    super(`${formatLocation(location)}: module "${ref}": ${reason}`, options);
    this.ref = ref;
    this.location = location;
    this.reason = reason;
  }
}

/** Run a loaded module's `__shutdown__(hub)` (bounded by the hub's shutdown timeout) and take it off its sub. Returns the hook's error, if any. */
export async function shutdownModule(hub: Hub, rec: ModuleRecord): Promise<Error | undefined> {
  if (rec.state !== "loaded") return undefined;
  const hook = rec.exports?.__shutdown__;
  become(hub, rec, "shutdown", { reason: "shut down" });
  if (hook === undefined) return undefined;
  if (typeof hook !== "function") return shutdownError(rec, { reason: `__shutdown__ must be a function, got ${typeof hook}`, location: { file: rec.file } });
  const ms = state(hub).shutdownTimeout;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const run = Promise.resolve().then(() => (hook as AnyFn)(hub));
    const limit = new Promise<never>((_, reject) => {
      if (ms > 0) timer = setTimeout(() => reject(new TimeoutError(`did not finish within ${ms} ms`, ms)), ms);
    });
    await (ms > 0 ? Promise.race([run, limit]) : run);
    return undefined;
  } catch (err) {
    if (err instanceof TimeoutError) return shutdownError(rec, { reason: `__shutdown__ timed out after ${ms} ms`, location: { file: rec.file } }, err);
    const d = describeThrow(err, rec.file);
    return shutdownError(rec, { reason: `__shutdown__ ${d.reason}`, location: d.location }, err);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function shutdownError(rec: ModuleRecord, d: { reason: string; location: SourceLocation }, cause?: unknown): ShutdownHookError {
  return new ShutdownHookError(rec.ref, d.location, d.reason, cause === undefined ? undefined : { cause });
}

/** A pending record for the next copy of `rec`'s file (imported under a new URL). */
export function nextGeneration(rec: ModuleRecord): ModuleRecord {
  return {
    name: rec.name,
    file: rec.file,
    others: rec.others,
    sub: rec.sub,
    ref: rec.ref,
    state: "pending",
    contracts: [],
    generation: (rec.generation ?? 0) + 1,
  };
}

/**
 * Reload a module from its file: import a fresh copy and check it (virtual name, __virtual__, contracts), install it
 * and run its __init__, then shut the old one down once its calls in flight have settled (counted while something
 * tracks calls: watchHub). If the new copy fails before the swap, or its __init__ fails, the old one keeps serving
 * (never shut down) and the error is thrown.
 */
export async function reloadModule(hub: Hub, rec: ModuleRecord): Promise<ModuleRecord> {
  if (rec.preloaded) throw new PluginLoadError(rec.ref, { file: rec.file }, "a built-in module cannot be reloaded");
  const fresh = nextGeneration(rec);
  let exports: Exports;
  try {
    exports = await guarded(hub, fresh, "importing it", () => importFile(fresh));
    if (exports.__virtualname__ !== undefined && exports.__virtualname__ !== rec.name)
      throw new PluginLoadError(
        rec.ref,
        { file: rec.file },
        `__virtualname__ changed to ${JSON.stringify(exports.__virtualname__)}: a reload keeps the module's name; restart to rename it`,
      );
    const v = await Promise.resolve(guardExitSync(() => callVirtual(hub, exports)));
    if (!(v === true || v === undefined))
      throw new PluginLoadError(
        rec.ref,
        { file: rec.file },
        v && typeof v === "object" && "err" in v ? `__virtual__ ${describeThrow((v as { err: unknown }).err, rec.file).reason}` : virtualReason(v),
      );
    checkOverride(fresh, exports);
    const contracts = contractsFor(hub, fresh, exports);
    readAlias(fresh, exports);
    fresh.applied = contracts;
    fresh.contracts = contracts.map((c) => c.file);
    build(hub, fresh, exports, contracts); // sig and contract errors surface here, before the swap
  } catch (err) {
    const error = loadError(rec, err);
    // The half-built fresh object must not stay on the sub: put the old one back.
    if (rec.object) put(rec.sub.object, rec.name, rec.object);
    throw error;
  }
  // The new copy serves from the next call on; the old one is shut down once its calls in flight have settled.
  rec.sub.modules.set(rec.name, fresh);
  rec.sub.files.set(rec.file, fresh);
  become(hub, fresh, "loaded", { exports });
  try {
    const init = guardExitSync(() => runInit(hub, fresh, exports));
    if (init instanceof Promise) await guarded(hub, fresh, "running __init__", () => init);
  } catch (err) {
    const error = loadError(fresh, err);
    become(hub, fresh, "failed", { error });
    // Put the old module back (never shut down): its record and its object.
    rec.sub.modules.set(rec.name, rec);
    rec.sub.files.set(rec.file, rec);
    if (rec.object) put(rec.sub.object, rec.name, rec.object);
    throw error;
  }
  // Nothing running on the old copy: it is shut down before the reload returns; else once its calls have settled.
  const retired = retire(hub, rec);
  if (callsRunning(hub, rec.ref) === 0) await retired;
  return fresh;
}

/** Per hub, the files of modules dropped because they were deleted, and the generation a new copy of each is imported as. */
const dropped = new WeakMap<Hub, Map<string, number>>();

/**
 * A module whose file is gone (--watch): off the hub at once, so a read of it finds no module (or a file made there
 * later), and shut down once its calls in flight have settled.
 */
export async function dropModule(hub: Hub, rec: ModuleRecord): Promise<void> {
  let files = dropped.get(hub);
  if (!files) dropped.set(hub, (files = new Map()));
  files.set(rec.file, (rec.generation ?? 0) + 1);
  if (rec.sub.modules.get(rec.name) === rec) rec.sub.modules.delete(rec.name);
  if (rec.sub.files.get(rec.file) === rec) rec.sub.files.delete(rec.file);
  if (rec.object && Object.getOwnPropertyDescriptor(rec.sub.object, rec.name)?.value === rec.object) delete rec.sub.object[rec.name];
  await retire(hub, rec);
}

/** Shut a replaced module down once the calls running on it have settled (bounded by the shutdown timeout, then anyway, with a warning). */
async function retire(hub: Hub, rec: ModuleRecord): Promise<void> {
  const s = state(hub);
  const left = await settleCalls(hub, rec.ref, s.shutdownTimeout);
  if (left > 0)
    s.warn(`${rec.file}: ${left} call${left > 1 ? "s" : ""} still running on the old "${rec.ref}" after ${s.shutdownTimeout} ms; shutting it down anyway`);
  const down = await shutdownModule(hub, rec);
  if (down) s.warn(down.message);
}
