import { isDirectory, unreadable } from "../_fs.ts";
import { basename, dirname, join, relative } from "../_path.ts";
import { closest } from "../_suggest.ts";
import { DisabledError, RefError } from "./_errors.ts";
import { loadModule, loadModuleSync, moduleObject } from "./_module.ts";
import { MOD, state, subMeta } from "./_meta.ts";
import { RESERVED_DIRS } from "./_scan.ts";
import { findChild, findModule, loadAllSync, loadOnMiss, loadVirtualNamed, notLoaded } from "./_sub.ts";
import type { AnyFn, Hub, ModuleRecord } from "./_types.ts";

export { loadAllSync };

/** What a ref resolved to. */
export interface Resolved {
  /** Each object walked, hub first: POP's `hub.pop.ref.path`. */
  path: unknown[];
  /** The last one: POP's `hub.pop.ref.last`. */
  last: unknown;
}

/** Walk `ref` from the hub, loading lazy modules on the way (synchronously); a wrong segment fails with the closest existing ref. */
export function resolveRef(hub: Hub, ref: string): Resolved {
  if (typeof ref !== "string" || ref === "" || ref.startsWith(".") || ref.endsWith(".") || ref.includes("..")) throw badRef(ref);
  const parts = ref.split(".");
  const path: unknown[] = [hub];
  let cur: any = hub;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i]!;
    const meta = subMeta(cur);
    let rec: ModuleRecord | undefined;
    if (meta) {
      rec = findModule(hub, meta, key);
      if (rec && rec.state === "pending") loadModuleSync(hub, rec);
      else if (!rec && !findChild(hub, meta, key) && !Object.hasOwn(cur, key)) muted(hub, () => loadVirtualNamed(hub, meta)); // a __virtualname__ may be hiding it
      rec = meta.modules.get(key) ?? rec;
      if (rec && rec.state !== "loaded" && rec.state !== "pending") throw notLoaded(rec);
      if (rec) moduleObject(hub, rec);
    }
    const next = cur !== null && typeof cur === "object" && Object.hasOwn(cur, key) ? cur[key] : undefined;
    if (next === undefined) throw missing(hub, cur, parts, i, ref);
    cur = next;
    path.push(cur);
  }
  return { path, last: cur };
}

/** A ref that is not a string of dotted names. */
function badRef(ref: unknown): RefError {
  if (typeof ref !== "string")
    return new RefError(
      `a ref is a string of dotted names like "rpc.math.fib"; got ${ref === undefined ? "none" : (JSON.stringify(ref) ?? String(ref))}`,
      String(ref),
    );
  return new RefError(`invalid ref "${ref}": expected dotted names like "rpc.math.fib"`, ref);
}

/** Resolve a ref that must name a function. */
export function resolveFunction(hub: Hub, ref: string): AnyFn {
  const { last } = resolveRef(hub, ref);
  if (typeof last !== "function") throw notAFunction(ref, last);
  return last as AnyFn;
}

/** What a ref names instead of a function, with the module's functions when it is a module. */
function notAFunction(ref: string, last: unknown): RefError {
  const isModule = last !== null && typeof last === "object" && MOD in last;
  const kind = subMeta(last) ? "a sub" : isModule ? "a module" : last === null ? "null" : `${/^[aeiou]/.test(typeof last) ? "an" : "a"} ${typeof last}`;
  const names = isModule
    ? Object.keys(last)
        .filter((k) => typeof (last as Record<string, unknown>)[k] === "function")
        .sort()
    : [];
  const hint = names.length > 0 ? `; its functions: ${names.map((n) => `${ref}.${n}`).join(", ")}` : `; run "pop tree" to list what the hub holds`;
  return new RefError(`"${ref}" is ${kind}, not a function${hint}`, ref);
}

/** The names reachable below an object: subs and modules (loaded or not) of a sub, functions of a module. */
function childNames(obj: any): string[] {
  const meta = subMeta(obj);
  if (meta) {
    const names = new Set<string>([...meta.modules.keys(), ...meta.subs.keys()]);
    for (const k of Object.keys(obj)) names.add(k);
    return [...names];
  }
  if (obj && typeof obj === "object") return Object.keys(obj);
  return [];
}

function missing(hub: Hub, parent: unknown, parts: string[], at: number, ref: string): Error {
  const off = parts.slice(0, at + 1).join(".");
  const why = state(hub).disabled.get(off);
  if (why !== undefined) return new DisabledError(`"${off}" is disabled by ${why}; "${ref}" cannot be used`, ref);
  const kind = at === 0 ? "sub" : subMeta(parent) ? "module or sub" : "function";
  // Looking for a suggestion may load modules next to the typo: their failures are recorded, not reported here.
  const suggestion = muted(hub, () => suggest(hub, parts));
  // A sub folder pop may not read hides its modules: say so rather than "no module".
  const pm = subMeta(parent);
  const blocked = pm?.dirs.map((d) => [d, unreadable(d)] as const).find(([, why]) => why);
  if (blocked && !suggestion)
    return new RefError(`no module "${off}": folder ${blocked[0]} of sub "${pm!.ref}" cannot be read (${blocked[1]}); make it readable (chmod a+rx)`, ref);
  const what = kind === "function" && at === parts.length - 1 ? `no function "${ref}"` : `no ${kind} "${off}"${at === parts.length - 1 ? "" : ` in "${ref}"`}`;
  // A folder of that name that discovery left out: say why it is not a sub and how to make it one.
  const folder = at === 0 ? notASub(hub, parts[0]!) : undefined;
  if (folder) return new RefError(`${what}: ${folder}`, ref);
  const msg = suggestion ? `${what}; did you mean "${suggestion}"?` : `${what}; run "pop tree" to list what the hub holds`;
  return new RefError(msg, ref, suggestion);
}

