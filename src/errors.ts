// pop's one error hierarchy. Every error pop's own code lets reach a user is a PopError: a stable `code` for
// scripts and tests, an `exitCode` for the CLI, and a message that says what was wrong, where, and how to fix it.
// The CLI turns any thrown value into an exit code in one place (`exitCodeOf`, used by src/cli/_main.ts).
// Nothing here imports anything: every tool (hub, config, CLI, the coming deploy agent) can depend on it.

/** The longest timer setTimeout can set (2^31 - 1 ms); a longer one fires after 1 ms. Every timeout option is bounded by it. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Exit codes, stable for scripts; `pop --help` lists them (EXIT_HELP). */
export const EXIT = {
  ok: 0,
  /** The work failed: a called function threw, a plugin failed to load under --strict, a shutdown hook failed. */
  failure: 1,
  /** Usage error: unknown command, option or ref, a bad argument or config value. */
  usage: 2,
  /** ZooKeeper could not be reached, or the session was lost: nothing was changed that the message does not name; retry. */
  zookeeper: 3,
  /** Interrupted by SIGINT (128 + 2): the hub was closed first. */
  sigint: 130,
  /** Terminated by SIGTERM (128 + 15): the hub was closed first. */
  sigterm: 143,
} as const;

/** What `pop --help` prints under "Exit codes:". */
export const EXIT_HELP: Array<[number, string]> = [
  [EXIT.ok, "success"],
  [
    EXIT.failure,
    "the work failed: a called function threw, a plugin failed to load (under --strict) or timed out, a shutdown hook failed, output could not be written",
  ],
  [EXIT.usage, "usage error: unknown command or option, unknown ref, a bad argument, a bad config value or file"],
  [EXIT.zookeeper, "ZooKeeper could not be reached or the session was lost (deploy commands): safe to retry"],
  [EXIT.sigint, "interrupted (SIGINT): the hub was closed, its __shutdown__ hooks run"],
  [EXIT.sigterm, "terminated (SIGTERM): the hub was closed, its __shutdown__ hooks run (pop serve exits 0 once drained)"],
];

/** Options every PopError takes. */
export interface PopErrorOptions {
  cause?: unknown;
}

