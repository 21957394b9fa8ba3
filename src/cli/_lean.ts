// pop call's lean path: `pop call SUB.MOD.FN [KEY=VALUE]... [--args JSON] --plugins DIR` on a root that is only sub
// folders (no manifest, no conf file, no init file, no contracts), a module file with nothing but plain exports.
// That is the most common call, and loading pop's hub and CLI code costs it more than the call itself
// (docs/benchmarks.md, figure 4): this path imports the plugin's file and calls the function before any of that code
// is loaded, and gives the function a stand-in for the hub that becomes the real one (src/cli/_leanhub.ts) the first
// time the function reaches into it. What the full path would do differently is never taken here: any other word,
// environment variable, file or export sends the whole call to it (src/cli/call.ts), before the function runs, and the
// full path then finds the plugin's module already imported (Bun evaluates a file once) and reports as it always does.
// Only the success path runs here; a failure after the call (the function threw, stdout cannot be written) is
// reported by pop's own funnel, loaded then.
// What it imports is as small as it: a compiled pop's start-up pays for all the code a module graph holds.
import { surelyMissing } from "../_probe.ts";
import { releaseExit, trapExit } from "../hub/_exit.ts";
import { STATE } from "../hub/_meta.ts";
import { EXTS, moduleName, RESERVED_DIRS, ROOT_FILES, subName } from "../hub/_names.ts";
import { popModuleServed, registerPopModule } from "../hub/_popmodule.ts";
import type { Listing } from "../hub/_scan.ts";
import { callResult, ending, hasControl, never, NOT_SCALAR, pairObject, scalarText, writing } from "./_callcore.ts";
import type { LeanPlan } from "./_leanhub.ts";

/** The hook Bun.inspect and console.log look for (util.inspect.custom). */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Environment variables that change what pop call does: any of them set, the full path runs. */
export const LEAN_ENV = ["POP_PLUGIN_PATH", "POP_DISABLE", "POP_LOAD_TIMEOUT", "POP_TRACE", "POP_LOG_FORMAT", "POP_LOG_LEVEL"];

/** Run `argv` (`call ...`) the lean way: its exit code, or undefined when the full path must run it (nothing done that it would not do). */
export async function leanCall(argv: string[]): Promise<number | undefined> {
  for (const name of LEAN_ENV) if (process.env[name] !== undefined) return undefined;
  const words = callWords(argv);
  if (!words) return undefined;
  const { ref, json, plugins } = words;
  const parts = ref.split(".");
  if (parts.length !== 3 || hasControl(ref)) return undefined;
  const [sub, mod, fn] = parts as [string, string, string];
  // A capitalised name may be a class (a value on the hub, not a function bound to it): the full path tells.
  const c = fn.charCodeAt(0);
  if (!subName(sub) || moduleName(`${mod}.ts`) !== mod || c === 95 /* _ */ || (c >= 65 && c <= 90) || !plainName(fn)) return undefined;
  let args: unknown[] = [];
  if (json !== undefined) {
    try {
      const parsed: unknown = JSON.parse(json);
      if (!Array.isArray(parsed)) return undefined;
      args = parsed;
    } catch {
      return undefined;
    }
  }
  if (words.pairs.length > 0) {
    const r = pairObject(words.pairs);
    if (!("obj" in r)) return undefined;
    args = [r.obj];
  }
  const dir = absolute(plugins);
  const listing = dir === undefined ? undefined : rootListing(dir);
  if (!listing) return undefined;
  const file = plainModule(listing, sub, mod);
  if (!file) return undefined;
  // The import, as the hub's: process.exit() trapped, `import … from "pop"` served. One that has not settled by the
  // next turn (a top-level await) is left to the full path, which waits for the same evaluation under its load timeout.
  registerPopModule();
  // Signals and errors nobody catches are pop's from here, as the full path traps them before it imports anything.
  trap(true);
  trapExit();
  let exports: Record<string, unknown> | undefined;
  try {
    const { promise, resolve: done } = Promise.withResolvers<void>();
    import(file).then(
      (ns: Record<string, unknown>) => {
        exports = ns;
        done();
      },
      () => done(),
    );
    setImmediate(done);
    await promise;
  } finally {
    releaseExit();
  }
  // An error no caller caught, or a signal, arrived while the module loaded: pop is ending (its handler exits).
  if (ending.now) return never();
  const target = exports && plainExports(exports) && !popModuleServed() ? exports[fn] : undefined;
  // The full path from here (a plugin that imports "pop" hands the hub to its functions, which use it as it is), with
  // the traps handed over.
  if (typeof target !== "function") return trap(false);
  return run(ref, target as (...a: unknown[]) => unknown, standIn({ argv, dir: dir!, listing, ref, file }), args);
}

