// The deploy agent's shared shapes: what the ZooKeeper client (_zk.ts), the supervisor (_supervisor.ts), the
// service types (plugins/service/*.ts), the layout (_layout.ts), the commands and the agent agree on.
import type { Hub } from "../hub/_types.ts";

// ---- ZooKeeper ---------------------------------------------------------------------------------------------------

/** How a node is created. */
export type CreateMode = "persistent" | "ephemeral" | "persistent-sequential" | "ephemeral-sequential";

/** One operation of an all-or-nothing transaction (ZooKeeper's multi). */
export type ZkOp =
  | { op: "create"; path: string; data?: string; mode?: CreateMode }
  | { op: "set"; path: string; data: string; version?: number }
  | { op: "remove"; path: string; version?: number }
  | { op: "check"; path: string; version: number };

/** Options of connectZk. */
export interface ZkOptions {
  /** "host:port,host:port[/chroot]". */
  hosts: string;
  /** Connect timeout and per-request timeout, in ms: nothing waits longer (default 5000). */
  timeoutMs?: number;
  /** The session timeout asked of the server (it negotiates at least 2 x its tickTime). */
  sessionTimeoutMs?: number;
  /** Digest auth "user:password": every node created gets an ACL (creator all, world read). */
  auth?: string;
}

/** A connected ZooKeeper session. Every method rejects with a ZooKeeperError (exit 3) on connection trouble or a timeout, naming the path. */
export interface Zk {
  /** The node's data (utf-8) and version, or undefined when it does not exist. With `watch`, called once on the next change (data or deletion). */
  get(path: string, watch?: () => void): Promise<{ data: string; version: number } | undefined>;
  /** The node's children (names), or undefined when it does not exist. With `watch`, called once on the next change of the children list. */
  children(path: string, watch?: () => void): Promise<string[] | undefined>;
  exists(path: string, watch?: () => void): Promise<boolean>;
  /** Create a node (parents must exist); resolves to the created path (sequential: with its suffix). A node that exists: ZooKeeperError zkCode NODE_EXISTS. */
  create(path: string, data?: string, mode?: CreateMode): Promise<string>;
  /** Set data if the version matches (-1: any); resolves to the new version. A mismatch: zkCode BAD_VERSION. */
  set(path: string, data: string, version?: number): Promise<number>;
  remove(path: string, version?: number): Promise<void>;
  /** Delete a node and everything below it, depth first (node-zookeeper-client's removeRecursive sees one level only). Missing: no-op. */
  removeTree(path: string): Promise<void>;
  /** Create each missing node along `path` (persistent, empty). */
  mkdirp(path: string): Promise<void>;
  /** All or nothing. */
  transaction(ops: ZkOp[]): Promise<void>;
  /**
   * Versioned read-modify-write, retried on conflict: `fn` gets the current data (undefined if missing) and returns
   * the new data (undefined: leave it as is). Creates the node when missing. Resolves to what was written.
   * `first`: the node as just read (`get`), so the first attempt needs no read of its own (a conflict reads again).
   */
  update(
    path: string,
    fn: (current: string | undefined) => string | undefined,
    first?: { node: { data: string; version: number } | undefined },
  ): Promise<string | undefined>;
  /** Called when the session is lost (expired, or disconnected longer than the session timeout: our own timer). */
  onSessionLost(cb: () => void): () => void;
  /** Called on each connection state change: "connected", "disconnected", "expired". */
  onState(cb: (state: "connected" | "disconnected" | "expired") => void): () => void;
  readonly sessionId: string;
  close(): Promise<void>;
}

// ---- Service types (plugins/service/<type>.ts) -----------------------------------------------------------------

/** What a service type's functions get about the service they act on. */
export interface ServiceContext {
  /** The service's name. */
  name: string;
  /** Its type's name (the module name in the service sub). */
  type: string;
  /** Its settings, parsed by the type's `settings` schema. */
  settings: Record<string, unknown>;
  /** This machine's id. */
  machineId: string;
  /** A folder of the service's own on this machine (instance directory: installed packages, data). */
  dir: string;
  /** (Added for the supervisor's tasks.) The service's pid on this machine, when it runs here: tasks such as `signal` need it. */
  pid?: number;
  /** (Added for the built-in types.) The executable that acts as Bun under BUN_BE_BUN=1: default process.execPath (pop itself). */
  bun?: string;
}

/** How to run a service's process. */
export interface LaunchSpec {
  argv: string[];
  /** (Noted.) Set over the agent's own environment by the supervisor: only what the service adds or changes. */
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * A service type is a plugin module of the `service` sub:
 *   export const settings = z.object({...})          // zod schema of its settings (required)
 *   export const secret = ["token"]                   // setting names masked in status (optional)
 *   export function command(hub, svc): LaunchSpec     // how to start it (required)
 *   export function ready(hub, svc & { pid }): Promise<boolean | string>   // readiness: true, or why not yet (optional: default "the process is alive")
 *   export const stopSignal = "SIGTERM"; export const stopTimeout = 10_000; export const readyTimeout = 30_000
 *   any other exported function is a task: `pop run SVC TASK ARGS...` calls task(hub, svc, ...args) and prints its result
 */
export interface ServiceTypeModule {
  settings: { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } } };
  secret?: string[];
  command(hub: Hub, svc: ServiceContext): LaunchSpec;
  ready?(hub: Hub, svc: ServiceContext & { pid: number }): Promise<boolean | string> | boolean | string;
  stopSignal?: NodeJS.Signals;
  stopTimeout?: number;
  readyTimeout?: number;
  [task: string]: unknown;
}

// ---- Supervisor --------------------------------------------------------------------------------------------------

/** What the supervisor runs. */
export interface ProcessSpec extends LaunchSpec {
  name: string;
  stopSignal: NodeJS.Signals;
  stopTimeout: number;
  /** (Added.) Readiness, checked after each (re)start until it passes or readyTimeout runs out: true, or why not yet. Not stored in the pid file. */
  ready?: (pid: number) => Promise<boolean | string> | boolean | string;
  /** (Added.) How long a start may take to become ready (default 30000 ms). */
  readyTimeout?: number;
}

/** A supervised service's life on this machine. */
export type RunState = "starting" | "running" | "backoff" | "failed" | "stopping" | "stopped";

export interface ProcessStatus {
  name: string;
  pid: number | undefined;
  state: RunState;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | undefined;
  lastError: string | undefined;
  /** (Added.) The readiness check passed since the last (re)start. */
  ready?: boolean;
  /** (Added.) When the current process started (ISO time). */
  startedAt?: string | undefined;
  /** (Added.) Started by an earlier agent and adopted from its pid file. */
  adopted?: boolean;
}
