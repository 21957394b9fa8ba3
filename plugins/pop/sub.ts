import type { Hub } from "pop";
import { addSub, type AddSubOptions, failureList, iterRef, loadRef, reloadRef, removeSub, subList } from "../../src/hub/_internal.ts";

/** Add a sub: `await hub.pop.sub.add({ dyneName: "rpc" })`, `{ path: "./rpc", name: "rpc", load: "eager" }`, or nested: `{ path: "./extra", sub: hub.rpc }`. */
export function add(hub: Hub, opts: AddSubOptions): Promise<Record<string, any>> {
  return addSub(hub, opts);
}

/** Load now, awaiting async `__virtual__` and `__init__`: a module ("rpc.math"), a sub and its sub-subs ("rpc"), or every sub. */
export function load(hub: Hub, ref?: string): Promise<void> {
  return loadRef(hub, ref);
}

/** Load every module of a sub and its sub-subs (POP's `load_all`); `hub.pop.sub.loadAll("rpc")`. */
export function loadAll(hub: Hub, ref: string): Promise<void> {
  return loadRef(hub, ref);
}

/** Take a sub (or a sub-sub: "rpc.admin") off the hub: its modules' `__shutdown__` run first, in reverse load order. */
export function remove(hub: Hub, ref: string): Promise<void> {
  return removeSub(hub, ref);
}

/** Reload a module from its file: the old one is shut down and the new one swapped in; if the new one fails to load, the old one keeps serving. */
export function reload(hub: Hub, ref: string): Promise<Record<string, unknown>> {
  return reloadRef(hub, ref);
}

/** What is below a ref without loading it: the subs (no ref), or a sub's modules (with their state) and sub-subs. */
export function iter(hub: Hub, ref?: string): Array<{ name: string; ref: string; kind: "sub" | "module"; state?: string; file?: string }> {
  return iterRef(hub, ref);
}

/** Names of the subs added to the hub. */
export function list(hub: Hub): string[] {
  return subList(hub);
}

/** Every load failure so far, as `{ ref, file, line, reason }`. */
export function failures(hub: Hub): Array<{ ref: string; file: string; line: number | undefined; reason: string }> {
  return failureList(hub);
}
