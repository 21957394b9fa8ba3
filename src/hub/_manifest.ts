// A plugin root's manifest: `pop.json` in the root, or the "pop" field of its package.json (a package's own
// package.json for a root a package brought). It names the root (name, version), says which pop versions it runs
// on (`engines.pop`, a semver range) and may place subs: `isolate` (worker or process, with env and memory) and
// `remote` (the URL of a pop serve of that sub). A conf.ts may place subs too (ISOLATE, REMOTE: the same shapes).
import { version as popVersion } from "../../package.json" with { type: "json" };
import { readText } from "../_fs.ts";
import { resolve } from "../_path.ts";
import { DiscoveryError, quote } from "../errors.ts";
import { log } from "../output.ts";

/** This pop's version (package.json at build time): what `engines.pop` ranges are checked against. */
export const POP_VERSION: string = popVersion;

/** How a sub is isolated (manifest, conf or --isolate). */
export interface IsolateSpec {
  mode: "worker" | "process";
  /** process mode: the environment variables the child may see. */
  env?: string[];
  /** process mode: memory limit in MiB. */
  memory?: number;
  source: string;
}

/** Where a remote sub is served (manifest, conf or --remote). */
export interface RemoteSpec {
  url: string;
  token?: string;
  source: string;
}

/** What a root's manifest says. */
export interface Manifest {
  /** The file it was read from (pop.json or a package.json). */
  file: string;
  name?: string;
  version?: string;
  /** engines.pop: the semver range of pop versions the root runs on. */
  engine?: string;
  isolate: Record<string, IsolateSpec>;
  remote: Record<string, RemoteSpec>;
}

/** The package.json of the package that brought a root, as discovery read it. */
export interface PackageJson {
  file: string;
  json: Record<string, unknown>;
}

/**
 * Read the manifest of root `dir`: `names` is its folder listing (no extra stat on start-up's path); `pkg` the
 * package.json of the package that brought it, if any. Undefined when the root has none.
 */
export async function readManifest(dir: string, names: readonly string[], pkg?: PackageJson): Promise<Manifest | undefined> {
  const own = names.includes("package.json");
  if (names.includes("pop.json")) {
    const file = `${dir}/pop.json`;
    const json = await readObject(file);
    const m = manifestOf(file, json, false, Object.keys(json));
    // A package.json beside it that says something of this root too would be ignored in silence (its engines.pop unchecked).
    const other = own ? `${dir}/package.json` : pkg?.file;
    const said = other ? manifestFields(own ? await readObject(other) : pkg!.json) : [];
    if (said.length > 0)
      log.warn(`${other}: ${said.join(" and ")} ignored: ${file} is this plugin root's manifest; move ${said.length > 1 ? "them" : "it"} into ${file}`);
    return m;
  }
  if (!own && !pkg) return undefined;
  const file = own ? `${dir}/package.json` : pkg!.file;
  const json = own ? await readObject(file) : pkg!.json;
  const field = json.pop;
  // A "pop" field that only names plugin roots ("plugins", a string, a list) is a package's pointer, and says
  // nothing of this root unless engines.pop is there too.
  const popObject = field && typeof field === "object" && !Array.isArray(field) ? (field as Record<string, unknown>) : undefined;
  const engines = json.engines && typeof json.engines === "object" ? (json.engines as Record<string, unknown>) : undefined;
  // Unless it points at this very root: a package that brought it here, or "pop": "." in the root's own package.json.
  if (!popObject && engines?.pop === undefined && !(pkg && !own) && !pointsAt(field, file, dir)) return undefined;
  const merged: Record<string, unknown> = { name: json.name, version: json.version, engines: { pop: engines?.pop }, ...popObject };
  return manifestOf(file, merged, true, Object.keys(popObject ?? {}));
}

/** The plugin roots a package.json "pop" field names, as written: "plugins", [".", "more"] or { plugins: [...] }. */
export function pluginRootsNamed(field: unknown): unknown[] {
  if (typeof field === "string") return [field];
  if (Array.isArray(field)) return field;
  const plugins = field && typeof field === "object" ? (field as { plugins?: unknown }).plugins : undefined;
  return plugins === undefined ? [] : Array.isArray(plugins) ? plugins : [plugins];
}

