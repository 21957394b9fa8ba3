import type { Hub } from "pop";
import { isModule, loadedModules, RefError, resolveRef } from "../../src/hub/_internal.ts";

/** One module's outcome in `map`. */
export type MapResult = { module: string; ok: true; value: unknown } | { module: string; ok: false; error: unknown };

interface Across {
  /** The sub, by ref: "rpc". */
  sub: string;
  /** The function to call in each module. */
  func: string;
  /** Arguments after the hub. */
  args?: unknown[];
}

/** Driver pattern: the one module named `name` of a sub, e.g. the configured storage backend. */
export function driver(hub: Hub, opts: { sub: string; name: string }): Record<string, any> {
  const ref = `${opts.sub}.${opts.name}`;
  const mod = resolveRef(hub, ref).last;
  if (!isModule(mod)) throw new RefError(`"${ref}" is not a module of sub "${opts.sub}"`, ref);
  return mod as Record<string, any>;
}

/** Dispatch pattern: call `func` in the modules chosen by `names` or `filter`; results by module name. */
export async function dispatch(
  hub: Hub,
  opts: Across & { names?: string[]; filter?: (name: string, mod: Record<string, any>) => boolean },
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const all = await modules(hub, opts.sub);
  const chosen = opts.names ? opts.names.map((n) => all.find(([m]) => m === n) ?? ([n, driver(hub, { sub: opts.sub, name: n })] as const)) : all;
  for (const [name, mod] of chosen) {
    if (opts.filter && !opts.filter(name, mod)) continue;
    const fn = mod[opts.func];
    if (typeof fn !== "function") {
      if (opts.names) throw new RefError(`no function "${opts.sub}.${name}.${opts.func}"`, `${opts.sub}.${name}.${opts.func}`);
      continue;
    }
    out[name] = await fn(...(opts.args ?? []));
  }
  return out;
}

/** Iterator pattern: call `func` in every module of the sub that has it, collecting each result or error; with `stopOnError` the first error throws. */
export async function map(hub: Hub, opts: Across & { stopOnError?: boolean }): Promise<MapResult[]> {
  const out: MapResult[] = [];
  for (const [name, mod] of await modules(hub, opts.sub)) {
    const fn = mod[opts.func];
    if (typeof fn !== "function") continue;
    try {
      out.push({ module: name, ok: true, value: await fn(...(opts.args ?? [])) });
    } catch (error) {
      if (opts.stopOnError) throw error;
      out.push({ module: name, ok: false, error });
    }
  }
  return out;
}

/** The first result that is not undefined, calling `func` module by module in name order. */
export async function first(hub: Hub, opts: Across): Promise<unknown> {
  for (const [, mod] of await modules(hub, opts.sub)) {
    const fn = mod[opts.func];
    if (typeof fn !== "function") continue;
    const v = await fn(...(opts.args ?? []));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The loaded modules of a sub, in name order, loading pending ones first the async way (async __virtual__ and __init__ awaited). */
function modules(hub: Hub, ref: string): Promise<Array<readonly [string, Record<string, any>]>> {
  return loadedModules(hub, ref);
}