/** Why a folder named `name` in a plugin root (or the working directory) is not a sub, with the fix; undefined when there is none. */
function notASub(hub: Hub, name: string): string | undefined {
  const cwd = process.cwd();
  const shown = (dir: string) => (dir.startsWith(`${cwd}/`) ? `./${relative(cwd, dir)}` : dir);
  const roots = state(hub).roots;
  for (let i = roots.length - 1; i >= 0; i--) {
    const root = roots[i]!;
    const dir = join(root.dir, name);
    if (!isDirectory(dir)) continue;
    const as = [...state(hub).dyne].find(([, dirs]) => dirs.includes(dir))?.[0];
    if (as !== undefined) return `folder ${shown(dir)} is the sub "${as}" (so DYNE names it); use "${as}" in the ref`;
    if (name.startsWith("_") || name.startsWith(".") || RESERVED_DIRS.has(name))
      return `folder ${shown(dir)} is not a sub: folders named ${[...RESERVED_DIRS].join(", ")} or starting with "_" or "." never are; rename it`;
    if (root.conf?.DYNE !== undefined && root.confFile)
      return `folder ${shown(dir)} is not a sub because DYNE in ${shown(root.confFile)} does not list it: add ${name}: ["${name}"] to DYNE there`;
  }
  // The sub's own folder given as the root (--plugins app/calc for calc.math.add): its files are no sub of it.
  const itself = roots.find((r) => basename(r.dir) === name);
  if (itself)
    return `the plugin root ${shown(itself.dir)} (from ${itself.source}) is itself named "${name}", but a root holds subs as folders, so its own files are no sub "${name}": give its parent folder instead (--plugins ${shown(dirname(itself.dir))})`;
  const here = join(cwd, name);
  if (roots.some((r) => r.dir === cwd) || !isDirectory(here)) return undefined;
  return `folder ./${name} is here, but this folder is not a plugin root of the hub: pass --plugins . (or add it to POP_PLUGIN_PATH)`;
}

/** Correct each segment to its closest sibling, walking down (and loading) as we go. */
function suggest(hub: Hub, parts: string[]): string | undefined {
  let cur: any = hub;
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const meta = subMeta(cur);
    if (meta) quietly(() => loadVirtualNamed(hub, meta));
    const names = i === 0 ? [...state(hub).subs.keys()] : childNames(cur);
    const want = parts[i]!;
    const pick = names.includes(want) ? want : closest(want, names);
    if (!pick) return undefined;
    out.push(pick);
    // Reading a module that failed to load throws its error: a suggestion walks past it, it does not report it.
    try {
      cur = cur?.[pick];
    } catch {
      return i === parts.length - 1 ? out.join(".") : undefined;
    }
  }
  const s = out.join(".");
  return s === parts.join(".") ? undefined : s;
}

/** Load, the asynchronous way, the module a ref passes through, so async __virtual__ and __init__ are awaited before a sync walk. */
export async function preloadRef(hub: Hub, ref: string): Promise<void> {
  const parts = ref.split(".");
  let meta = state(hub).subs.get(parts[0] ?? "");
  for (let i = 1; i < parts.length; i++) {
    const key = parts[i]!;
    if (!meta) return;
    const rec = findModule(hub, meta, key);
    if (rec) return loadModule(hub, rec);
    const child = findChild(hub, meta, key);
    // No file or folder of that name: a module's __virtualname__ may be it (what `pop tree` would show), so load the rest.
    if (!child && !Object.hasOwn(meta.object, key)) return mutedAsync(hub, () => loadOnMiss(hub, meta!));
    meta = child;
    const init = meta?.modules.get("init");
    if (init?.loading) await init.loading;
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // a strict hub throws on a failed module; a suggestion must not
  }
}

/** Run `fn` with the hub's warnings held back: a ref that misses may list and load its neighbours, whose failures are recorded (pop tree, failures()) but are not this ref's problem. */
function muted<T>(hub: Hub, fn: () => T): T {
  const st = state(hub);
  const warn = st.warn;
  st.warn = () => {};
  try {
    return fn();
  } finally {
    st.warn = warn;
  }
}

/** `muted` for asynchronous work: the hub's warnings are held back until `fn` settles. */
async function mutedAsync<T>(hub: Hub, fn: () => Promise<T>): Promise<T> {
  const st = state(hub);
  const warn = st.warn;
  st.warn = () => {};
  try {
    return await fn();
  } finally {
    st.warn = warn;
  }
}
