import { isDirectory, isFile, readText } from "../_fs.ts";
import { dirname, join, resolve } from "../_path.ts";
import { DiscoveryError } from "../errors.ts";
import { closest } from "../_suggest.ts";
import { describeThrow, formatLocation } from "./_errors.ts";
import {
  checkEngine,
  pluginRootsNamed,
  type IsolateSpec,
  type Manifest,
  type PackageJson,
  placeIsolated,
  placeRemote,
  readManifest,
  type RemoteSpec,
} from "./_manifest.ts";
import { registerPopModule } from "./_popmodule.ts";
import { CONF_FILES, type Listing, listNames } from "./_scan.ts";

export { DiscoveryError };

/** A plugin root: a folder whose sub-folders are subs, or whose conf.ts DYNE says where they are. */
export interface PluginRoot {
  dir: string;
  /** How it was found: "--plugins", "POP_PLUGIN_PATH", "package foo", ... */
  source: string;
  /** Sub name -> absolute folders. */
  dyne: Record<string, string[]>;
  /** Refs its conf.ts DISABLE lists. */
  disable: string[];
  /** The root's conf.ts exports, when it has one. */
  conf: Record<string, unknown> | undefined;
  confFile: string | undefined;
  /** Its manifest (pop.json, or the "pop" field of its package.json): name, version, engines.pop. */
  manifest?: Manifest | undefined;
  /** Subs it asks to run isolated (manifest `isolate`, conf.ts ISOLATE). */
  isolate?: Record<string, IsolateSpec>;
  /** Subs it says are served elsewhere (manifest `remote`, conf.ts REMOTE). */
  remote?: Record<string, RemoteSpec>;
}

