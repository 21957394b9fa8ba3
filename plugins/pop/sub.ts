import type { Hub } from "pop";
import { loadModule } from "../../src/hub/_load.ts";
import { state } from "../../src/hub/_meta.ts";
import { resolveRef } from "../../src/hub/_ref.ts";
import { addSub, findChild, findModule, loadAll, type AddSubOptions } from "../../src/hub/_sub.ts";

/** Add a sub: `await hub.pop.sub.add({ dyneName: "rpc" })` or `{ path: "./rpc", name: "rpc", load: "eager" }`. */
export function add(hub: Hub, opts: AddSubOptions): Promise<Record<string, any>> {
  return addSub(hub, opts);
}

/** Load now, awaiting async `__virtual__` and `__init__`: a module ("rpc.math"), a sub and its sub-subs ("rpc"), or every sub. */
export async function load(hub: Hub, ref?: string): Promise<void> {
  const s = state(hub);
  if (ref === undefined) {
    for (const meta of s.subs.values()) await loadAll(hub, meta, true);
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

/** Names of the subs added to the hub. */
export function list(hub: Hub): string[] {
  return [...state(hub).subs.keys()];
}

/** Every load failure so far, as `{ ref, file, line, reason }`. */
export function failures(hub: Hub): Array<{ ref: string; file: string; line: number | undefined; reason: string }> {
  return state(hub).failures.map((e) => ({ ref: e.ref, file: e.location.file, line: e.location.line, reason: e.reason }));
}
