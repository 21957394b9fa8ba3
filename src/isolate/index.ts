// Isolated subs: a sub whose modules run in a Bun Worker or a child process of this executable, on the hub with the
// same hub.sub.mod.fn(...) API (every call a promise). See docs/isolation.md.
import type { Hub } from "../hub/_types.ts";
import { hubWarn, onHubClose, subNames } from "../hub/index.ts";
import { addPreloadedSub, loadAll, type PreloadedModules, type PreloadedTree } from "../hub/_sub.ts";
import { showApplied, showFolders } from "../hub/_introspect.ts";
import { state, subMeta } from "../hub/_meta.ts";
import type { SubMeta } from "../hub/_types.ts";
import { MAX_TIMER_MS, UsageError } from "../errors.ts";
import { IsolatedSub } from "./_host.ts";
import { fromWire, type SubShape } from "./_protocol.ts";

import { canWatchMemory } from "./_memory.ts";

export { CHILD_COMMAND } from "./_child.ts";
export { canWatchMemory };

/** How an isolated sub runs: in a Bun Worker of this process, or in a child process of this executable. */
export type IsolateMode = "worker" | "process";

/** What the hub (src/hub, from a manifest, a conf or --isolate) hands to isolateSub. */
export interface IsolateOptions {
  mode: IsolateMode;
  /** The sub's folders on this machine (every plugin root's folder for it, in merge order). */
  folders: string[];
  /** Per-call timeout in milliseconds (--timeout); a call still running then fails with a TimeoutError naming the ref. */
  timeout?: number;
  /** process mode: the only environment variables the child may see (names). Undefined means none at all, PATH and HOME included. */
  env?: string[];
  /** process mode: memory limit in MiB (resident size, watched by the host; Linux). */
  memory?: number;
  /** Where the options came from, for error messages: "--isolate rpc=worker", "plugins/pop.json", ... */
  source: string;
  /**
   * A failed init.ts of the sub is that module's load failure, reported when it is reached, and the sub's other
   * modules serve, as loading a hub does (default, unless the hub is strict); false: the start fails with it, as an
   * atomic hub.pop.sub.add does in-process.
   */
  tolerant?: boolean;
}

/**
 * Put sub `name` on the hub as an isolated sub: its modules load in a worker or child process (contracts applied
 * there), and the hub gets module objects with the same functions, each returning a promise of the call's result.
 * Resolves once the side has loaded the sub; closing the hub shuts its modules down there and ends it.
 * @example
 * await isolateSub(hub, "calc", { mode: "process", folders: ["plugins/calc"], timeout: 5000, env: ["PATH"], source: "--isolate calc=process" });
 * await hub.calc.math.add(1, 2); // 3
 */
export async function isolateSub(hub: Hub, name: string, opts: IsolateOptions): Promise<void> {
  check(hub, name, opts);
  const iso = new IsolatedSub(hub, name, opts);
  let tree = await iso.start();
  const on = `isolated ${opts.mode}`;
  annotate(addPreloadedSub(hub, name, standIns(hub, iso, name, tree), subsOf(hub, iso, name, tree)), tree, on);
  onHubClose(hub, () => iso.close("the hub is closed"));
  // --watch: a change to the sub's files starts a fresh side (the old one finishes its calls in flight, then shuts
  // down). Stand-ins call whichever side is current, so only when modules, functions or values came or went does the
  // hub get new ones: the sub is put back with them, and the superseded stand-ins' __shutdown__ no longer closes the side.
  (state(hub).placedReload ??= new Map()).set(name, {
    folders: opts.folders,
    async reload() {
      if (!state(hub).subs.has(name)) return false; // taken off the hub (hub.pop.sub.remove): its side is closed
      // A module the old side loaded that fails on the new one is a failed reload: the old side keeps serving it.
      const fresh = await iso.restart((shape) => newFailure(tree, shape));
      if (JSON.stringify(fresh) === JSON.stringify(tree)) return true;
      tree = fresh;
      iso.generation++;
      const meta = addPreloadedSub(hub, name, standIns(hub, iso, name, fresh), subsOf(hub, iso, name, fresh));
      annotate(meta, fresh, on);
      // Installed now (stand-ins run no plugin code): what lists the loaded modules (pop serve's refs) sees the new ones.
      await loadAll(hub, meta, true);
      return true;
    },
  });
}