/** pop call's words, when they are only these: the ref, KEY=VALUE pairs, --args JSON once, --plugins DIR once. */
function callWords(argv: string[]): { ref: string; pairs: string[]; json: string | undefined; plugins: string } | undefined {
  let ref: string | undefined;
  let json: string | undefined;
  let plugins: string | undefined;
  const pairs: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    if (w.charCodeAt(0) === 45 /* - */) {
      const eq = w.indexOf("=");
      const flag = eq < 0 ? w : w.slice(0, eq);
      const value = eq < 0 ? argv[++i] : w.slice(eq + 1);
      // A value that looks like an option, --args' @FILE and - (stdin), an empty one: the full path's to read or refuse.
      if (value === undefined || value === "" || value.charCodeAt(0) === 45 || value.charCodeAt(0) === 64 /* @ */) return undefined;
      if (flag === "--args" && json === undefined) json = value;
      else if (flag === "--plugins" && plugins === undefined) plugins = value;
      else return undefined;
    } else if (ref === undefined) ref = w;
    else pairs.push(w);
  }
  if (ref === undefined || plugins === undefined || (json !== undefined && pairs.length > 0)) return undefined;
  return { ref, pairs, json, plugins };
}

/** `path` made absolute, when it is one that resolve() (src/_path.ts) would only prefix: no empty, `.` or `..` segment, no trailing slash. */
function absolute(path: string): string | undefined {
  if (process.platform === "win32") return undefined;
  const cwd = process.cwd();
  const full = path.charCodeAt(0) === 47 /* / */ ? path : cwd === "/" ? `/${path}` : `${cwd}/${path}`;
  let start = 1;
  for (let i = 1; i <= full.length; i++) {
    if (i < full.length && full.charCodeAt(i) !== 47) continue;
    const seg = full.slice(start, i);
    if (seg === "" || seg === "." || seg === "..") return undefined;
    start = i + 1;
  }
  return full;
}

/**
 * The root's listing as discovery's listNames makes it (src/hub/_scan.ts: its sub folders, sorted), when the root
 * is only sub folders: undefined for a manifest or conf file, a root that cannot be listed, or a name that might be a
 * sub folder pop cannot search (a file without an extension, a folder without x permission: the full path tells).
 */
function rootListing(dir: string): Listing | undefined {
  let names: string[];
  try {
    names = [...new Bun.Glob("*").scanSync({ cwd: dir, onlyFiles: false, dot: true })];
  } catch {
    return undefined;
  }
  const dirs: Array<{ name: string; dir: string }> = [];
  for (const name of names) {
    for (const f of ROOT_FILES) if (name === f) return undefined;
    if (name.includes(".") || name.charCodeAt(0) === 95 /* _ */ || RESERVED_DIRS.has(name)) continue;
    const path = `${dir}/${name}`;
    if (surelyMissing(`${path}/.`)) return undefined; // "dir/." is there for a folder one can search
    // In name order, as listNames sorts them (an insertion: no Array.prototype.sort, a JS builtin, on start-up's path).
    let at = dirs.length;
    while (at > 0 && dirs[at - 1]!.name > name) at--;
    dirs.splice(at, 0, { name, dir: path });
  }
  return { names, dirs };
}

