// The hub of pop call's lean path (src/cli/_lean.ts), made when the called function first reaches into the stand-in
// it was given. This file is an entry point of the executable of its own (scripts/build.ts lists it), so the lean
// path can require() it synchronously, inside a property read. It makes the hub the full path (src/cli/call.ts)
// would have made for the same words: the same options, the same root, the same subs, the called module loaded.
import { plainRoot } from "../hub/_discover.ts";
import { createHubOn } from "../hub/_hub.ts";
import { state } from "../hub/_meta.ts";
import { resolveFunction } from "../hub/_ref.ts";
import type { Listing } from "../hub/_scan.ts";
import { addSubMeta, moduleAt } from "../hub/_sub.ts";
import type { Hub } from "../hub/_types.ts";
import { parseCommandArgs } from "./_args.ts";
import { log } from "../output.ts";
import { hubOptions } from "./_hubargs.ts";
import call from "./call.ts";
import { LEAN_ENV } from "./_lean.ts";

/** What the lean path knows: the words, the root and its listing, the ref it called. */
export interface LeanPlan {
  argv: string[];
  dir: string;
  listing: Listing;
  ref: string;
  /** The called module's file, found and imported before the hub existed. */
  file: string;
}

/** Make `target` (the stand-in, its keys made plain undefined values) the hub loadHub, preloadRef and resolveFunction make for pop call. */
export function becomeHub(target: Record<PropertyKey, unknown>, plan: LeanPlan): void {
  const path = "pop call";
  // As pop started: the variables the lean path found unset (a function may set them before it reads the hub).
  const saved = LEAN_ENV.map((name) => [name, process.env[name]] as const);
  for (const name of LEAN_ENV) delete process.env[name];
  let opts: ReturnType<typeof hubOptions>;
  try {
    opts = hubOptions(parseCommandArgs(call, plan.argv.slice(1), path), path);
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
  const root = plainRoot(plan.dir, "--plugins", plan.listing);
  target.OPT = {};
  // Warnings go where call.ts sends them once its ref resolved: straight to the output module.
  const warn = (message: string, fields?: Record<string, unknown>) => log.warn(message, fields);
  const hub = createHubOn(target as unknown as Hub, { ...opts, roots: [root], warn });
  // loadHub's adds. A lazy sub with no init file (the lean path took only such roots) is on the hub when addSubMeta
  // returns: its activation runs nothing, and what is left for the promise is bookkeeping.
  for (const name in root.dyne) {
    void addSubMeta(hub, { dyneName: name, load: "lazy" }, true).catch(() => {});
    if (!state(hub).subs.has(name)) throw new Error(`pop call's lean path: sub "${name}" was not added synchronously`);
  }
  // The called module where the lean path found it (no second probe: a file added since must not clash with it),
  // loaded as the full path loads it (already imported: Bun evaluates a file once).
  const [sub, mod] = plan.ref.split(".") as [string, string];
  moduleAt(hub, state(hub).subs.get(sub)!, mod, plan.file);
  resolveFunction(hub, plan.ref);
}
