// Service type `bun`: a Bun app in its own instance directory, run by this executable acting as Bun
// (BUN_BE_BUN=1 pop run ENTRY). Tasks `install PKG...` and `packages`: the seed's PythonEnvironment tasks, for Bun.
//   pop add bun --name app --set entry=server.ts --port 8080
//   pop run app install zod@4 && pop run app packages
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { type Hub, type LaunchSpec, type ServiceContext, tcpReady, z } from "pop";
import { bunOf, common, envSetting, portSetting } from "./_common.ts";

/** entry (a file in the instance dir, or an absolute path; default index.ts), port (readiness: it accepts connections; also $PORT), env. */
export const settings = z.strictObject({
  entry: z.string().min(1).default("index.ts"),
  port: portSetting.optional(),
  env: envSetting,
  ...common,
});

type Settings = z.output<typeof settings>;

export const stopSignal = "SIGTERM";
export const stopTimeout = 10_000;
export const readyTimeout = 30_000;

/** An installed package of the instance. */
export interface InstalledPackage {
  name: string;
  /** The version in its node_modules/<name>/package.json (undefined: declared but not installed). */
  version: string | undefined;
  /** When it was installed (its node_modules folder's mtime, ISO). */
  installedAt: string | undefined;
  /** Where it came from, by its dependency spec: registry, file, link, git, url, workspace. */
  source: "registry" | "file" | "link" | "git" | "url" | "workspace";
  /** Its dependency spec in package.json. */
  spec: string;
}

/** How to start it: this executable as Bun, `run ENTRY` in the instance dir. */
export function command(_hub: Hub, svc: ServiceContext): LaunchSpec {
  const s = svc.settings as Settings;
  const entry = isAbsolute(s.entry) ? s.entry : join(svc.dir, s.entry);
  const env: Record<string, string> = { BUN_BE_BUN: "1", ...(s.port === undefined ? {} : { PORT: String(s.port) }), ...s.env };
  return { argv: [bunOf(svc), "run", entry], env, cwd: svc.dir };
}

/** Ready when its port accepts connections (no port: when it runs). */
export async function ready(_hub: Hub, svc: ServiceContext & { pid: number }): Promise<boolean | string> {
  const s = svc.settings as Settings;
  return s.port === undefined ? true : await tcpReady(s.port);
}

/** Task: add packages to the instance (`bun add PKG...` in its folder; any spec Bun takes: name@range, file:, git, URL). Returns what was installed. */
export async function install(_hub: Hub, svc: ServiceContext, ...pkgs: string[]): Promise<InstalledPackage[]> {
  if (pkgs.length === 0) throw new Error("name the packages to install, e.g. `pop run SERVICE install zod@4 ./local-pkg`");
  mkdirSync(svc.dir, { recursive: true });
  const manifest = join(svc.dir, "package.json");
  if (!existsSync(manifest)) writeFileSync(manifest, JSON.stringify({ name: manifestName(svc.name), private: true }, null, 2) + "\n");
  const before = dependencies(svc.dir);
  const proc = Bun.spawn([bunOf(svc), "add", ...pkgs], {
    cwd: svc.dir,
    env: { ...(process.env as Record<string, string>), BUN_BE_BUN: "1", NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    const why = (err.trim() || out.trim()).split("\n").slice(-5).join("; ");
    throw new Error(`installing ${pkgs.join(" ")} into ${svc.dir} failed (bun add exited ${code}): ${why}`);
  }
  const after = dependencies(svc.dir);
  const named = new Set(pkgs.map(nameOf).filter((n): n is string => n !== undefined));
  return listPackages(svc.dir).filter((p) => after[p.name] !== before[p.name] || named.has(p.name));
}

/** Task: the instance's packages, each with version, install time and source. */
export function packages(_hub: Hub, svc: ServiceContext): InstalledPackage[] {
  return listPackages(svc.dir);
}

function listPackages(dir: string): InstalledPackage[] {
  return Object.entries(dependencies(dir))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, spec]) => {
      const folder = join(dir, "node_modules", name);
      let version: string | undefined;
      let installedAt: string | undefined;
      try {
        version = (JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as { version?: string }).version;
        // The folder, not its package.json: Bun hardlinks package files from its cache (or a file: source), so their mtime is not when they were installed.
        installedAt = statSync(folder).mtime.toISOString();
      } catch {
        // declared, not installed
      }
      return { name, version, installedAt, source: sourceOf(spec), spec };
    });
}

function dependencies(dir: string): Record<string, string> {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const key of ["dependencies", "optionalDependencies", "devDependencies"]) {
      const deps = pkg[key];
      if (deps && typeof deps === "object") for (const [n, v] of Object.entries(deps)) if (typeof v === "string") out[n] ??= v;
    }
    return out;
  } catch {
    return {};
  }
}

function sourceOf(spec: string): InstalledPackage["source"] {
  if (spec.startsWith("file:") || spec.startsWith(".") || spec.startsWith("/")) return "file";
  if (spec.startsWith("link:")) return "link";
  if (spec.startsWith("workspace:")) return "workspace";
  if (/^(git\+|git:|github:|gitlab:|bitbucket:)|\.git(#|$)/.test(spec) || /^[\w.-]+\/[\w.-]+(#.*)?$/.test(spec)) return "git";
  if (/^https?:/.test(spec)) return "url";
  return "registry";
}

/** The package name a `bun add` argument names, when it can be told from the text (name, name@range, @scope/name@range). */
function nameOf(arg: string): string | undefined {
  const m = /^(@[^/@\s]+\/[^@\s]+|[^@/:.\s][^@/:\s]*)(@.*)?$/.exec(arg);
  return m?.[1];
}

function manifestName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]/g, "-") || "instance";
}