/** Where to look for plugin roots. */
export interface DiscoverOptions {
  /** `--plugins DIR` values, in order. */
  plugins?: string[];
  /** Environment to read POP_PLUGIN_PATH from. */
  env?: Record<string, string | undefined>;
  /** Roots named some other way, first of all (`pop app DIR`: the project folder, source "pop app"). */
  named?: Array<{ dir: string; source: string }>;
  /**
   * The working directory: its package.json dependencies with a "pop" field are plugin roots, but only when no
   * root is named (by `named`, POP_PLUGIN_PATH or --plugins). Named roots bring their own packages instead.
   */
  cwd?: string;
  /** Discover packages at all (default true; `--no-packages` turns it off). */
  packages?: boolean;
  warn?: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * Find plugin roots. Named roots, in order: `named`, then POP_PLUGIN_PATH, then --plugins (later roots may override
 * earlier modules). Each named root brings the packages its own package.json lists (a dependency whose package.json
 * has a "pop" field), just before itself. Only when nothing is named does the working directory's package.json
 * say which packages join. A folder's packages never join a hub that named other roots.
 */
export async function discoverRoots(opts: DiscoverOptions): Promise<PluginRoot[]> {
  const warn = opts.warn ?? (() => {});
  const named: Array<{ dir: string; source: string }> = [...(opts.named ?? [])];
  // A named root is listed once, here: the listing says it is a folder, whether it has a package.json, and what
  // readRoot needs (no separate probes on start-up's path).
  const listings = new Map<string, Listing>();
  const listed = (dir: string): Listing | undefined => {
    const l = listNames(dir, true); // a plugin root: its sub folders, a few files
    if (l.missing || l.unreadable === "not a folder") return undefined;
    listings.set(dir, l);
    return l;
  };
  const envPath = opts.env?.POP_PLUGIN_PATH;
  if (envPath) named.push(...envRoots(envPath, listed, warn));
  for (const p of opts.plugins ?? []) {
    const dir = resolve(p);
    if (!listed(dir)) throw notAFolder(p, dir);
    named.push({ dir, source: "--plugins" });
  }
  const packages = opts.packages ?? true;
  const found: Array<{ dir: string; source: string; pkg?: PackageJson }> = [];
  if (named.length === 0) {
    if (packages && opts.cwd) found.push(...(await packageRoots(opts.cwd, warn)));
  } else {
    for (const n of named) {
      const names = listings.get(n.dir)?.names;
      if (packages && (!names || names.includes("package.json"))) found.push(...(await packageRoots(n.dir, warn)));
      found.push(n);
    }
  }
  const seen = new Set<string>();
  const roots: PluginRoot[] = [];
  for (const f of found) {
    if (seen.has(f.dir)) continue;
    seen.add(f.dir);
    const root = await readRoot(f.dir, f.source, f.pkg, listings.get(f.dir));
    if (root.conf) confTypos(root, warn);
    roots.push(root);
  }
  return roots;
}

/** What pop reads from a root's conf.ts (discovery: DYNE, DISABLE, ISOLATE, REMOTE; the config integrator: the rest). */
const CONF_EXPORTS = ["NAME", "VERSION", "CONFIG", "CLI_CONFIG", "SUBCOMMANDS", "DYNE", "DISABLE", "ISOLATE", "REMOTE"];

/** A conf.ts export a letter or two from one pop reads (CLI_CONFG, SUBCOMMAND) is a typo pop would otherwise ignore in silence. */
function confTypos(root: PluginRoot, warn: (m: string) => void): void {
  for (const key of Object.keys(root.conf!)) {
    if (CONF_EXPORTS.includes(key) || !/^[A-Z][A-Z0-9_]*$/.test(key)) continue;
    const near = closest(key, CONF_EXPORTS);
    if (near) warn(`${root.confFile}: export "${key}" is not one pop reads, so it does nothing; did you mean "${near}"?`);
  }
}

/** POP_PLUGIN_PATH's folders (what is not a folder is skipped, with a warning). */
function envRoots(envPath: string, listed: (dir: string) => Listing | undefined, warn: (m: string) => void): Array<{ dir: string; source: string }> {
  const out: Array<{ dir: string; source: string }> = [];
  for (const p of envPath.split(":").filter(Boolean)) {
    const dir = resolve(p);
    if (listed(dir)) out.push({ dir, source: "POP_PLUGIN_PATH" });
    else warn(`POP_PLUGIN_PATH entry "${p}" is not a folder; skipped`);
  }
  return out;
}

function notAFolder(p: string, dir: string): DiscoveryError {
  const what = isFile(dir) ? "is a file, not a folder" : "does not exist";
  return new DiscoveryError(`plugin root "${p}" (from --plugins) ${what}: pass a folder whose sub-folders are subs`);
}

/**
 * Read one root: its manifest (checked against this pop's version before any of its code runs), then its conf.ts
 * (DYNE, DISABLE, ISOLATE, REMOTE) if any, else its sub-folders. `pkg`: the package.json of the package that
 * brought it.
 */
export async function readRoot(dir: string, source: string, pkg?: PackageJson, listing: Listing = listNames(dir)): Promise<PluginRoot> {
  registerPopModule(); // a conf.ts may import from "pop" too
  // `listing`: one read of the root (made by discoverRoots, or here): its manifest, its conf file and its sub folders.
  if (listing.unreadable) throw new DiscoveryError(`plugin root ${dir} (from ${source}) cannot be read (${listing.unreadable}): make it readable (chmod a+rx)`);
  // Most roots have no manifest: no await for them on start-up's path.
  const manifest =
    pkg || listing.names.includes("pop.json") || listing.names.includes("package.json") ? await readManifest(dir, listing.names, pkg) : undefined;
  if (manifest) checkEngine(dir, source, manifest);
  let confName: string | undefined;
  for (const f of CONF_FILES)
    if (listing.names.includes(f)) {
      confName = f;
      break;
    }
  // The common root: sub folders only (the rest, for a conf.ts or a manifest, in withConf).
  if (!confName && !manifest) return plainRoot(dir, source, listing);
  return withConf(dir, source, listing, manifest, confName ? join(dir, confName) : undefined);
}

/** A root with no manifest and no conf file (its listing has neither): each sub folder a sub. pop call's lean path builds its hub's root with it too. */
export function plainRoot(dir: string, source: string, listing: Listing): PluginRoot {
  const dyne: Record<string, string[]> = {};
  for (const d of listing.dirs) dyne[d.name] = [d.dir];
  return { dir, source, dyne, disable: [], conf: undefined, confFile: undefined };
}

/** conf.ts files pop itself edited since it imported them (pop create adds to DYNE), and how often. */
const confEdits = new Map<string, number>();

/** Say that pop rewrote `file` (a root's conf.ts): the next read of that root imports it afresh, not the cached module. */
export function confEdited(file: string): void {
  confEdits.set(file, (confEdits.get(file) ?? 0) + 1);
}

/** readRoot for a root with a conf.ts (DYNE, DISABLE, ISOLATE, REMOTE) or a manifest. */
async function withConf(dir: string, source: string, listing: Listing, manifest: Manifest | undefined, confFile: string | undefined): Promise<PluginRoot> {
  let conf: Record<string, unknown> | undefined;
  if (confFile) {
    try {
      const edits = confEdits.get(confFile);
      conf = (await import(edits ? `${confFile}?pop-conf=${edits}` : confFile)) as Record<string, unknown>;
    } catch (err) {
      const { reason, location } = describeThrow(err, confFile);
      throw new DiscoveryError(`${formatLocation(location)}: cannot load the plugin root's conf: ${reason}`, { cause: err });
    }
  }
  const dyne: Record<string, string[]> = {};
  const declared = conf?.DYNE;
  if (declared !== undefined) {
    if (!declared || typeof declared !== "object" || Object.values(declared).some((v) => !Array.isArray(v) || v.some((x) => typeof x !== "string"))) {
      throw new DiscoveryError(`${confFile}: DYNE must map sub names to arrays of folders, e.g. { rpc: ["rpc"] }`);
    }
    for (const [name, dirs] of Object.entries(declared as Record<string, string[]>)) dyne[name] = dirs.map((d) => resolve(dir, d));
  } else {
    for (const d of listing.dirs) dyne[d.name] = [d.dir];
  }
  const disable = conf?.DISABLE;
  if (disable !== undefined && (!Array.isArray(disable) || disable.some((x) => typeof x !== "string"))) {
    throw new DiscoveryError(`${confFile}: DISABLE must be an array of refs, e.g. ["rpc.math"]`);
  }
  const root: PluginRoot = { dir, source, dyne, disable: (disable as string[] | undefined) ?? [], conf, confFile };
  if (manifest) root.manifest = manifest;
  const isolate = { ...manifest?.isolate, ...placeIsolated(conf?.ISOLATE, `${confFile}: ISOLATE`, confFile ?? dir) };
  const remote = { ...manifest?.remote, ...placeRemote(conf?.REMOTE, `${confFile}: REMOTE`, confFile ?? dir) };
  if (Object.keys(isolate).length > 0) root.isolate = isolate;
  if (Object.keys(remote).length > 0) root.remote = remote;
  return root;
}

/** Roots of the installed dependencies of `cwd`'s package.json whose own package.json has a "pop" field (as stevedore reads entry points). */
async function packageRoots(cwd: string, warn: (m: string) => void): Promise<Array<{ dir: string; source: string; pkg: PackageJson }>> {
  const pkg = await readJson(join(cwd, "package.json"));
  if (!pkg) return [];
  const names = new Set<string>();
  for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
    const deps = pkg[field];
    if (deps && typeof deps === "object") for (const n of Object.keys(deps)) names.add(n);
  }
  const out: Array<{ dir: string; source: string; pkg: PackageJson }> = [];
  for (const name of names) {
    const pkgFile = join(cwd, "node_modules", name, "package.json");
    const dep = await readJson(pkgFile);
    if (!dep || dep.pop === undefined) continue;
    const spec = dep.pop as unknown;
    const list = pluginRootsNamed(spec);
    if (list.length === 0 || list.some((x) => typeof x !== "string")) {
      warn(`${pkgFile}: "pop" must name plugin roots, e.g. "pop": { "plugins": ["plugins"] }; skipped`);
      continue;
    }
    for (const rel of list as string[]) {
      const dir = resolve(dirname(pkgFile), rel);
      if (isDirectory(dir)) out.push({ dir, source: `package ${name} (from ${join(cwd, "package.json")})`, pkg: { file: pkgFile, json: dep } });
      else warn(`${pkgFile}: plugin root "${rel}" is not a folder; skipped`);
    }
  }
  return out;
}

async function readJson(file: string): Promise<Record<string, any> | undefined> {
  if (!isFile(file)) return undefined; // cheaper than a failed read on start-up's path
  const text = await readText(file);
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
