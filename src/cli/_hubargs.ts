import type { ArgDef } from "./_args.ts";
import { UsageError } from "./_args.ts";
import { MAX_TIMER_MS, quote } from "../errors.ts";

/** The default of --load-timeout (and POP_LOAD_TIMEOUT), in milliseconds. */
export const LOAD_TIMEOUT_MS = 30_000;

/** Where plugins come from and how they load: every command that opens a hub takes these. */
export const LOAD_ARGS: Record<string, ArgDef> = {
  plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Add a plugin root: a folder whose sub-folders are subs" },
  disable: { type: "string", multiple: true, valueHint: "REF", description: "Leave a sub or module out, e.g. rpc.math" },
  strict: { type: "boolean", description: "Load every plugin and make any load failure fatal (exit 1, same message)" },
  packages: { type: "boolean", negatable: true, description: 'Do not discover plugin roots from package.json dependencies (a "pop" field)' },
  "load-timeout": {
    type: "string",
    valueHint: "MS",
    description: `Fail a module whose import or __init__ has not settled after MS milliseconds (default ${LOAD_TIMEOUT_MS}, 0 for none; env POP_LOAD_TIMEOUT)`,
  },
  json: { type: "boolean", description: "Print data as JSON; diagnostics on stderr become JSON lines" },
};

/** Where subs run: isolated or on a pop serve elsewhere. pop tree takes these too, to show the subs as placed. */
export const PLACE_ARGS: Record<string, ArgDef> = {
  isolate: {
    type: "string",
    multiple: true,
    valueHint: "SUB=MODE",
    description: "Run a sub's modules isolated: worker (a Bun Worker) or process (a child process), e.g. --isolate rpc=worker",
  },
  "isolate-env": {
    type: "string",
    multiple: true,
    valueHint: "SUB=VARS",
    description:
      "Grant the child of --isolate SUB=process these of pop's environment variables (comma-separated names; it sees none by default), e.g. --isolate-env vault=PATH,HOME",
  },
  "isolate-memory": {
    type: "string",
    multiple: true,
    valueHint: "SUB=MIB",
    description: "Kill the child of --isolate SUB=process once its resident memory is over MIB MiB (Linux), e.g. --isolate-memory vault=256",
  },
  remote: {
    type: "string",
    multiple: true,
    valueHint: "SUB=URL",
    description: "Send a sub's calls to a pop serve of it, e.g. --remote rpc=http://10.0.0.5:8888",
  },
};

/** How calls run and are recorded: the commands that call plugin functions (pop call, pop app, pop serve) take these too. */
export const RUN_ARGS: Record<string, ArgDef> = {
  ...PLACE_ARGS,
  timeout: {
    type: "string",
    valueHint: "MS",
    description: "Fail a hub call still running after MS milliseconds with a timeout error naming its ref (0 for none)",
  },
  trace: { type: "boolean", description: "Log every hub call (ref, plugin root and version, duration, outcome) on stderr (env POP_TRACE=1)" },
  audit: {
    type: "string",
    valueHint: "FILE",
    description: "Append one JSON line per hub call (ref, caller, time, outcome) to FILE, written before the call returns",
  },
};

/** The options of every command that loads a hub and calls into it. */
export const HUB_ARGS: Record<string, ArgDef> = { ...LOAD_ARGS, ...RUN_ARGS };

/** How one sub is placed by --isolate or --remote. */
export type Placement =
  { kind: "isolate"; mode: "worker" | "process"; env?: string[]; memory?: number; source: string } | { kind: "remote"; url: string; source: string };

