import type { Hub, LoadOptions, LoadResult } from "pop";
import { configTool, hubRoots, hubWarn, putOptions, UsageError } from "../../src/hub/_internal.ts";

// The config integrator is imported on first use only: `pop --version` and `pop call` never load c12 or zod through here.
// It knows nothing of the hub: this plugin hands it the hub's roots, its warning channel, and the app's command line.

/** What each hub's loads resolved so far, for `explain` and `show`. */
const LOADED = new WeakMap<Hub, Pick<LoadResult, "opt" | "sources">>();

/** `hub.pop.config.ARGV`: the command line `load` parses for its `cli` project (`pop app` sets it); `hub.pop.config.PROG`: the command shown in help. */
export function __init__(hub: Hub): void {
  hub.pop.config.ARGV = [];
  hub.pop.config.PROG = undefined;
}

/**
 * Load projects' options onto `hub.OPT.<project>` (deeply frozen): defaults < config files < environment < command line.
 * With `--help` (or `--version`) on the command line nothing is set and the result's `help` (or `version`) is the text to print.
 * @example
 * const { help } = await hub.pop.config.load(["poppy"], { cli: "poppy" });
 * hub.OPT.poppy.port; // 8888, or what a file, POPPY_PORT or --port said
 */
export async function load(hub: Hub, projects: string[], opts: LoadOptions = {}): Promise<LoadResult> {
  if (!Array.isArray(projects) || projects.some((p) => typeof p !== "string"))
    throw new UsageError(
      `hub.pop.config.load needs the projects' names, e.g. hub.pop.config.load(["poppy"]); got ${JSON.stringify(projects) ?? String(projects)}`,
      "pop.config.load",
      {
        hint: false,
      },
    );
  const { load } = await configTool();
  const mod = hub.pop.config as { ARGV?: unknown; PROG?: unknown };
  const argv = opts.argv ?? (Array.isArray(mod.ARGV) ? (mod.ARGV as string[]) : []);
  const prog = opts.prog ?? (typeof mod.PROG === "string" ? mod.PROG : undefined);
  const result = await load({ roots: hubRoots(hub), warn: (m) => hubWarn(hub, m) }, projects, { ...opts, argv, ...(prog === undefined ? {} : { prog }) });
  putOptions(hub, result.opt);
  const prev = LOADED.get(hub);
  LOADED.set(hub, { opt: { ...prev?.opt, ...result.opt }, sources: { ...prev?.sources, ...result.sources } });
  return result;
}

/** Where each loaded value came from (a promise): `{ poppy: { port: "from --port", addr: "default" } }`. */
export async function explain(hub: Hub): Promise<Record<string, Record<string, string>>> {
  const { sourceText } = await configTool();
  const out: Record<string, Record<string, string>> = {};
  for (const [project, options] of Object.entries(LOADED.get(hub)?.sources ?? {})) {
    out[project] = Object.fromEntries(Object.entries(options).map(([k, r]) => [k, sourceText(r)]));
  }
  return out;
}

/** The loaded options as text safe to log (a promise): `project.option = value`, secrets hidden; with `explain`, each value's source. */
export async function show(hub: Hub, opts: { explain?: boolean } = {}): Promise<string> {
  const { formatText } = await configTool();
  return formatText(LOADED.get(hub) ?? { sources: {} }, opts.explain === true);
}
