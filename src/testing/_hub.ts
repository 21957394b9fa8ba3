import { basename, resolve } from "../_path.ts";
import { quote, UsageError } from "../errors.ts";
import { putOptions } from "../hub/_meta.ts";
import { closeHub, type Hub, hubRoots, isDirectory, loadHub } from "../hub/index.ts";

/** Options of `testHub`. */
export interface TestHubOptions {
  /** More plugin roots merged after the project (app merging), as `pop app --plugins`. */
  plugins?: string[];
  /**
   * The project's options (`hub.OPT.<project>`): loaded from its CONFIG defaults (and a config file in the project
   * folder), no command line, no environment; the values given here replace loaded ones. `false`: not loaded.
   */
  config?: Record<string, unknown> | false;
  /** A plugin that fails to load throws (default true: a test should not pass on a half-loaded hub). */
  strict?: boolean;
  /** `"eager"` imports every module at once (default `"lazy"`, as `pop app`). */
  load?: "lazy" | "eager";
  /** Environment for discovery (POP_PLUGIN_PATH); default none, so a test sees only the roots it names. */
  env?: Record<string, string | undefined>;
}

/** Where the test runner's preload finds every test hub still open, to close them when the run ends. */
export const TEST_HUBS = Symbol.for("pop.testHubs");
const open = ((globalThis as Record<symbol, unknown>)[TEST_HUBS] ??= new Set<Hub>()) as Set<Hub>;

/**
 * A hub over a project folder, loaded the way `pop app DIR` loads it: the folder's conf.ts (DYNE, CONFIG), its subs
 * (each sub's init runs), then `plugins`. Close it with `closeHub(hub)`; under `pop test` any left open are closed
 * when the run ends.
 * @example
 * const hub = await testHub(import.meta.dir + "/..");
 * expect(await hub.rpc.math.fib({ num: 11 })).toBe(89);
 */
export async function testHub(dir: string, opts: TestHubOptions = {}): Promise<Hub> {
  const root = resolve(dir);
  if (!isDirectory(root)) throw new UsageError(`testHub: project folder "${dir}" is not a folder: pass the folder holding the project's conf.ts`, "pop test");
  const hub = await loadHub({
    named: [{ dir: root, source: "testHub" }],
    plugins: opts.plugins ?? [],
    env: opts.env ?? {},
    strict: opts.strict ?? true,
    load: opts.load ?? "lazy",
  });
  open.add(hub);
  if (opts.config !== false) {
    const project = hubRoots(hub).find((r) => r.dir === root);
    // The config integrator's projectName, without loading the config tool into every plugin's "pop".
    const named = project?.conf?.NAME;
    const name = typeof named === "string" && named !== "" ? named : basename(root);
    const given = Object.keys(opts.config ?? {});
    const CONFIG = project?.conf?.CONFIG as Record<string, unknown> | undefined;
    const confFile = project?.confFile ?? resolve(root, "conf.ts");
    // A mistyped option would leave its default in place and the test testing something else.
    const unknown = given.filter((k) => !CONFIG || !Object.hasOwn(CONFIG, k));
    if (unknown.length > 0) {
      await closeHub(hub);
      open.delete(hub);
      const names = unknown.map(quote).join(", ");
      throw new UsageError(
        CONFIG
          ? `testHub: config names ${names}, which CONFIG in ${confFile} does not have: its options are ${Object.keys(CONFIG).map(quote).join(", ")}`
          : `testHub: config names ${names}, but ${confFile} has no CONFIG: define the option there, or leave config out`,
        "pop test",
        { hint: false },
      );
    }
    if (CONFIG !== undefined) {
      await hub.pop.config.load([name], { argv: [], env: {}, cwd: root, prog: name });
      if (given.length > 0) putOptions(hub, { [name]: Object.freeze({ ...hub.OPT[name], ...opts.config }) });
    }
  }
  return hub;
}

/** Close every hub testHub opened that is still open (the preload of `pop test` runs it after all tests, through a global). */
export async function closeTestHubs(): Promise<void> {
  const hubs = [...open];
  open.clear();
  const results = await Promise.allSettled(hubs.map((h) => closeHub(h)));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

(globalThis as Record<symbol, unknown>)[Symbol.for("pop.closeTestHubs")] = closeTestHubs;
