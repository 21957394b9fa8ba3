import type { Hub, HubState, SubMeta, SubObject } from "./_types.ts";

/** Symbol under which a sub object keeps its SubMeta. */
export const SUB = Symbol.for("pop.sub");
/** Symbol under which the hub keeps its HubState. */
export const STATE = Symbol.for("pop.hub");
/** Symbol under which a module object keeps its ModuleRecord. */
export const MOD = Symbol.for("pop.module");

/** The hub's private state. */
export function state(hub: Hub): HubState {
  return (hub as any)[STATE] as HubState;
}

/** A sub object's meta, or undefined when `obj` is not a sub. */
export function subMeta(obj: unknown): SubMeta | undefined {
  return obj !== null && typeof obj === "object" ? ((obj as any)[SUB] as SubMeta | undefined) : undefined;
}

/** Attach a hidden, non-enumerable value. */
export function hide(obj: object, key: symbol, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: false, writable: true, configurable: true });
}

/** Set an enumerable property that later code may replace. */
export function put(obj: SubObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Put each project's frozen options on `hub.OPT.<project>`, read-only there: assigning to `hub.OPT.shop` throws a
 * TypeError, as assigning inside it does; only pop (a config load, an isolated side told of the host's) replaces it.
 */
export function putOptions(hub: Hub, opts: Record<string, unknown>): void {
  for (const name of Object.keys(opts)) Object.defineProperty(hub.OPT, name, { value: opts[name], enumerable: true, writable: false, configurable: true });
}
