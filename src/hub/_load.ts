import { bindChain } from "./_call.ts";
import { buildChain, contractsFor, type LoadedContract, requiredSigs } from "./_contracts.ts";
import { TimeoutError } from "../errors.ts";
import { describeThrow, oneLine, PluginLoadError } from "./_errors.ts";
import { MOD, put, state } from "./_meta.ts";
import type { AnyFn, FunctionRecord, Hub, ModuleRecord } from "./_types.ts";

type Exports = Record<string, unknown>;

/** Load a module the asynchronous way (import(), awaiting async __virtual__ and __init__). Never throws unless the hub is strict. */
export function loadModule(hub: Hub, rec: ModuleRecord): Promise<void> {
  if (rec.state !== "pending") return rec.loading ?? Promise.resolve();
  rec.loading ??= (rec.preloaded ? Promise.resolve(rec.preloaded) : (import(rec.file) as Promise<Exports>)).then(
    (exports) => settle(hub, rec, exports),
    (err) => fail(hub, rec, err),
  );
  return rec.loading;
}

/** Everything after the import: virtual name, __virtual__, install, __init__. Synchronous unless the plugin's own hooks are async. */
export function settle(hub: Hub, rec: ModuleRecord, exports: Exports): void | Promise<void> {
  let r: void | Promise<void>;
  try {
    applyVirtualName(rec, exports);
    if (disabledByHubName(hub, rec)) return;
    const v = callVirtual(hub, exports);
    r = v instanceof Promise ? v.then((x) => x, (err) => ({ err })).then((x) => activate(hub, rec, exports, x)) : activate(hub, rec, exports, v);
  } catch (err) {
    return fail(hub, rec, err);
  }
  return r instanceof Promise ? r.catch((err) => fail(hub, rec, err)) : r;
}

function activate(hub: Hub, rec: ModuleRecord, exports: Exports, v: unknown): void | Promise<void> {
  if (!acceptVirtual(hub, rec, exports, v)) return;
  install(hub, rec, exports);
  const init = runInit(hub, rec, exports);
  if (init instanceof Promise) return init.then(() => undefined);
}

/** Load a module synchronously (require()): the path of a first read through a lazy sub. An async __init__ gates the module's functions until it settles. */
export function loadModuleSync(hub: Hub, rec: ModuleRecord): void {
  if (rec.state !== "pending") return;
  try {
    const exports = rec.preloaded ?? (require(rec.file) as Exports);
    applyVirtualName(rec, exports);
    if (disabledByHubName(hub, rec)) return;
    const v = callVirtual(hub, exports);
    if (v instanceof Promise) {
      throw new PluginLoadError(rec.ref, { file: rec.file }, "__virtual__ is async, so the module cannot load on first access; add its sub with load: \"eager\" or await hub.pop.sub.load(ref) first");
    }
    if (!acceptVirtual(hub, rec, exports, v)) return;
    install(hub, rec, exports);
    const ns = moduleObject(hub, rec)!; // this path is a first read: the module is wanted now
    const init = runInit(hub, rec, exports);
    // A sub-sub reached lazily may still be running its async init: its modules wait for it too.
    const subInit = rec.name === "init" ? undefined : rec.sub.initializing;
    const wait = init instanceof Promise ? (subInit ? Promise.all([subInit, init]) : init) : subInit;
    if (wait) gate(hub, rec, ns, wait);
  } catch (err) {
    fail(hub, rec, err);
  }
}

/** `--disable` names a module as the hub shows it: a __virtualname__'d module is checked again under that name. */
function disabledByHubName(hub: Hub, rec: ModuleRecord): boolean {
  const why = state(hub).disabled.get(rec.ref);
  if (why === undefined) return false;
  rec.state = "disabled";
  rec.reason = `disabled by ${why}`;
  return true;
}

/** `export const __virtualname__ = "x"` puts the module on the hub as `x` instead of its file name. */
function applyVirtualName(rec: ModuleRecord, exports: Exports): void {
  const v = exports.__virtualname__;
  if (v === undefined || v === rec.name) return;
  if (typeof v !== "string" || !/^[A-Za-z$][\w$]*$/.test(v)) {
    throw new PluginLoadError(rec.ref, { file: rec.file }, `__virtualname__ must be an identifier string, got ${JSON.stringify(v)}`);
  }
  const sub = rec.sub;
  const taken = sub.modules.get(v);
  if (taken && taken !== rec) {
    throw new PluginLoadError(rec.ref, { file: rec.file }, `__virtualname__ "${v}" clashes with module ${taken.file}; choose another name`);
  }
  sub.modules.delete(rec.name);
  rec.name = v;
  rec.ref = `${sub.ref}.${v}`;
  sub.modules.set(v, rec);
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
  checkOverride(rec, exports);
  if (v && typeof v === "object" && "err" in v) {
    const { reason, location } = describeThrow((v as { err: unknown }).err, rec.file);
    throw new PluginLoadError(rec.ref, location, `__virtual__ ${reason}`, { cause: (v as { err: unknown }).err });
  }
  if (v === true || v === undefined) return true;
  const reason = typeof v === "string" ? oneLine(v) : v === false ? "__virtual__ returned false" : `__virtual__ returned ${JSON.stringify(v)}`;
  rec.state = "virtual";
  rec.reason = reason;
  rec.location = { file: rec.file };
  state(hub).warn(`${rec.file}: module "${rec.ref}" disabled itself: ${reason}`);
  return false;
}

