// Isolated subs: a sub whose modules run in a Bun Worker or a child process of this executable, on the hub with the
// same hub.sub.mod.fn(...) API (every call a promise). See docs/isolation.md.
import type { Hub } from "../hub/_types.ts";
import { hubWarn, onHubClose, subNames } from "../hub/index.ts";
import { addPreloadedSub } from "../hub/_sub.ts";
import { UsageError } from "../errors.ts";
import { IsolatedSub } from "./_host.ts";
import { fromWire } from "./_protocol.ts";

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
  const shapes = await iso.start();
  const modules: Record<string, { file: string; exports: Record<string, unknown> }> = {};
  for (const [mod, shape] of Object.entries(shapes)) {
    const exports: Record<string, unknown> = { ...shape.values };
    // A module that failed to load there fails here with the same error, when it is first reached.
    const failed = shape.error && fromWire(shape.error);
    // A failed init.ts (tolerated) is said at once, as loading the sub in-process says it: it is never reached later.
    if (failed && mod === "init") hubWarn(hub, failed instanceof Error ? failed.message : String(failed));
    if (failed)
      exports.__init__ = () => {
        throw failed;
      };
    for (const fn of shape.functions) {
      const ref = `${name}.${mod}.${fn}`;
      exports[fn] = (_hub: Hub, ...args: unknown[]) => iso.call(ref, args);
    }
    // Taking the sub off the hub (hub.pop.sub.remove) shuts its first loaded module down: that closes the side.
    exports.__shutdown__ = () => iso.close(`sub "${name}" was removed from the hub`);
    modules[mod] = { file: shape.file, exports };
  }
  addPreloadedSub(hub, name, modules);
  onHubClose(hub, () => iso.close("the hub is closed"));
}

/** The longest timer setTimeout can set (2^31 - 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

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
