import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "../_path.ts";
import { isDirectory } from "../_fs.ts";
// The hub's discovery alone, not the hub: pop types never loads a plugin.
import { discoverRoots, DiscoveryError, type PluginRoot } from "../hub/_discover.ts";
import { OutputError, quote, UsageError } from "../errors.ts";
import { log } from "../output.ts";
import { renderHub } from "./_emit.ts";
import { scanRoots } from "./_scan.ts";
import BUN_TYPES_GZ from "./_buntypes.generated.json.gz" with { type: "file" };
import POP_DTS_GZ from "./_popdts.generated.d.ts.gz" with { type: "file" };
import { cachedFolder } from "./_cache.ts";
import { stampOf } from "./_stamp.ts" with { type: "macro" };

/** Bun's type packages' stamp, computed when pop is bundled: no reading and hashing 780 KB of them on every run. */
const BUN_TYPES_STAMP: string = stampOf("src/types/_buntypes.generated.json.gz");

/** What `writeTypes` is asked for: the project folder (a plugin root) and more roots, as `pop types DIR --plugins …`. */
export interface WriteTypesOptions {
  /** The project folder: a plugin root (its conf.ts DYNE and CONFIG), and where `.pop/` goes by default. */
  dir: string;
  /** More plugin roots, merged after `dir` (app merging), as `--plugins`. */
  plugins?: string[];
  /** The hub declarations' file (default `<dir>/.pop/hub.d.ts`); the `pop` module's goes next to it as `pop.d.ts`. */
  out?: string;
  /** `dir` is only where the output goes, not a plugin root (`pop types --plugins A` with no DIR). */
  noRoot?: boolean;
  /** Environment (POP_PLUGIN_PATH); default process.env. */
  env?: Record<string, string | undefined>;
  /** Discover roots from package.json dependencies (default true). */
  packages?: boolean;
  /** Link Bun's type packages as `.pop/node_modules` (default: unless the project installs bun-types itself, in `<dir>/node_modules`). */
  bunTypes?: boolean;
}

/** What was written: every file, and which of them changed. */
export interface WriteTypesResult {
  files: string[];
  changed: string[];
  /** The plugin roots typed, in order. */
  roots: string[];
}

/**
 * Write the `.d.ts` files that type the hub of a project's plugin roots for editors and tsc: `pop.d.ts` (the `pop`
 * module, from inside the executable) and `hub.d.ts` (`HubSubs` augmented from the plugin files themselves).
 * Files whose text is unchanged are not touched; each is written whole (temporary file, then rename).
 * @example
 * await writeTypes({ dir: "myproject" }); // myproject/.pop/pop.d.ts, myproject/.pop/hub.d.ts
 */