/** loadHub options from parsed hub flags and the environment. */
export function hubOptions(args: Record<string, any>, path: string) {
  const disable = process.env.POP_DISABLE || args.disable?.length > 0 ? disables(args, path) : [];
  const opts: {
    plugins: string[];
    env: NodeJS.ProcessEnv;
    cwd: string;
    strict: boolean;
    disable: Array<{ ref: string; source: string }>;
    packages: boolean;
    loadTimeout: number;
    callTimeout?: number;
    trace?: boolean;
    audit?: string;
    isolate?: Record<string, { mode: "worker" | "process"; env?: string[]; memory?: number; source: string }>;
    remote?: Record<string, { url: string; token?: string; source: string }>;
  } = {
    plugins: (args.plugins ?? []) as string[],
    env: process.env,
    cwd: process.cwd(),
    strict: Boolean(args.strict),
    disable,
    packages: args.packages !== false,
    loadTimeout:
      args["load-timeout"] === undefined && !process.env.POP_LOAD_TIMEOUT ? LOAD_TIMEOUT_MS : loadTimeout(args["load-timeout"] as string | undefined, path),
  };
  if (args.timeout !== undefined) opts.callTimeout = millis(args.timeout as string, "option --timeout", path, "e.g. --timeout 5000, or 0 for no limit");
  if (args.trace || (process.env.POP_TRACE !== undefined && traceEnv(path))) opts.trace = true;
  if (args.audit !== undefined) opts.audit = audit(args.audit as string, path);
  // Most commands place nothing: the placement checks run only when an option asks for them.
  const placing = args.isolate?.length > 0 || args.remote?.length > 0 || args["isolate-env"]?.length > 0 || args["isolate-memory"]?.length > 0;
  if (placing)
    for (const [sub, p] of placements(args, path)) {
      if (p.kind === "isolate") {
        const { kind: _, ...spec } = p;
        (opts.isolate ??= {})[sub] = spec;
      } else (opts.remote ??= {})[sub] = { url: p.url, source: p.source, ...(process.env.POP_TOKEN ? { token: process.env.POP_TOKEN } : {}) };
    }
  return opts;
}

/** --audit FILE, checked. */
function audit(file: string, path: string): string {
  if (file.trim() === "") throw new UsageError('invalid value for option --audit: "" names no file; give a file to append to, e.g. --audit calls.jsonl', path);
  return file;
}

/** POP_DISABLE's refs, then --disable's, each with where it came from. */
function disables(args: Record<string, any>, path: string): Array<{ ref: string; source: string }> {
  const disable: Array<{ ref: string; source: string }> = [];
  const REF = /^[\w$-]+(\.[\w$-]+)*$/;
  for (const ref of (process.env.POP_DISABLE ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!REF.test(ref)) throw new UsageError(`POP_DISABLE holds ${quote(ref)}, which is not a ref like "rpc.math"; give comma-separated refs`, path);
    disable.push({ ref, source: "POP_DISABLE" });
  }
  for (const ref of (args.disable ?? []) as string[]) {
    if (!REF.test(ref)) throw new UsageError(`--disable ${quote(ref)} is not a ref like "rpc.math"`, path);
    disable.push({ ref, source: "--disable" });
  }
  return disable;
}

/** POP_TRACE: "1" (or "true") turns tracing on, "0", "false" or empty leave it off; anything else is a usage error. */
function traceEnv(path: string): boolean {
  const v = process.env.POP_TRACE?.trim().toLowerCase();
  if (v === undefined || v === "" || v === "0" || v === "false") return false;
  if (v === "1" || v === "true") return true;
  throw new UsageError(`invalid value for POP_TRACE: ${quote(process.env.POP_TRACE!)}; set it to 1 to trace every call, or 0`, path, { hint: false });
}

/** --isolate SUB=MODE and --remote SUB=URL, checked; one sub placed once. */
function placements(args: Record<string, any>, path: string): Map<string, Placement> {
  const out = new Map<string, Placement>();
  const put = (sub: string, p: Placement) => {
    const prev = out.get(sub);
    if (prev) throw new UsageError(`sub "${sub}" is placed twice (${prev.source} and ${p.source}); give one --isolate or --remote per sub`, path);
    out.set(sub, p);
  };
  for (const spec of (args.isolate ?? []) as string[]) {
    const [sub, mode] = pair(spec, "--isolate", "MODE", "--isolate rpc=worker", path);
    if (mode !== "worker" && mode !== "process")
      throw new UsageError(`invalid value for option --isolate: ${quote(spec)}: the mode must be worker or process, e.g. --isolate ${sub}=worker`, path);
    put(sub, { kind: "isolate", mode, source: `--isolate ${spec}` });
  }
  for (const spec of (args.remote ?? []) as string[]) {
    const [sub, url] = pair(spec, "--remote", "URL", "--remote rpc=http://127.0.0.1:8888", path);
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:"))
      throw new UsageError(
        `invalid value for option --remote: ${quote(spec)}: ${quote(url)} is not an http:// or https:// URL, e.g. --remote ${sub}=http://127.0.0.1:8888`,
        path,
      );
    put(sub, { kind: "remote", url, source: `--remote ${spec}` });
  }
  grants(args, out, path);
  return out;
}