function checkOverride(rec: ModuleRecord, exports: Exports): void {
  if (rec.others.length === 0 || exports.__override__ === true) return;
  throw new PluginLoadError(
    rec.ref,
    { file: rec.file },
    `defined by both ${rec.others.join(" and ")} and ${rec.file}; rename one, or add \`export const __override__ = true\` to ${rec.file} to replace the earlier one`,
  );
}

/**
 * Check a module at load and record it as loaded. A module under contracts is built onto its sub now (its
 * contract and sig errors belong to load time); a plain one is put on the sub when first read
 * (`moduleObject`), because reading a thousand module namespaces costs more than importing them.
 */
function install(hub: Hub, rec: ModuleRecord, exports: Exports): void {
  const contracts = contractsFor(hub, rec, exports);
  readAlias(rec, exports);
  rec.exports = exports;
  rec.applied = contracts;
  rec.contracts = contracts.map((c) => c.file);
  if (contracts.length > 0) build(hub, rec, exports, contracts);
  rec.state = "loaded";
  state(hub).loaded.push(rec);
}

/** The module object on the hub (`hub.sub.mod`) of a loaded module, built on first need. */
export function moduleObject(hub: Hub, rec: ModuleRecord): Record<string, unknown> | undefined {
  if (rec.state !== "loaded" || !rec.exports) return undefined;
  return rec.object ?? build(hub, rec, rec.exports, rec.applied ?? []);
}

/** Bind the module's public functions to the hub, wrapped by its contracts, and put them on its sub. */
function build(hub: Hub, rec: ModuleRecord, exports: Exports, contracts: LoadedContract[]): Record<string, unknown> {
  const plain = contracts.length === 0;
  const alias = readAlias(rec, exports);
  const ns: Record<string, unknown> = {};
  for (const key of Object.keys(exports)) {
    const value = exports[key];
    if (!isPublic(key, value, alias)) continue;
    const name = alias[key] ?? key;
    // No contracts (the common case): the plain function bound to the hub, nothing else in the call path.
    ns[name] = plain ? (value as AnyFn).bind(undefined, hub) : bindChain(buildChain(hub, rec, name, value as AnyFn, contracts));
  }
  if (!plain) {
    const missing = requiredSigs(rec, contracts).filter((s) => !(s.name in ns));
    if (missing.length > 0) {
      throw new PluginLoadError(rec.ref, { file: rec.file }, missingMessage(rec, missing));
    }
  }
  (ns as Record<symbol, unknown>)[MOD] = rec; // a plain symbol key: cheaper than defineProperty, still invisible to Object.keys and JSON
  rec.object = ns;
  put(rec.sub.object, rec.name, ns);
  return ns;
}

/** `missing function "a" required by x.ts, "b" and "c" required by y.ts: export them from m.ts` */
function missingMessage(rec: ModuleRecord, missing: Array<{ name: string; file: string }>): string {
  const byFile = new Map<string, string[]>();
  for (const m of missing) byFile.set(m.file, [...(byFile.get(m.file) ?? []), `"${m.name}"`]);
  const parts = [...byFile].map(([file, names]) => `${names.join(", ")} required by ${file}`);
  return `missing function${missing.length > 1 ? "s" : ""} ${parts.join("; ")}: export ${missing.length > 1 ? "them" : "it"} from ${rec.file}`;
}

/** A hub-visible export: a named function (not a class, not `export default`) whose name does not start with `_` (unless aliased). */
function isPublic(key: string, value: unknown, alias: Record<string, string>): boolean {
  if (typeof value !== "function" || key === "default" || (key.charCodeAt(0) === 95 /* _ */ && !(key in alias))) return false;
  // Only a capitalised name can plausibly be a class: skip the descriptor lookup for the rest.
  const c = key.charCodeAt(0);
  return !(c >= 65 && c <= 90 && isClass(value));
}