/** The base of every error pop reports. `code` is stable (scripts may match it); `exitCode` is what the CLI exits with. */
export class PopError extends Error {
  override name = "PopError";
  readonly code: string = "POP_ERROR";
  readonly exitCode: number = EXIT.failure;
  constructor(message: string, options?: PopErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** A mistake in how pop was invoked (exit 2): one line and, unless `hint: false`, a pointer to the command's help. */
export class UsageError extends PopError {
  override name = "UsageError";
  override readonly code: string = "POP_USAGE";
  override readonly exitCode: number = EXIT.usage;
  /** The command whose `--help` to point at, e.g. "pop call". */
  readonly command: string;
  readonly hint: boolean;
  constructor(message: string, command: string, options?: PopErrorOptions & { hint?: boolean }) {
    super(message, options);
    this.command = command;
    this.hint = options?.hint ?? true;
  }
}

/** A configuration mistake the user can fix: a bad value, flag, file or definition (exit 2). */
export class ConfigError extends PopError {
  override name = "ConfigError";
  override readonly code: string = "POP_CONFIG";
  override readonly exitCode: number = EXIT.usage;
}

/** A mistake in where plugins come from: a --plugins folder that is not one, a bad conf.ts DYNE (exit 2). */
export class DiscoveryError extends PopError {
  override name = "DiscoveryError";
  override readonly code: string = "POP_DISCOVERY";
  override readonly exitCode: number = EXIT.usage;
}

/** A ref names nothing on the hub (exit 2); `suggestion` is the closest ref that exists. */
export class RefError extends PopError {
  override name = "RefError";
  override readonly code: string = "POP_REF";
  override readonly exitCode: number = EXIT.usage;
  readonly ref: string;
  readonly suggestion: string | undefined;
  constructor(message: string, ref: string, suggestion?: string, options?: PopErrorOptions) {
    super(message, options);
    this.ref = ref;
    this.suggestion = suggestion;
  }
}

/** Where a problem sits in a plugin file. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** A plugin module (or contract) could not be loaded (exit 1); `reason` is the one-line cause. */
export class PluginLoadError extends PopError {
  override name = "PluginLoadError";
  override readonly code: string = "POP_PLUGIN_LOAD";
  readonly ref: string;
  readonly location: SourceLocation;
  readonly reason: string;
  constructor(ref: string, location: SourceLocation, reason: string, options?: PopErrorOptions) {
    const line = oneLine(reason) || "no reason given";
    super(`${formatLocation(location)}: module "${ref}" not loaded: ${line}`, options);
    this.ref = ref;
    this.location = location;
    this.reason = line;
  }
}

/** A call's arguments or return value failed a schema contract (exit 1 from `pop call`). */
export class ContractError extends PopError {
  override name = "ContractError";
  override readonly code: string = "POP_CONTRACT";
  readonly ref: string;
  readonly field: string;
  /** The function's arguments were refused (not its return value): the caller's mistake. */
  readonly argument: boolean;
  constructor(message: string, ref: string, field: string, options?: PopErrorOptions, argument = false) {
    super(message, options);
    this.ref = ref;
    this.field = field;
    this.argument = argument;
  }
}

/** Something did not settle in time: an import, an `__init__`, a `__shutdown__` (exit 1). `what` names it. */
export class TimeoutError extends PopError {
  override name = "TimeoutError";
  override readonly code: string = "POP_TIMEOUT";
  readonly ms: number;
  constructor(message: string, ms: number, options?: PopErrorOptions) {
    super(message, options);
    this.ms = ms;
  }
}

/** Closing the hub: one or more `__shutdown__` hooks threw or timed out; every one is in `errors` (exit 1). */
export class ShutdownError extends PopError {
  override name = "ShutdownError";
  override readonly code: string = "POP_SHUTDOWN";
  readonly errors: Error[];
  constructor(errors: Error[]) {
    super(errors.length === 1 ? errors[0]!.message : `${errors.length} shutdown hooks failed: ${errors.map((e) => e.message).join("; ")}`);
    this.errors = errors;
  }
}

/** Data could not be written to stdout (a full disk, a closed pipe): the result is lost, so it is a failure (exit 1). */
export class OutputError extends PopError {
  override name = "OutputError";
  override readonly code: string = "POP_OUTPUT";
}

/** A function pop called for the user threw (`pop call`'s ref): exit 1, whatever it threw; the message names the ref, `cause` holds the original. */
export class CallError extends PopError {
  override name = "CallError";
  override readonly code: string = "POP_CALL";
  readonly ref: string;
  /** `where` (e.g. `file:line:col: `) goes before the message when the plugin's own frame is known. */
  constructor(ref: string, cause: unknown, where = "") {
    super(`${where}${quote(ref)} failed: ${messageOf(cause)}`, { cause });
    this.ref = ref;
  }
}

/** An error thrown where no caller could catch it (a timer, a promise nobody awaited): `where` names the plugin's line. */
export class UncaughtError extends PopError {
  override name = "UncaughtError";
  override readonly code: string = "POP_UNCAUGHT";
  constructor(cause: unknown, what = "") {
    super(`${locate(cause)}uncaught error${what}: ${messageOf(cause)}`, { cause });
  }
}

/** A plugin called `process.exit()` while pop was loading or running it: turned into an error of that module. */
export class ExitCalledError extends PopError {
  override name = "ExitCalledError";
  override readonly code: string = "POP_EXIT_CALLED";
  readonly requested: number;
  constructor(message: string, requested: number) {
    super(message);
    this.requested = requested;
  }
}

/** An isolated sub's worker or child process failed: it crashed, was killed, went over its memory limit or could not start (exit 1). `sub` names it. */
export class IsolateError extends PopError {
  override name = "IsolateError";
  override readonly code: string = "POP_ISOLATE";
  readonly sub: string;
  constructor(message: string, sub: string, options?: PopErrorOptions) {
    super(message, options);
    this.sub = sub;
  }
}

/** A remote sub's pop serve could not be reached, or answered something that is not the pop serve protocol (exit 1). `url` names it. */
export class RemoteError extends PopError {
  override name = "RemoteError";
  override readonly code: string = "POP_REMOTE";
  readonly url: string;
  constructor(message: string, url: string, options?: PopErrorOptions) {
    super(message, options);
    this.url = url;
  }
}

/**
 * ZooKeeper could not be reached in time, or the session was lost (exit 3, so scripts can retry). `zkCode` is
 * ZooKeeper's own error name where there is one (CONNECTION_LOSS, SESSION_EXPIRED, ...).
 */
export class ZooKeeperError extends PopError {
  override name = "ZooKeeperError";
  override readonly code: string = "POP_ZOOKEEPER";
  override readonly exitCode: number = EXIT.zookeeper;
  readonly path: string | undefined;
  readonly zkCode: string | undefined;
  constructor(message: string, options?: PopErrorOptions & { path?: string; zkCode?: string }) {
    super(message, options);
    this.path = options?.path;
    this.zkCode = options?.zkCode;
  }
}

/** The exit code for anything thrown: a PopError's own, else 1. */
export function exitCodeOf(e: unknown): number {
  return e instanceof PopError ? e.exitCode : EXIT.failure;
}

/** A one-line text for anything thrown, never `[object Object]`: Errors by message, other values as JSON where they print. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return oneLine(e.message) || e.name;
  if (typeof e === "string") return oneLine(e) || '""';
  if (e === undefined || e === null || typeof e !== "object") return String(e);
  const m = (e as { message?: unknown }).message;
  if (typeof m === "string" && m !== "") return oneLine(m);
  try {
    const s = JSON.stringify(e);
    if (s !== undefined) return s.length > 200 ? `${s.slice(0, 197)}...` : s;
  } catch {
    // a cycle: fall through
  }
  return Object.prototype.toString.call(e);
}

/** A user's value quoted for a message, JSON-style: control characters escaped (`"a\\u0007b"`), so an error never echoes them raw. */
export function quote(value: string): string {
  return escapeControl(JSON.stringify(value));
}

const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
const SHORT: Record<string, string> = { "\b": "\\b", "\t": "\\t", "\f": "\\f", "\r": "\\r" };

/** Text with its control characters escaped JSON-style (`\t`, `\u001b`), newlines kept: what reaches a terminal is never a raw escape sequence. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A message on one line: the CLI prints one line per problem. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** `file:line:column`, or as much of it as is known. */
export function formatLocation(loc: SourceLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  return s;
}

/** A word as a POSIX shell reads it back: as it is when safe, else single-quoted (for commands pop prints to run). */
export function shellWord(p: string): string {
  return /^[\w./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** `file:line:column: ` of the first stack frame in a file on disk (the plugin's own code, not pop's), or "". */
export function locate(e: unknown): string {
  const stack = e instanceof Error ? e.stack : undefined;
  if (!stack) return "";
  for (const line of stack.split("\n").slice(1)) {
    const m = /((?:\/|[A-Za-z]:[\\/])[^():]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m || m[1]!.includes("$bunfs") || m[1]!.includes("~BUN")) continue;
    // Relative to the working directory when inside it, else as it is (no path module: errors.ts is on every start-up).
    const cwd = `${process.cwd()}/`;
    const file = m[1]!.startsWith(cwd) ? m[1]!.slice(cwd.length) : m[1]!;
    return `${file}:${m[2]}:${m[3]}: `;
  }
  return "";
}
