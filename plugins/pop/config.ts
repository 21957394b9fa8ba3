import type { Hub } from "pop";
import type { LoadOptions, LoadResult } from "../../src/config/index.ts";

// The config integrator is imported on first use only: `pop --version` and `pop call` never load c12 or zod through here.

/** `hub.pop.config.ARGV`: the command line `load` parses for its `cli` project (`pop app` sets it); `hub.pop.config.PROG`: the command shown in help. */
export function __init__(hub: Hub): void {
  hub.pop.config.ARGV = [];
  hub.pop.config.PROG = undefined;
}

/**
 * Load projects' options onto `hub.OPT.<project>` (deeply frozen): defaults < config files < environment < command line.
 * @example
 * await hub.pop.config.load(["poppy"], { cli: "poppy" });
 * hub.OPT.poppy.port; // 8888, or what a file, POPPY_PORT or --port said
 */
export async function load(hub: Hub, projects: string[], opts: LoadOptions = {}): Promise<LoadResult> {
  return (await import("../../src/config/index.ts")).load(hub, projects, opts);
}

/** Where each loaded value came from: `{ poppy: { port: "from --port", addr: "default" } }`. */
export async function explain(hub: Hub): Promise<Record<string, Record<string, string>>> {
  const { loaded, sourceText } = await import("../../src/config/index.ts");
  const out: Record<string, Record<string, string>> = {};
  for (const [project, options] of Object.entries(loaded(hub)?.sources ?? {})) {
    out[project] = Object.fromEntries(Object.entries(options).map(([k, r]) => [k, sourceText(r)]));
  }
  return out;
}

/** The loaded options as text safe to log (`project.option = value`, secrets hidden); with `explain`, each value's source. */
export async function show(hub: Hub, opts: { explain?: boolean } = {}): Promise<string> {
  const { formatText, loaded } = await import("../../src/config/index.ts");
  return formatText(loaded(hub) ?? { sources: {} }, opts.explain === true);
}
