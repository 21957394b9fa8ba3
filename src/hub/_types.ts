import type { PluginModule } from "../types/_public.ts";
import type { PluginLoadError, SourceLocation } from "./_errors.ts";

/** Any plugin function: the hub comes first. */
export type AnyFn = (...args: any[]) => any;

/** Anything with zod's `safeParse` (kept structural so the hub core never imports zod). */
export interface Schema {
  safeParse(
    value: unknown,
  ): { success: true; data: unknown } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/** Schemas a contract declares for one function: `arg` checks the first argument, `args` each positional one, `ret` the result. */
export interface SchemaSpec {
  arg?: Schema;
  args?: Schema[];
  ret?: Schema;
}

/** What every contract function receives after the hub. */
export interface ContractContext {
  /** The call's arguments, hub excluded; a pre contract may replace them. */
  args: unknown[];
  /** The function's ref, e.g. "rpc.math.fib". */
  ref: string;
  /** The raw plugin function: call it as `ctx.func(hub, ...ctx.args)`. */
  func: AnyFn;
  /** The result, in post contracts. */
  ret?: unknown;
}

export type ContractFn = (hub: Hub, ctx: ContractContext) => unknown;

/** The compiled contract chain for one function, built once at load time. */
export interface Chain {
  hub: Hub;
  ref: string;
  func: AnyFn;
  pre: ContractFn[];
  call: ContractFn | undefined;
  post: ContractFn[];
  schema: SchemaSpec | undefined;
  /** The function is a generator ("sync") or an async generator ("async"): the chain yields its chunks. */
  gen?: "async" | "sync" | undefined;
}

/** Augment this interface (`declare module "pop"`) to type your subs on the hub. */
export interface HubSubs {}

/** The built-in `pop` sub: hub.pop.sub.add / remove / reload, hub.pop.trace.add, hub.pop.config.load, ... */
export interface PopSub {
  sub: PluginModule<typeof import("../../plugins/pop/sub.ts")>;
  trace: PluginModule<typeof import("../../plugins/pop/trace.ts")>;
  ref: PluginModule<typeof import("../../plugins/pop/ref.ts")>;
  invoke: PluginModule<typeof import("../../plugins/pop/invoke.ts")>;
  config: PluginModule<typeof import("../../plugins/pop/config.ts")> & {
    /** The command line `load` parses for its `cli` project (`pop app` sets it). */
    ARGV: string[];
    /** The command shown in the project's help (`pop app DIR`). */
    PROG: string | undefined;
  };
}

/**
 * The hub: the shared root namespace passed first to every plugin function. Until `pop types` declares the
 * project's subs (augmenting HubSubs), any name is a sub of unknown shape; once it has, only the declared subs
 * are, so `hub.rcp.math` is a type error. Likewise `hub.OPT`: once it declares the projects' options, only those are,
 * so `hub.OPT.shop.oldname` is a type error too.
 */
export type Hub = HubSubs & { pop: PopSub } & ("OPT" extends keyof HubSubs ? {} : { OPT: Record<string, any> }) &
  (keyof HubSubs extends never ? { [sub: string]: any } : {});

export type LoadMode = "lazy" | "eager";

export type ModuleState = "pending" | "loaded" | "failed" | "virtual" | "disabled" | "shutdown";

/** One function of a loaded module, as shown by `pop tree`. */
export interface FunctionRecord {
  name: string;
  exportName: string;
  ref: string;
  raw: AnyFn;
  contracts: string[];
}

/** One plugin file of a sub and what became of it. */
export interface ModuleRecord {
  name: string;
  file: string;
  /** Other files defining the same module name, in root order (app merging). */
  others: string[];
  sub: SubMeta;
  ref: string;
  state: ModuleState;
  reason?: string;
  location?: SourceLocation;
  error?: PluginLoadError;
  /** The module's exports once loaded (what `pop tree` describes). */
  exports?: Record<string, unknown> | undefined;
  /** The module object on the hub (`hub.sub.mod`), once built: at load under contracts, else on first read. */
  object?: Record<string, unknown> | undefined;
  /** The contracts applied, once loaded. */
  applied?: import("./_contracts.ts").LoadedContract[];
  contracts: string[];
  /** A built-in module's exports, already imported. */
  preloaded?: Record<string, unknown>;
  /** A built-in module's source text (its file is not on disk next to the executable). */
  source?: string;
  loading?: Promise<void>;
  /** The hub functions as built (bound, contracted), before any trace monitor wraps them. */
  bare?: Record<string, AnyFn> | undefined;
  /** While an async __init__ gates the module's functions. */
  gated?: boolean;
  /** A __virtualname__ another file holds: decided after __virtual__. */
  claim?: string | undefined;
  /** How many times the module was reloaded (its import URL carries it). */
  generation?: number;
}

/** A sub's bookkeeping, kept off its enumerable properties. */
export interface SubMeta {
  name: string;
  ref: string;
  dirs: string[];
  load: LoadMode;
  /** Modules found so far, by hub name (all of them once `scanned`). */
  modules: Map<string, ModuleRecord>;
  /** The same records by file, so a renamed (__virtualname__) module is not found twice. */
  files: Map<string, ModuleRecord>;
  /** Each dir's entry names once listed (eager subs at add, lazy ones when all modules are needed); undefined while modules are found by probing. */
  entries: Array<Set<string>> | undefined;
  /** While a lazily reached sub-sub's async init runs: its modules' functions wait for it. */
  initializing?: Promise<void> | undefined;
  /** Whether every plugin file has a record yet. */
  scanned: boolean;
  subs: Map<string, SubObject>;
  /** Contract name -> files, from every dir's `contracts/`. */
  contracts: Map<string, string[]>;
  /** Recursive contract files that apply here: the parents' first. */
  rcontracts: string[];
  parent: SubMeta | undefined;
  object: SubObject;
  /** `init: false`: the sub's init module's __init__ is not run. */
  init?: boolean;
  /** `virtual: false`: __virtual__ is not called; every module loads. */
  virtual?: boolean;
  /** Any load failure in this sub throws, as on a strict hub. */
  stopOnFailures?: boolean;
  /** Put on the hub by isolateSub or remoteSub: its calls are bounded on the other side, not by the hub's timer. */
  placed?: boolean;
}

export type SubObject = Record<string, any>;

/** Hub-wide state: discovered dynes, the disable list, load failures. */
export interface HubState {
  /** The plugin roots the hub was created with, in order (their conf.ts exports included). */
  roots: import("./_discover.ts").PluginRoot[];
  dyne: Map<string, string[]>;
  /** Where each dyne entry came from, for messages. */
  dyneSource: Map<string, string>;
  disabled: Map<string, string>;
  strict: boolean;
  failures: PluginLoadError[];
  subs: Map<string, SubMeta>;
  contractCache: Map<string, Record<string, unknown>>;
  /** `fields`: what a JSON log line carries beside the message (a load failure's code, ref, location). */
  warn: (message: string, fields?: Record<string, unknown>) => void;
  /** Records in the order they were loaded: the hub closes them in reverse. */
  loaded: ModuleRecord[];
  /** Milliseconds an import or __init__ may take before it fails the module (0: no limit). */
  loadTimeout: number;
  /** Milliseconds each __shutdown__ may take. */
  shutdownTimeout: number;
  /** Call monitors (hub.pop.trace.add): while any is installed, hub functions report each call to them. */
  monitors: import("./_trace.ts").Monitor[];
  /** How many of them want each call's caller (an AsyncLocalStorage scope per call while any does). */
  callerMonitors: number;
  /** Set once closeHub has started. */
  closing: Promise<void> | undefined;
  /** Milliseconds an async hub call may run before it rejects with a TimeoutError (0: no limit). */
  callTimeout: number;
  /** Subs placed elsewhere (isolated, remote), by name: added through isolateSub / remoteSub instead of from their folders. */
  placed: Map<string, import("./_place.ts").Placed>;
  /**
   * How a placed sub picks changes up under --watch, by sub name: an isolated sub restarts its side when a file in
   * its `folders` changes (isolateSub); a remote sub asks its server at `url` for its function list again (remoteSub).
   * `reload` resolves to whether anything was reloaded (false: the list was the same, or the sub is off the hub).
   */
  placedReload?: Map<string, { folders?: string[]; url?: string; reload(): Promise<boolean> }>;
  /** Told of each sub added from now on (watchHub watches its folders too). */
  onSubAdded?: Set<(meta: SubMeta) => void>;
}
