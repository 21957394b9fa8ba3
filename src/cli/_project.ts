import { resolve } from "../_path.ts";
import { projectName } from "../config/index.ts";
import { createHub, discoverRoots, DiscoveryError, type Hub, isDirectory, type PluginRoot, readRoot } from "../hub/index.ts";
import { UsageError } from "./_args.ts";

/** A project folder opened the way `pop app` and `pop config` do: its root first, then the `--plugins` roots merged onto the same hub. */
export interface OpenProject {
  hub: Hub;
  name: string;
  root: PluginRoot;
  /** Every project on the hub, the opened one first. */
  projects: string[];
}

/** Read DIR's conf.ts and create a hub over it (and over `plugins`); a missing folder or a bad DYNE is a usage error. */
export async function openProject(dirArg: string, plugins: string[], path: string): Promise<OpenProject> {
  const dir = resolve(dirArg);
  if (!isDirectory(dir)) throw new UsageError(`project folder "${dirArg}" is not a folder: pass the folder holding the project's conf.ts, e.g. examples/poppy`, path);
  let roots: PluginRoot[];
  try {
    const root = await readRoot(dir, path);
    roots = [root, ...(await discoverRoots({ plugins })).filter((r) => r.dir !== dir)];
  } catch (e) {
    if (e instanceof DiscoveryError) throw new UsageError(e.message, path, { cause: e, hint: false });
    throw e;
  }
  const hub = createHub({ roots });
  const names = roots.map(projectName);
  return { hub, name: names[0]!, root: roots[0]!, projects: [...new Set(names)] };
}


