// The one internal module the built-in plugins (plugins/pop, plugins/create, plugins/service) may import besides
// "pop" itself: plugins/pop and plugins/create take only types from "pop" (they are bundled into start-up paths that
// must not load zod), plugins/service also its values (it loads zod anyway). Everything here
// works on the hub a plugin function receives; no built-in reads the hub's hidden state any other way. The public
// functions a user's plugin imports from "pop" (hubRoots, hubWarn, RefError, ...) are re-exported here for the
// built-ins, which are bundled into pop's start-up: importing "pop" itself would load zod on every `pop call`.
// It is not public API (its names may change).
import { RefError, UsageError } from "../errors.ts";
import type { PluginRoot } from "./_discover.ts";
import { putOptions, state, subMeta } from "./_meta.ts";
import { loadModule, moduleObject, nextGeneration, reloadModule } from "./_module.ts";
import { resolveRef } from "./_ref.ts";
import { addSub, findChild, findModule, loadAll, removeSub, scanModules } from "./_sub.ts";
import type { Hub, ModuleRecord, SubMeta } from "./_types.ts";

/** The config integrator, imported on first use (`pop call` never loads c12 or zod): what hub.pop.config runs. */
export function configTool(): Promise<typeof import("../config/index.ts")> {
  return import("../config/index.ts");
}

export { addMonitor, type CallEnd, type CallStart, type Monitor } from "./_trace.ts";
export { addSub, putOptions, RefError, removeSub, resolveRef, UsageError };
export { shellWord } from "../errors.ts";

/** The hub's plugin roots (the public `hubRoots` of "pop"). */
export function hubRoots(hub: Hub): PluginRoot[] {
  return state(hub).roots;
}

/** Warn the way the hub does (the public `hubWarn` of "pop"). */
export function hubWarn(hub: Hub, message: string): void {
  state(hub).warn(message);
}
export type { AddSubOptions } from "./_sub.ts";

/** The sub a ref names, or a RefError saying what it is instead. */
function subAt(hub: Hub, ref: string): SubMeta {
  const meta = subMeta(resolveRef(hub, ref).last);
  if (!meta) throw new RefError(`"${ref}" is not a sub`, ref);
  return meta;
}

/** Load now, awaiting async `__virtual__` and `__init__`: a module ("rpc.math"), a sub and its sub-subs ("rpc"), or every sub. */
export async function loadRef(hub: Hub, ref?: string): Promise<void> {
  const s = state(hub);
  if (ref === undefined) {
    for (const meta of [...s.subs.values()]) await loadAll(hub, meta, true);
    return;
  }
  const parts = ref.split(".");
  let meta = s.subs.get(parts[0]!);
  for (let i = 1; meta && i < parts.length; i++) {
    const rec = findModule(hub, meta, parts[i]!);
    if (rec && i === parts.length - 1) return loadModule(hub, rec);
    meta = findChild(hub, meta, parts[i]!);
  }
  if (meta) return loadAll(hub, meta, true);
  resolveRef(hub, ref);
}

/** Reload module `ref` from its file (the old one keeps serving if the new one fails); resolves to the new module object. */
export async function reloadRef(hub: Hub, ref: string): Promise<Record<string, unknown>> {
  const parts = ref.split(".");
  let meta = state(hub).subs.get(parts[0]!);
  for (let i = 1; meta && i < parts.length - 1; i++) meta = findChild(hub, meta, parts[i]!);
  const rec = meta && parts.length > 1 ? findModule(hub, meta, parts.at(-1)!) : undefined;
  if (!rec) throw new RefError(`no module "${ref}" to reload; name a module, e.g. "rpc.math"`, ref);
  if (rec.state === "pending") {
    await loadModule(hub, rec);
    return moduleObject(hub, rec) ?? {};
  }
  if (rec.state !== "loaded" && rec.state !== "failed" && rec.state !== "shutdown")
    throw new UsageError(`module "${ref}" is ${rec.state} (${rec.reason ?? ""}); only a loaded or failed module can be reloaded`, "hub.pop.sub.reload", {
      hint: false,
    });
  const fresh = rec.state === "loaded" ? await reloadModule(hub, rec) : await retry(hub, rec);
  return moduleObject(hub, fresh) ?? {};
}

/** A module that failed (or was shut down) loads again from a fresh copy of its file. */
async function retry(hub: Hub, rec: ModuleRecord): Promise<ModuleRecord> {
  const fresh = nextGeneration(rec);
  rec.sub.modules.set(rec.name, fresh);
  rec.sub.files.set(rec.file, fresh);
  await loadModule(hub, fresh);
  if (fresh.state !== "loaded") throw fresh.error ?? new RefError(`module "${rec.ref}" did not load: ${fresh.reason}`, rec.ref);
  return fresh;
}

/** What is below a ref, loaded or not: the hub's subs (no ref), or a sub's modules and sub-subs. Nothing is imported. */
export function iterRef(hub: Hub, ref?: string): Array<{ name: string; ref: string; kind: "sub" | "module"; state?: string; file?: string }> {
  if (ref === undefined) return [...state(hub).subs.values()].map((m) => ({ name: m.name, ref: m.ref, kind: "sub" as const }));
  const meta = subAt(hub, ref);
  scanModules(hub, meta);
  const mods = [...meta.modules.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((r) => ({ name: r.name, ref: r.ref, kind: "module" as const, state: r.state, file: r.file }));
  const subs = [...meta.subs.values()].map((o) => subMeta(o)!).map((m) => ({ name: m.name, ref: m.ref, kind: "sub" as const }));
  return [...mods, ...subs];
}

/** The loaded modules of a sub, in name order (init left out), loading pending ones first the async way. */
export async function loadedModules(hub: Hub, ref: string): Promise<Array<readonly [string, Record<string, any>]>> {
  const meta = subAt(hub, ref);
  await loadAll(hub, meta, false);
  return [...meta.modules.values()]
    .filter((r) => r.state === "loaded" && r.name !== "init")
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((r) => [r.name, moduleObject(hub, r) as Record<string, any>] as const);
}

/** Whether `value` is a module object on the hub. */
export function isModule(value: unknown): boolean {
  return value !== null && typeof value === "object" && Symbol.for("pop.module") in value;
}

/** Names of the subs added to the hub. */
export function subList(hub: Hub): string[] {
  return [...state(hub).subs.keys()];
}

/** Every load failure so far, as `{ ref, file, line, reason }`. */
export function failureList(hub: Hub): Array<{ ref: string; file: string; line: number | undefined; reason: string }> {
  return state(hub).failures.map((e) => ({ ref: e.ref, file: e.location.file, line: e.location.line, reason: e.reason }));
}