/** The first module that failed to load in `now` but not in `before` (each sub-sub's too), as its error; undefined when none did. */
function newFailure(before: SubShape | undefined, now: SubShape): unknown {
  for (const [mod, m] of Object.entries(now.modules)) if (m.error && !before?.modules[mod]?.error) return fromWire(m.error);
  for (const [child, sub] of Object.entries(now.subs)) {
    const e = newFailure(before?.subs[child], sub);
    if (e !== undefined) return e;
  }
  return undefined;
}

/** The host's stand-ins for one (sub-)sub's modules: each function a call of its ref on the side, public values copied. */
function standIns(hub: Hub, iso: IsolatedSub, ref: string, shape: SubShape): PreloadedModules {
  const modules: PreloadedModules = {};
  for (const [mod, m] of Object.entries(shape.modules)) {
    const exports: Record<string, unknown> = { ...m.values };
    // A module that failed to load there fails here with the same error, when it is first reached.
    const failed = m.error && fromWire(m.error);
    // A failed init.ts (tolerated) is said at once, as loading the sub in-process says it: it is never reached later.
    if (failed && mod === "init") hubWarn(hub, failed instanceof Error ? failed.message : String(failed));
    if (failed)
      exports.__init__ = () => {
        throw failed;
      };
    for (const fn of m.functions) {
      const fnRef = `${ref}.${mod}.${fn}`;
      exports[fn] = (_hub: Hub, ...args: unknown[]) => iso.call(fnRef, args);
    }
    // Taking the sub off the hub (hub.pop.sub.remove) shuts its first loaded module down: that closes the side. Taking
    // only a sub-sub off (rpc.admin) takes its stand-ins off this hub and leaves the side serving the rest.
    if (ref === iso.name) {
      const generation = iso.generation;
      exports.__shutdown__ = () => (generation === iso.generation ? iso.close(`sub "${iso.name}" was removed from the hub`) : undefined);
    }
    modules[mod] = { file: m.file, exports };
  }
  return modules;
}

/** The side's sub-subs (`calc/admin/` as `hub.calc.admin`), nested, with stand-ins for their modules. */
function subsOf(hub: Hub, iso: IsolatedSub, ref: string, shape: SubShape): Record<string, PreloadedTree> {
  const out: Record<string, PreloadedTree> = {};
  for (const [child, sub] of Object.entries(shape.subs)) {
    const childRef = `${ref}.${child}`;
    out[child] = { modules: standIns(hub, iso, childRef, sub), subs: subsOf(hub, iso, childRef, sub) };
  }
  return out;
}

/** Tell `pop tree` the side's folders and the contracts it applies, for the sub and each sub-sub. */
function annotate(meta: SubMeta, shape: SubShape, on: string): void {
  showFolders(meta, shape.dirs);
  for (const [mod, m] of Object.entries(shape.modules)) {
    const rec = meta.modules.get(mod);
    if (rec && m.contracts) showApplied(rec, m.contracts, m.fnContracts ?? {}, on);
  }
  for (const [child, sub] of Object.entries(shape.subs)) {
    const c = subMeta(meta.subs.get(child));
    if (c) annotate(c, sub, on);
  }
}

function check(hub: Hub, name: string, opts: IsolateOptions): void {
  const bad = (why: string) => new UsageError(`cannot isolate sub "${name}" (${opts.source}): ${why}`, opts.source, { hint: false });
  if (opts.mode !== "worker" && opts.mode !== "process") throw bad(`mode must be "worker" or "process", got ${JSON.stringify(opts.mode)}`);
  if (!Array.isArray(opts.folders) || opts.folders.length === 0) throw bad("no folder holds it; add its plugin root with --plugins DIR");
  if (subNames(hub).includes(name)) throw bad("a sub of that name is already on the hub");
  if (opts.timeout !== undefined && !(Number.isFinite(opts.timeout) && opts.timeout >= 0))
    throw bad(`timeout must be a number of ms, got ${JSON.stringify(opts.timeout)}`);
  if (opts.timeout !== undefined && opts.timeout > MAX_TIMER_MS)
    throw bad(`timeout must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer), got ${opts.timeout}`);
  if (opts.mode === "worker" && (opts.env !== undefined || opts.memory !== undefined))
    throw bad('env and memory limits need mode "process": a worker shares this process\'s environment and memory');
  if (opts.memory !== undefined && !(Number.isInteger(opts.memory) && opts.memory > 0))
    throw bad(`memory must be a whole number of MiB, got ${JSON.stringify(opts.memory)}`);
  if (opts.memory !== undefined && !canWatchMemory())
    hubWarn(
      hub,
      `sub "${name}" (${opts.source}): its memory limit of ${opts.memory} MiB cannot be enforced here (it needs Linux's /proc); it runs without one`,
    );
}
