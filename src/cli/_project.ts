import { resolve } from "../_path.ts";
import { projectName } from "../config/index.ts";
import { createHub, discoverRoots, DiscoveryError, type Hub, isDirectory, type PluginRoot } from "../hub/index.ts";
import { log } from "../output.ts";
import { UsageError } from "./_args.ts";
import { hubOptions } from "./_hubargs.ts";

/** A project folder opened the way `pop app` and `pop config` do: its root first, then the `--plugins` roots merged onto the same hub. */
export interface OpenProject {
  hub: Hub;
  name: string;
  root: PluginRoot;
  /** Every project on the hub, the opened one first. */
  projects: string[];
}

/**
 * Create a hub over DIR and the roots the hub options name, the way every hub command does: DIR is a named root
 * (source `path`), so its own package.json brings its packages and the working directory's never join; --plugins,
 * POP_PLUGIN_PATH, --disable, POP_DISABLE, --strict (and whatever else `hubOptions` reads) mean what they mean for
 * `pop call`. A missing folder or a bad DYNE is a usage error.
 */
export async function openProject(dirArg: string, args: Record<string, any>, path: string, needsConf = false): Promise<OpenProject> {
  const dir = resolve(dirArg);
  if (!isDirectory(dir))
    throw new UsageError(`project folder "${dirArg}" is not a folder: pass the folder holding the project's conf.ts, e.g. examples/poppy`, path);
  const opts = hubOptions(args, path);
  let roots: PluginRoot[];
  try {
    roots = await discoverRoots({ ...opts, named: [{ dir, source: path }], warn: (m, f) => log.warn(m, f) });
  } catch (e) {
    if (e instanceof DiscoveryError) throw new UsageError(e.message, path, { cause: e, hint: false });
    throw e;
  }
  const root = roots.find((r) => r.dir === dir)!;
  // pop config reads a project's options from its conf file: a folder without one has none, which is said, as it may
  // be a mistake (a project's parent folder, a typo).
  if (needsConf && !root.confFile)
    log.warn(
      `project folder "${dirArg}" has no conf.ts (nor conf.mts, conf.js, conf.mjs), so it defines no options; is it the folder holding the project's conf.ts?`,
    );
  const hub = createHub({ ...opts, roots });
  if (opts.trace || opts.audit) (await import("../observe/index.ts")).observeHub(hub, opts);
  const name = projectName(root);
  return { hub, name, root, projects: [...new Set([name, ...roots.map(projectName)])] };
}