/** --isolate-env SUB=VARS (repeatable, the names add up) and --isolate-memory SUB=MIB (once a sub), for a sub of --isolate SUB=process. */
function grants(args: Record<string, any>, placed: Map<string, Placement>, path: string): void {
  const target = (option: string, spec: string, sub: string) => {
    const bad = (why: string) => new UsageError(`invalid value for option ${option}: ${quote(spec)}: ${why}`, path);
    const p = placed.get(sub);
    if (p?.kind === "isolate" && p.mode === "process") return p;
    if (p?.kind === "isolate")
      throw bad(`sub "${sub}" runs in a worker (${p.source}), which shares pop's environment and memory; use --isolate ${sub}=process`);
    throw bad(
      `sub "${sub}" is not given --isolate ${sub}=process on this command line, and only a process-isolated sub is granted an environment or a memory limit; add --isolate ${sub}=process`,
    );
  };
  for (const spec of (args["isolate-env"] ?? []) as string[]) {
    const [sub, list] = pair(spec, "--isolate-env", "VARS", "--isolate-env vault=PATH,HOME", path);
    const names = list.split(",").map((n) => n.trim());
    const wrong = names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
    if (wrong !== undefined)
      throw new UsageError(
        `invalid value for option --isolate-env: ${quote(spec)}: ${quote(wrong)} is not an environment variable name; give names separated by commas, e.g. --isolate-env ${sub}=PATH,HOME`,
        path,
      );
    const p = target("--isolate-env", spec, sub);
    p.env = [...new Set([...(p.env ?? []), ...names])];
  }
  const memoryFrom = new Map<string, string>();
  for (const spec of (args["isolate-memory"] ?? []) as string[]) {
    const [sub, raw] = pair(spec, "--isolate-memory", "MIB", "--isolate-memory vault=256", path);
    const mib = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(mib) || mib === 0)
      throw new UsageError(
        `invalid value for option --isolate-memory: ${quote(spec)}: ${quote(raw)} is not a whole number of MiB above 0; give e.g. --isolate-memory ${sub}=256`,
        path,
      );
    const prev = memoryFrom.get(sub);
    if (prev) throw new UsageError(`sub "${sub}" is given two memory limits (--isolate-memory ${prev} and --isolate-memory ${spec}); give one`, path);
    memoryFrom.set(sub, spec);
    target("--isolate-memory", spec, sub).memory = mib;
  }
}

/** `SUB=VALUE` split, the sub name checked; `what` names the value in the message (MODE, URL...). */
function pair(spec: string, option: string, what: string, example: string, path: string): [string, string] {
  const eq = spec.indexOf("=");
  const sub = eq > 0 ? spec.slice(0, eq) : "";
  if (!sub || !/^[A-Za-z$][\w$-]*$/.test(sub) || eq === spec.length - 1)
    throw new UsageError(`invalid value for option ${option}: ${quote(spec)} is not SUB=${what} with SUB a sub name, e.g. ${example}`, path);
  return [sub, spec.slice(eq + 1)];
}

/** A whole number of milliseconds up to MAX_TIMER_MS, 0 meaning no limit; `from` is "option --timeout" or the variable's name. */
export function millis(raw: string, from: string, path: string, example: string): number {
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`invalid value for ${from}: ${quote(raw)} is not a whole number of milliseconds; give ${example}`, path);
  }
  const ms = Number(raw);
  if (ms > MAX_TIMER_MS)
    throw new UsageError(
      `invalid value for ${from}: ${quote(raw)} is more than ${MAX_TIMER_MS} ms (about 24.8 days), the longest timer pop can set; give at most ${MAX_TIMER_MS}, or 0 for no limit`,
      path,
    );
  return ms;
}

/** --load-timeout, else POP_LOAD_TIMEOUT, else the default: a whole number of milliseconds, 0 meaning no limit. */
function loadTimeout(flag: string | undefined, path: string): number {
  const [raw, from] = flag !== undefined ? [flag, "option --load-timeout"] : [process.env.POP_LOAD_TIMEOUT, "POP_LOAD_TIMEOUT"];
  if (raw === undefined || (raw === "" && flag === undefined)) return LOAD_TIMEOUT_MS;
  return millis(raw, from, path, "e.g. 30000, or 0 for no limit");
}