/** A name made of letters, digits, `_` and `$`, not starting with a digit. */
function plainName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || (i > 0 && c >= 48 && c <= 57);
    if (!ok) return false;
  }
  return name.length > 0;
}

/**
 * The module's one file when the root holds nothing the hub would act on before the call: every sub folder a good
 * name with no init file (loadHub runs each sub's init), the sub's folder without contracts, the module one file
 * with no folder of the same name beside it.
 */
function plainModule(listing: Listing, sub: string, mod: string): string | undefined {
  // One stat each; anything at those paths (a file or a folder) is the full path's to read.
  let dir: string | undefined;
  for (const d of listing.dirs) {
    if (!subName(d.name) || d.name === "pop" || d.name === "OPT") return undefined;
    for (const ext of EXTS) if (!surelyMissing(`${d.dir}/init${ext}`)) return undefined;
    if (d.name === sub) dir = d.dir;
  }
  if (!dir || RESERVED_DIRS.has(mod)) return undefined;
  if (!surelyMissing(`${dir}/contracts`) || !surelyMissing(`${dir}/rcontracts`) || !surelyMissing(`${dir}/${mod}`)) return undefined;
  // A file that may be there (one stat each): the import says whether it is a module file; if not, the full path says why.
  let file: string | undefined;
  for (const ext of EXTS) {
    if (surelyMissing(`${dir}/${mod}${ext}`)) continue;
    if (file) return undefined; // two files of one module: the hub says which wins, or refuses
    file = `${dir}/${mod}${ext}`;
  }
  return file;
}

/** Exports the hub would only bind: no hook or setting (`__init__`, `__virtual__`, `__func_alias__`, ...), no default export, only plain names. */
function plainExports(exports: Record<string, unknown>): boolean {
  for (const key of Object.keys(exports)) {
    if (key === "default" || (key.charCodeAt(0) === 95 && key.charCodeAt(1) === 95) || !plainName(key)) return false;
  }
  return true;
}

/**
 * The hub the function gets: an object with the real hub's keys (OPT, pop, each sub) whose first use, of any of
 * them or of the hub's state, makes it the real hub in place (src/cli/_leanhub.ts), so the function, and every
 * function it reaches through it, sees one hub.
 */
function standIn(plan: LeanPlan): Record<PropertyKey, unknown> {
  // console.log(hub) and Bun.inspect look for an inspect hook first: one inherited from the stand-in's prototype
  // makes the hub real before they list its properties (own accessors would print as [Getter/Setter]).
  const proto = Object.create(Object.prototype, {
    [INSPECT]: {
      get() {
        become();
        return undefined;
      },
      configurable: true,
    },
  }) as object;
  const hub = Object.create(proto) as Record<PropertyKey, unknown>;
  // The keys in the order the real hub gets them (createHub: OPT, its state, pop; then loadHub's subs), each made a
  // plain value in place when the hub becomes real, so its keys keep that order (console.log shows them so).
  // Plain loops, no Array.prototype.map or spread: a JS builtin's first use costs a compiled pop tens of microseconds.
  const all: PropertyKey[] = ["OPT", STATE, "pop"];
  for (const d of plan.listing.dirs) all.push(d.name);
  let real = false;
  const become = () => {
    if (real) return;
    real = true;
    for (const k of all) Object.defineProperty(hub, k, { value: undefined, writable: true, enumerable: k !== STATE, configurable: true });
    Object.setPrototypeOf(hub, Object.prototype);
    (require(leanHubEntry()) as { becomeHub(hub: object, plan: LeanPlan): void }).becomeHub(hub, plan);
  };
  for (const k of all)
    Object.defineProperty(hub, k, {
      get() {
        become();
        return hub[k];
      },
      set(v: unknown) {
        become();
        hub[k] = v;
      },
      enumerable: k !== STATE,
      configurable: true,
    });
  return hub;
}