/** Whether a "pop" field naming plugin roots names `dir` itself. */
function pointsAt(field: unknown, file: string, dir: string): boolean {
  const base = file.slice(0, file.lastIndexOf("/"));
  return pluginRootsNamed(field).some((x) => typeof x === "string" && resolve(base, x) === resolve(dir));
}

/** What a package.json says of a plugin root, besides naming plugin roots ("pop".plugins): its "pop" fields, engines.pop. */
function manifestFields(json: Record<string, unknown>): string[] {
  const said: string[] = [];
  const field = json.pop;
  if (field && typeof field === "object" && !Array.isArray(field)) {
    const keys = Object.keys(field).filter((k) => k !== "plugins");
    if (keys.length > 0) said.push(keys.map((k) => `"pop".${k}`).join(", "));
  }
  const engines = json.engines && typeof json.engines === "object" ? (json.engines as Record<string, unknown>) : undefined;
  if (engines?.pop !== undefined) said.push("engines.pop");
  return said;
}

async function readObject(file: string): Promise<Record<string, unknown>> {
  const text = await readText(file);
  if (text === undefined) throw new DiscoveryError(`${file}: cannot read the plugin root's manifest; make it readable`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DiscoveryError(`${file}: the plugin root's manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new DiscoveryError(`${file}: the plugin root's manifest must be a JSON object`);
  return v as Record<string, unknown>;
}

/** The fields a manifest may have (pop.json, or a package.json's "pop" object, which may also name "plugins"). */
const KNOWN = ["name", "version", "engines", "isolate", "remote"];

function manifestOf(file: string, m: Record<string, unknown>, inPackage: boolean, keys: readonly string[]): Manifest {
  const where = (field: string) => `${file}: ${inPackage ? `"pop".` : ""}${field}`;
  // An unknown field is most likely a typo ("engine"): said, so it does not silently turn a check off.
  const known = inPackage ? [...KNOWN, "plugins"] : KNOWN;
  for (const k of keys)
    if (!known.includes(k) && !k.startsWith("$")) log.warn(`${where(k)}: unknown field, ignored (known: ${known.join(", ")}); fix its name or remove it`);
  const str = (field: string, v: unknown, fix: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v.trim() === "") throw new DiscoveryError(`${where(field)} must be a non-empty string, got ${JSON.stringify(v)}; ${fix}`);
    return v;
  };
  const out: Manifest = { file, isolate: {}, remote: {} };
  const name = str("name", m.name, 'write one such as "my-plugins", or leave the field out');
  const version = str("version", m.version, 'write one such as "1.0.0", or leave the field out');
  if (name !== undefined) out.name = name;
  if (version !== undefined) out.version = version;
  const engines = m.engines;
  if (engines !== undefined && (!engines || typeof engines !== "object" || Array.isArray(engines)))
    throw new DiscoveryError(`${where("engines")} must be an object, e.g. { "pop": ">=0.1 <1" }`);
  const engine = str("engines.pop", (engines as Record<string, unknown> | undefined)?.pop, 'write a semver range such as ">=0.1 <1"');
  if (engine !== undefined) {
    // Bun.semver.satisfies takes some garbage for a range that matches anything: the syntax is checked here.
    if (!isRange(engine)) throw new DiscoveryError(`${where("engines.pop")} ${quote(engine)} is not a semver range; write one such as ">=0.1 <1" or "^0.1"`);
    out.engine = engine;
  }
  out.isolate = placeIsolated(m.isolate, where("isolate"), `${file}`);
  out.remote = placeRemote(m.remote, where("remote"), `${file}`);
  return out;
}

const PART = "(?:0|[1-9]\\d*|[xX*])";
const VERSION = `[v=]?${PART}(?:\\.${PART}(?:\\.${PART}(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?)?)?`;
const COMPARATOR = `(?:[<>]=?|=|~>?|\\^)?\\s*${VERSION}`;
const SET = `(?:${VERSION}\\s+-\\s+${VERSION}|${COMPARATOR}(?:\\s+${COMPARATOR})*)`;
/** Built on first use: this module is on every command's start-up path, where constructing a regex costs a compiled pop. */
let range: RegExp | undefined;

/** Whether `s` is a semver range in npm's syntax: comparators (`>=1.2 <2`), `^`/`~`, x-ranges, hyphen ranges, `||`. */
export function isRange(s: string): boolean {
  range ??= new RegExp(`^\\s*${SET}(?:\\s*\\|\\|\\s*${SET})*\\s*$`);
  return range.test(s);
}

/** `{ rpc: "worker" }` or `{ rpc: { mode: "process", env: ["HOME"], memory: 256 } }`, checked. */
export function placeIsolated(v: unknown, where: string, source: string): Record<string, IsolateSpec> {
  const out: Record<string, IsolateSpec> = {};
  if (v === undefined) return out;
  if (!v || typeof v !== "object" || Array.isArray(v))
    throw new DiscoveryError(`${where} must map sub names to "worker" or "process", e.g. { "rpc": "worker" }`);
  for (const [sub, spec] of Object.entries(v)) {
    const o = typeof spec === "string" ? { mode: spec } : spec;
    if (!o || typeof o !== "object" || Array.isArray(o)) throw new DiscoveryError(`${where}.${sub} must be "worker", "process" or { mode, env, memory }`);
    const { mode, env, memory, ...rest } = o as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new DiscoveryError(`${where}.${sub}: unknown field ${quote(extra[0]!)}; known: mode, env, memory`);
    if (mode !== "worker" && mode !== "process") throw new DiscoveryError(`${where}.${sub}: mode must be "worker" or "process", got ${JSON.stringify(mode)}`);
    const spec2: IsolateSpec = { mode, source };
    if (env !== undefined) {
      if (!Array.isArray(env) || env.some((x) => typeof x !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(x)))
        throw new DiscoveryError(`${where}.${sub}.env must be a list of environment variable names, e.g. ["HOME"]`);
      spec2.env = env as string[];
    }
    if (memory !== undefined) {
      if (typeof memory !== "number" || !Number.isInteger(memory) || memory <= 0)
        throw new DiscoveryError(`${where}.${sub}.memory must be a whole number of MiB, e.g. 256; got ${JSON.stringify(memory)}`);
      spec2.memory = memory;
    }
    out[sub] = spec2;
  }
  return out;
}

/** `{ rpc: "http://host:8888" }` or `{ rpc: { url, token } }`, checked. */
export function placeRemote(v: unknown, where: string, source: string): Record<string, RemoteSpec> {
  const out: Record<string, RemoteSpec> = {};
  if (v === undefined) return out;
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new DiscoveryError(`${where} must map sub names to URLs, e.g. { "rpc": "http://127.0.0.1:8888" }`);
  for (const [sub, spec] of Object.entries(v)) {
    const o = typeof spec === "string" ? { url: spec } : spec;
    if (!o || typeof o !== "object" || Array.isArray(o)) throw new DiscoveryError(`${where}.${sub} must be a URL or { url, token }`);
    const { url, token } = o as Record<string, unknown>;
    let ok = false;
    try {
      const u = new URL(String(url));
      ok = typeof url === "string" && (u.protocol === "http:" || u.protocol === "https:");
    } catch {}
    if (!ok) throw new DiscoveryError(`${where}.${sub}: ${JSON.stringify(url)} is not an http:// or https:// URL`);
    if (token !== undefined && typeof token !== "string") throw new DiscoveryError(`${where}.${sub}.token must be a string`);
    out[sub] = { url: url as string, source, ...(token !== undefined ? { token: token as string } : {}) };
  }
  return out;
}

/**
 * Whether pop `version` is in engines range `range`. A prerelease pop (0.2.0-dev) counts as the release it leads
 * to (0.2.0), as pnpm treats engines: plain semver would keep every prerelease out of a range such as ">=0.1".
 */
export function engineSatisfied(version: string, range: string): boolean {
  const sat = (v: string) => {
    try {
      return Bun.semver.satisfies(v, range);
    } catch {
      return false;
    }
  };
  if (sat(version)) return true;
  const release = version.replace(/[-+].*$/, "");
  return release !== version && sat(release);
}

/** Refuse a root whose engines.pop range excludes pop `version` (this pop): one message naming the root, its range and the version. */
export function checkEngine(dir: string, source: string, m: Manifest, version: string = POP_VERSION): void {
  if (m.engine === undefined) return;
  const label = m.name ? `"${m.name}"${m.version ? ` ${m.version}` : ""} (${dir})` : dir;
  if (!engineSatisfied(version, m.engine))
    throw new DiscoveryError(
      `plugin root ${label}, from ${source}, needs pop ${quote(m.engine)} (engines.pop in ${m.file}); this is pop ${version}: use a version of the plugins made for this pop, or a pop their range allows`,
    );
}
