// The messages between a host hub and an isolated sub (a Bun Worker's postMessage, or a child process's IPC with
// "advanced" serialization: both structured clone), and how errors cross: by class name, code, message and fields.
import {
  CallError,
  ConfigError,
  ContractError,
  DiscoveryError,
  ExitCalledError,
  IsolateError,
  PluginLoadError,
  PopError,
  RefError,
  ShutdownError,
  TimeoutError,
  UsageError,
} from "../errors.ts";

/** What the host tells the isolated side first: which sub to load, from where, and the host's other subs (for calls back). */
export interface InitMessage {
  t: "init";
  name: string;
  folders: string[];
  hostSubs: string[];
  /** A copy of the host's hub.OPT (the config), as it was when the side started. */
  opt: Record<string, unknown>;
  loadTimeout: number;
  shutdownTimeout: number;
  /** The host hub is strict (--strict): a module of the sub that fails to load fails the start. */
  strict: boolean;
  /** Not strict and loading a hub: a failed init.ts is that module's load failure (the sub's other modules serve), not a failed start. */
  tolerant: boolean;
  /** pop owns the host's stdout (--json): the side's console output goes to stderr, as the host's does. */
  stdoutForData: boolean;
}

/** One module of the isolated sub as the host sees it: its file, its functions' hub names, its public values; or why it failed to load. */
export interface ModuleShape {
  file: string;
  functions: string[];
  values: Record<string, unknown>;
  error?: WireError;
  /** The contract files the side applies to the module, and to each function by hub name (for `pop tree`). */
  contracts?: string[];
  fnContracts?: Record<string, string[]>;
}

/** A sub (or sub-sub) of the isolated sub as the host sees it: its folders, its modules, its sub-subs by name. */
export interface SubShape {
  dirs: string[];
  modules: Record<string, ModuleShape>;
  subs: Record<string, SubShape>;
}

/** Host to side: start, a call, the answer to a call back, close, a ping. */
export type HostMessage =
  | InitMessage
  | { t: "call"; id: number; ref: string; args: unknown[]; opt?: Record<string, unknown> }
  | { t: "back"; id: number; ok: true; value: unknown }
  | { t: "back"; id: number; ok: false; error: WireError }
  | { t: "close" }
  /** Are you answering? (a call timed out: a side that answers is awaiting, not spinning, and is kept) */
  | { t: "ping"; id: number };

/** Side to host: loaded (or not), a call's outcome, a call back into the hub, a warning, nothing left running (a child), an uncaught error, closed, the answer to a ping. */
export type SideMessage =
  | { t: "ready"; tree: SubShape }
  | { t: "fatal"; error: WireError }
  | { t: "ret"; id: number; ok: true; value: unknown }
  | { t: "ret"; id: number; ok: false; error: WireError }
  /** A call back into the hub; `from` is the id of the host's call it was made during, if any. */
  | { t: "call"; id: number; ref: string; args: unknown[]; from?: number }
  | { t: "warn"; message: string }
  /** The child's event loop emptied after it had received `calls` calls (an idle from before a later call is stale). */
  | { t: "idle"; calls: number }
  | { t: "uncaught"; error: WireError }
  | { t: "closed"; errors: WireError[] }
  | { t: "pong"; id: number };

/** A thrown value on the wire: an Error's class name, message, stack and own fields; anything else as itself. */
export type WireError =
  { error: true; name: string; message: string; stack?: string; pop?: true; fields: Record<string, unknown> } | { error: false; value: unknown };

const FIELDS = ["code", "exitCode", "ref", "field", "ms", "suggestion", "reason", "location", "sub", "requested", "command", "hint"];

/** Whether `v` survives structured clone (what both transports use). */
export function cloneable(v: unknown): boolean {
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `v` cannot cross between host and side, for the error: the first function, symbol or other value structured
 * clone refuses, with where it is (`a function at .items[2].format`), and the fix; else structured clone's own words.
 */
export function whyNotCloneable(v: unknown, fallback: string): string {
  const seen = new Set<unknown>();
  const find = (x: unknown, at: string, depth: number): string | undefined => {
    if (typeof x === "function") return `a function at ${at || "the top"}`;
    if (typeof x === "symbol") return `a symbol at ${at || "the top"}`;
    if (!x || typeof x !== "object" || seen.has(x) || depth > 20) return undefined;
    seen.add(x);
    if (cloneable(x)) return undefined;
    const entries: Array<[string, unknown]> = Array.isArray(x)
      ? x.map((e, i) => [`${at}[${i}]`, e])
      : x instanceof Map
        ? [...x].map(([k, e]) => [`${at}.get(${JSON.stringify(k) ?? String(k)})`, e])
        : Object.entries(x).map(([k, e]) => [`${at}.${k}`, e]);
    for (const [where, e] of entries) {
      const found = find(e, where, depth + 1);
      if (found) return found;
    }
    return `a ${x.constructor?.name ?? "value"} at ${at || "the top"} (${fallback})`;
  };
  const what = find(v, "", 0);
  return `${what ? `it holds ${what}` : fallback}; only plain data crosses (structured clone: no functions, symbols or class instances)`;
}

/** Turn a thrown value into something that crosses (structured clone never fails on it). */
export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return cloneable(e) ? { error: false, value: e } : { error: true, name: "Error", message: String(e), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const k of FIELDS) {
    const v = (e as unknown as Record<string, unknown>)[k];
    if (v !== undefined && (typeof v !== "object" || v === null || k === "location")) fields[k] = v;
  }
  if (e instanceof ShutdownError) fields.errors = e.errors.map(toWire);
  return {
    error: true,
    name: e.name,
    message: e.message,
    ...(e.stack !== undefined ? { stack: e.stack } : {}),
    ...(e instanceof PopError ? { pop: true } : {}),
    fields,
  };
}

const CLASSES: Record<string, new (...a: any[]) => Error> = {
  PopError,
  UsageError,
  ConfigError,
  DiscoveryError,
  RefError,
  PluginLoadError,
  ContractError,
  TimeoutError,
  ShutdownError,
  CallError,
  ExitCalledError,
  IsolateError,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** The thrown value back, on this side: an error of the same class (pop's own, else PopError for pop's; a built-in, else Error) with the same name, code, message and fields. */
export function fromWire(w: WireError): unknown {
  if (!w.error) return w.value;
  const e = new Error(w.message);
  // A PopError of a class not listed here (a tool's own) is still a PopError, with its code and exit code.
  const cls = CLASSES[w.name] ?? (w.pop ? PopError : Error);
  Object.setPrototypeOf(e, cls.prototype);
  const own = e as unknown as Record<string, unknown>;
  own.name = w.name;
  for (const [k, v] of Object.entries(w.fields)) own[k] = k === "errors" ? (v as WireError[]).map(fromWire) : v;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}