/** src/cli/_leanhub.ts: in the executable an entry point of its own (scripts/build.ts lists it), so it can be required; from source, the file. */
function leanHubEntry(): string {
  const path = import.meta.path;
  if (!path.startsWith("/$bunfs/") && !path.startsWith("B:\\~BUN\\")) return `${import.meta.dir}/_leanhub.ts`;
  // Files inside the executable have no modification time (lastModified says none), but they have a size.
  const found = ["/$bunfs/root/cli/_leanhub.js", "/$bunfs/root/src/cli/_leanhub.js", "B:\\~BUN\\root\\cli\\_leanhub.js"].find((f) => Bun.file(f).size > 0);
  if (!found) throw new Error("this pop was built without the entry point src/cli/_leanhub.ts (scripts/build.ts must list it)");
  return found;
}

/** Call, print, close: what runCommand (src/cli/_main.ts) does around call.ts's run, for a call that got this far. */
async function run(ref: string, fn: (...a: unknown[]) => unknown, hub: Record<PropertyKey, unknown>, args: unknown[]): Promise<number> {
  let code: number;
  try {
    code = await callAndPrint(ref, fn, hub, args);
  } catch (e) {
    code = (await import("../output.ts")).report(e);
  }
  // A signal, or an error no caller could catch: its handler closes the hubs and exits; the call's own result is moot.
  if (stopping) await stopping;
  if (fatal) await never();
  // A function that imported "pop" may have handed the hub to it (onHubClose, closeHub) without reading it: real now.
  if (popModuleServed()) void hub.OPT;
  const hubs = (globalThis as Record<symbol, { hubsNeedClosing(): boolean } | undefined>)[Symbol.for("pop.hubs")];
  if (hubs?.hubsNeedClosing()) code = await (await import("./_main.ts")).closeHubs(code);
  return code;
}

async function callAndPrint(ref: string, fn: (...a: unknown[]) => unknown, hub: Record<PropertyKey, unknown>, args: unknown[]): Promise<number> {
  let result: unknown;
  try {
    result = await callResult(() => fn(hub, ...args));
  } catch (e) {
    throw (await import("./_result.ts")).callFailure(ref, e);
  }
  const scalar = scalarText(result, false);
  const text = scalar === NOT_SCALAR ? (await import("./_result.ts")).printable(ref, result, false) : scalar;
  return text === undefined ? 0 : write(text);
}

/** The result on stdout, as the output module writes it; a failed write reported as it reports one (exit 1). */
async function write(text: string): Promise<number> {
  try {
    await (writing.now = Bun.write(Bun.stdout, text.endsWith("\n") ? text : `${text}\n`));
    return 0;
  } catch (e) {
    const { outputError, report } = await import("../output.ts");
    return report(outputError(e));
  }
}

let stopping: Promise<unknown> | undefined;
let fatal: Promise<unknown> | undefined;

/** Install (or take off, for the full path, which installs its own) pop's handlers of signals and uncaught errors. */
function trap(on: boolean): undefined {
  const f = on ? process.on.bind(process) : process.off.bind(process);
  f("SIGINT", signal);
  f("SIGTERM", signal);
  f("uncaughtException", uncaught);
  f("unhandledRejection", rejected);
  return undefined;
}

function signal(name: "SIGINT" | "SIGTERM"): void {
  ending.now = true;
  stopping = import("./_main.ts").then((m) => m.onSignal(name));
}

// As src/cli/_main.ts's trapUncaught: left to a plugin that listens for these itself.
function uncaught(e: unknown): void {
  if (process.listenerCount("uncaughtException") === 1) fatalOf(e);
}

function rejected(e: unknown): void {
  if (process.listenerCount("unhandledRejection") === 1) fatalOf(e);
}

function fatalOf(e: unknown): void {
  ending.now = true;
  fatal ??= import("./_main.ts").then((m) => m.fatal(e));
}
