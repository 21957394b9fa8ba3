import type { OptionValue } from "../config/_types.ts";

// The types `pop types` writes its declarations with (exported from "pop"): they map a plugin file's own type
// (`typeof import("./rpc/math.ts")`) to what the hub shows, so the declarations never go stale as the plugins change.

/** A plugin function as the hub calls it: the hub parameter dropped. Anything else (values, classes) as it is. */
export type HubFunction<F> = F extends (hub: any, ...args: infer A) => infer R ? (...args: A) => R : F;

/** The name an export has on the hub: its `__func_alias__` target, or none for `default` and names starting with `_`. */
export type HubName<K, Alias> = K extends keyof Alias ? Alias[K] : K extends "default" | `_${string}` ? never : K;

/**
 * A plugin module on the hub, from the type of its file and its `__func_alias__`. A file tsc cannot find (a module
 * renamed or removed since `pop types` ran) makes its type `any`, and under `skipLibCheck` nothing says so: such a
 * module is `ModuleFileMissing_RunPopTypesAgain` instead, so every use of it is an error naming the fix. `Typed`
 * false (a JavaScript plugin, `any` unless allowJs types it) keeps `any` as it is.
 * @example
 * type Math = PluginModule<typeof import("../rpc/math.ts"), { del_: "delete" }>;
 */
export type PluginModule<M, Alias extends Record<string, string> = {}, Typed extends boolean = true> = string extends keyof M // any, or an unresolved file's error type
  ? Typed extends true
    ? ModuleFileMissing_RunPopTypesAgain
    : any
  : { [K in keyof M as K extends string ? HubName<K, Alias> & string : never]: HubFunction<M[K]> };

/**
 * What `hub.d.ts` types a module whose file no longer exists as: no members, so `hub.calc.stats.mean()` fails with
 * "Property 'mean' does not exist on type 'ModuleFileMissing_RunPopTypesAgain'". Run `pop types` (or `pop test`).
 */
export interface ModuleFileMissing_RunPopTypesAgain {
  /** Never present: only names the fix in tsc's messages. */
  readonly "the module's file is gone: run pop types again"?: never;
}

/** A sub's own state (`hub.shop.ITEMS = …`): upper-case names, so a mistyped module name is still an error. */
export type SubState = { [state: Uppercase<string>]: any };

/** A project's resolved options (`hub.OPT.<project>`), from the type of its conf.ts's CONFIG. */
export type ProjectOptions<C> = C extends { CONFIG: infer O }
  ? { readonly [K in keyof O]: O[K] extends { default: {} } ? OptionValue<O[K]> : OptionValue<O[K]> | undefined }
  : Record<string, unknown>;