export async function writeTypes(opts: WriteTypesOptions): Promise<WriteTypesResult> {
  const dir = resolve(opts.dir);
  if (!isDirectory(dir))
    throw new UsageError(`project folder "${opts.dir}" is not a folder: pass the folder holding the project's conf.ts or its subs`, "pop types");
  // A folder (one that exists, or a path ending in /) would have pop.d.ts written beside it before its write failed.
  if (opts.out !== undefined && (/[\\/]$/.test(opts.out) || isDirectory(resolve(opts.out))))
    throw new UsageError(`--out ${quote(opts.out)} is a folder: name the declarations file, e.g. ${quote(join(opts.out, "hub.d.ts"))}`, "pop types");
  // tsc and editors read declarations only from TypeScript files: a hub.d.ts.txt would be written and never seen.
  if (opts.out !== undefined && !/\.[mc]?ts$/.test(opts.out)) {
    const suggestion = `${opts.out.replace(/\.[^/\\]*$/, "")}.d.ts`;
    throw new UsageError(
      `--out ${quote(opts.out)} is not a TypeScript file: tsc and editors read declarations only from files ending in .ts (.d.ts, .mts, .cts); name it e.g. ${quote(suggestion)}`,
      "pop types",
    );
  }
  let roots: PluginRoot[];
  try {
    roots = await discoverRoots({
      named: opts.noRoot ? [] : [{ dir, source: "pop types" }],
      plugins: opts.plugins ?? [],
      env: opts.env ?? process.env,
      cwd: dir,
      packages: opts.packages ?? true,
      warn: (m, f) => log.warn(m, f), // a skipped POP_PLUGIN_PATH entry, a conf.ts export that is a typo
    });
  } catch (e) {
    if (e instanceof DiscoveryError) throw new UsageError(e.message, "pop types", { cause: e, hint: false });
    throw e;
  }
  const hubFile = opts.out ? resolve(opts.out) : join(dir, ".pop", "hub.d.ts");
  const outDir = dirname(hubFile);
  const projects = roots.filter((r) => r.confFile && r.conf?.CONFIG !== undefined).map((r) => ({ name: projectName(r), confFile: r.confFile! }));

  const hubText = renderHub(scanRoots(roots), projects, outDir);
  // Bytes as they are: never decoded into a string to be encoded again, nor compared as one.
  const popDts = Bun.gunzipSync(await Bun.file(POP_DTS_GZ).bytes());
  const files: Array<[string, string | Uint8Array]> = [
    [join(outDir, "pop.d.ts"), popDts],
    [hubFile, hubText],
  ];
  // The default folder is pop's alone: it ignores itself, so `git add .` never commits generated files.
  if (!opts.out) files.push([join(outDir, ".gitignore"), "# Written by `pop types`: regenerated, never edited or committed.\n*\n"]);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new OutputError(`cannot create the types folder "${outDir}" (${(e as NodeJS.ErrnoException).code}): make it writable or choose another with --out`, {
      cause: e,
    });
  }
  const changed: string[] = [];
  for (const [file, text] of files) if (writeIfChanged(file, text)) changed.push(file);
  // A project that installs Bun's types has them found from .pop/ already (`/// <reference types="bun-types" />` looks upwards).
  if (opts.bunTypes ?? !isDirectory(join(dir, "node_modules", "bun-types"))) {
    const modules = join(outDir, "node_modules");
    if (await linkTypePackages(modules)) changed.push(modules);
    files.push([modules, ""]);
  }
  return { files: files.map(([f]) => f), changed, roots: roots.map((r) => r.dir) };
}

/**
 * Bun's type packages (bun-types, @types/node, undici-types) as `.pop/node_modules`, where `/// <reference types="bun-types" />`
 * in pop.d.ts finds them: a link to one copy per pop build in the cache (a few MB written once per machine, not per
 * project), or a copy where links cannot be made. Returns whether anything changed.
 */
async function linkTypePackages(modules: string): Promise<boolean> {
  const stamp = BUN_TYPES_STAMP;
  // A folder named node_modules, in the cache as here: tsc resolves a link's target by its real path, and from there
  // `/// <reference types="node" />` and "undici-types" are found in the node_modules folder the packages are in.
  const fill = (dir: string) => {
    const files = JSON.parse(new TextDecoder().decode(Bun.gunzipSync(readFileSync(BUN_TYPES_GZ)))) as Record<string, string>;
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    writeFileSync(join(dir, STAMP), stamp);
  };
  try {
    if (readFileSync(join(modules, STAMP), "utf8") === stamp) return false;
  } catch {}
  try {
    let target: string | undefined;
    try {
      target = join(
        cachedFolder(`types-${stamp}`, `node_modules/${STAMP}`, (tmp) => fill(join(tmp, "node_modules"))),
        "node_modules",
      );
    } catch {}
    rmSync(modules, { recursive: true, force: true });
    if (target) {
      try {
        symlinkSync(target, modules, "junction");
        return true;
      } catch {}
    }
    mkdirSync(modules, { recursive: true });
    fill(modules);
  } catch (e) {
    rmSync(modules, { recursive: true, force: true });
    throw new OutputError(
      `cannot write Bun's types into "${modules}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): make the folder writable`,
      {
        cause: e,
      },
    );
  }
  return true;
}

const STAMP = ".pop-stamp";

function writeIfChanged(file: string, text: string | Uint8Array): boolean {
  try {
    if (typeof text === "string" ? readFileSync(file, "utf8") === text : readFileSync(file).equals(text)) return false;
  } catch {}
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new OutputError(`cannot write the types file "${file}" (${why}): make its folder writable or choose another with --out`, { cause: e });
  }
  return true;
}

/** The config integrator's project name (NAME, else the folder's name), without loading the config tool. */
function projectName(root: PluginRoot): string {
  const n = root.conf?.NAME;
  return typeof n === "string" && n !== "" ? n : basename(root.dir);
}