/** The functions a loaded module put on the hub, for `pop tree` (computed on demand, not at load). */
export function moduleFunctions(rec: ModuleRecord): FunctionRecord[] {
  const exports = rec.exports;
  if (rec.state !== "loaded" || !exports) return [];
  const alias = (exports.__func_alias__ as Record<string, string> | undefined) ?? {};
  const contracts = rec.applied ?? [];
  const out: FunctionRecord[] = [];
  for (const key of Object.keys(exports)) {
    const value = exports[key];
    if (!isPublic(key, value, alias)) continue;
    const name = alias[key] ?? key;
    const applied = contracts.filter((c) => Object.keys(c.exports).some((k) => k === "pre" || k === "call" || k === "post" || k.endsWith(`_${name}`))).map((c) => c.file);
    out.push({ name, exportName: key, ref: `${rec.ref}.${name}`, raw: value as AnyFn, contracts: applied });
  }
  return out;
}

function readAlias(rec: ModuleRecord, exports: Exports): Record<string, string> {
  const a = exports.__func_alias__;
  if (a === undefined) return {};
  if (!a || typeof a !== "object" || Object.values(a).some((v) => typeof v !== "string")) {
    throw new PluginLoadError(rec.ref, { file: rec.file }, `__func_alias__ must map export names to hub names, e.g. { del_: "delete" }; got ${JSON.stringify(a)}`);
  }
  return a as Record<string, string>;
}

/** Classes have a read-only `prototype`; plain and async functions a writable one or none (no source stringifying). */
function isClass(fn: unknown): boolean {
  return Object.getOwnPropertyDescriptor(fn, "prototype")?.writable === false;
}

function runInit(hub: Hub, rec: ModuleRecord, exports: Exports): unknown {
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
function gate(hub: Hub, rec: ModuleRecord, ns: Record<string, unknown>, init: Promise<unknown>): void {
  const real = { ...ns };
  for (const key of Object.keys(real)) ns[key] = (...args: unknown[]) => init.then(() => (real[key] as AnyFn)(...args));
  rec.loading = init.then(
    () => void Object.assign(ns, real),
    (err) => {
      // Nobody awaits this promise: a strict hub's rethrow would go unhandled. The gated calls already reject with the error.
      try {
        fail(hub, rec, err);
      } catch {}
    },
  );
}

/** Record a load failure: the module leaves the hub, the log says why; strict hubs throw. */
export function fail(hub: Hub, rec: ModuleRecord, err: unknown): void {
  const error = err instanceof PluginLoadError ? err : (() => {
    const { reason, location } = describeThrow(err, rec.file);
    return new PluginLoadError(rec.ref, location, reason, { cause: err });
  })();
  rec.state = "failed";
  rec.error = error;
  rec.reason = error.reason;
  rec.location = error.location;
  rec.exports = undefined;
  rec.object = undefined;
  if (Object.getOwnPropertyDescriptor(rec.sub.object, rec.name)?.value?.[MOD] === rec) delete rec.sub.object[rec.name];
  const s = state(hub);
  s.failures.push(error);
  if (s.strict) throw error;
  s.warn(error.message);
}

/** Run a loaded module's `__shutdown__(hub)` (bounded by the hub's shutdown timeout) and take it off its sub. Returns the error, if any. */
export async function shutdownModule(hub: Hub, rec: ModuleRecord): Promise<Error | undefined> {
  if (rec.state !== "loaded") return undefined;
  const exports = rec.exports ?? {};
  const hook = exports.__shutdown__;
  rec.state = "shutdown";
  rec.reason = "shut down";
  if (Object.getOwnPropertyDescriptor(rec.sub.object, rec.name)?.value?.[MOD] === rec) delete rec.sub.object[rec.name];
  rec.object = undefined;
  if (hook === undefined) return undefined;
  if (typeof hook !== "function") return new PluginLoadError(rec.ref, { file: rec.file }, `__shutdown__ must be a function, got ${typeof hook}`);
  const ms = state(hub).shutdownTimeout;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const run = Promise.resolve().then(() => (hook as AnyFn)(hub));
    const limit = ms > 0 ? new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`${rec.file}: module "${rec.ref}": __shutdown__ did not finish within ${ms} ms`, ms)), ms))) : undefined;
    await (limit ? Promise.race([run, limit]) : run);
    return undefined;
  } catch (err) {
    if (err instanceof TimeoutError) return err;
    const { reason, location } = describeThrow(err, rec.file);
    return new PluginLoadError(rec.ref, location, `__shutdown__ ${reason}`, { cause: err });
  } finally {
    if (timer) clearTimeout(timer);
  }
}
