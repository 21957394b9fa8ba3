// pop's one output module: data on stdout, diagnostics on stderr, in one place for every tool.
//
// - Data (`out`, `outJson`) goes to stdout through one FileSink (Bun.stdout.writer()), whose failures (a full disk, a closed pipe) are
//   caught: `flushOutput()` throws an OutputError, so a lost result is never an exit 0.
// - Diagnostics (`log.error/warn/info/debug/trace`) go to stderr, filtered by level, as `pop: ...` text lines or,
//   in JSON mode, one JSON object per line ({ time, level, msg, ...fields }), and also to a log file when one is set.
//   The mode is `text`, `json`, or `auto` (JSON lines when stderr is not a terminal: what a daemon under systemd or a
//   log collector wants). One-shot commands use text, `--json` switches them to JSON lines; POP_LOG_FORMAT and
//   POP_LOG_LEVEL override both (`configureFromEnv`). Under `--json`, `keepStdoutForData()` sends a plugin's console
//   output to stderr.
// - `report(e)` is the error funnel: it prints any thrown value once (its stack and causes under POP_DEBUG) and
//   returns its exit code.
//
// consola, the design card's logger, is not used: it writes through process.stdout/stderr, and touching those Node
// streams costs ~10 ms of a compiled pop's start-up (3 to 4 ms in all for `pop --version`); it also colours output
// whenever FORCE_COLOR is set, which NO_COLOR must override. What pop needs of a logger is the sixty lines below.
import { writeStderr } from "./_fs.ts";
import { escapeControl, EXIT, exitCodeOf, messageOf, OutputError, PopError, quote, UsageError } from "./errors.ts";

export type Level = "error" | "warn" | "info" | "debug" | "trace";
export type LogFormat = "text" | "json" | "auto";

const LEVELS: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };
export const LOG_LEVELS = Object.keys(LEVELS) as Level[];
export const LOG_FORMATS: LogFormat[] = ["text", "json", "auto"];

interface OutputState {
  level: number;
  format: LogFormat;
  file: string | undefined;
  /** The pending stdout writes, chained so data keeps its order. */
  pending: Promise<unknown> | undefined;
  failed: unknown;
}

const st: OutputState = { level: LEVELS.info, format: "text", file: undefined, pending: undefined, failed: undefined };

/** Set where and how diagnostics go. Unset fields keep their value. */
export function configureOutput(o: { level?: Level; format?: LogFormat; json?: boolean; file?: string | undefined }): void {
  if (o.level !== undefined) st.level = LEVELS[o.level];
  if (o.format !== undefined) st.format = o.format;
  if (o.json) st.format = "json";
  if ("file" in o) st.file = o.file;
}

/** The current settings (what a child process or worker should inherit). */
export function outputSettings(): { level: Level; format: LogFormat; file: string | undefined } {
  return { level: LOG_LEVELS[st.level]!, format: st.format, file: st.file };
}

/**
 * Apply POP_LOG_FORMAT (text, json, auto) and POP_LOG_LEVEL (error, warn, info, debug, trace) from `env`: they override
 * what flags chose. Valid values apply; the first bad one is returned (the CLI makes it a usage error), else undefined.
 */
export function configureFromEnv(env: Record<string, string | undefined>): string | undefined {
  const format = env.POP_LOG_FORMAT?.trim().toLowerCase();
  const level = env.POP_LOG_LEVEL?.trim().toLowerCase();
  let problem: string | undefined;
  if (format) {
    if ((LOG_FORMATS as string[]).includes(format)) st.format = format as LogFormat;
    else problem = `invalid value for POP_LOG_FORMAT: ${quote(env.POP_LOG_FORMAT!)}; choose from ${LOG_FORMATS.join(", ")}`;
  }
  if (level) {
    if (Object.hasOwn(LEVELS, level)) st.level = LEVELS[level as Level];
    else problem ??= `invalid value for POP_LOG_LEVEL: ${quote(env.POP_LOG_LEVEL!)}; choose from ${LOG_LEVELS.join(", ")}`;
  }
  return problem;
}

/**
 * Keep stdout for data: console.log, info, debug, dir, dirxml, table, count, group and trace (which Bun writes to
 * stdout) go to stderr from now on, so a plugin's logging cannot corrupt `--json` output. On Linux and macOS file
 * descriptor 1 itself is pointed at stderr too (dup2 through bun:ffi, ~0.3 ms), so `process.stdout.write`,
 * `Bun.write(Bun.stdout)` and child processes inheriting stdout cannot either; pop's own data goes to a copy of the
 * original stdout. (Redirecting process.stdout in JavaScript would mean touching it: ~10 ms of a compiled pop's run.)
 */
export function keepStdoutForData(): void {
  kept = true;
  dataFd ??= moveStdout();
  const c = console as unknown as Record<string, unknown>;
  const toErr = console.error.bind(console);
  const counts = new Map<string, number>();
  c.log = c.info = c.debug = c.dirxml = toErr;
  c.dir = (value: unknown, options?: object) => toErr(Bun.inspect(value, options as Parameters<typeof Bun.inspect>[1]));
  c.table = (data: unknown, properties?: string[]) => {
    if (typeof data !== "object" || data === null) return toErr(data);
    toErr((properties ? Bun.inspect.table(data, properties) : Bun.inspect.table(data)).trimEnd());
  };
  c.count = (label = "default") => {
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    toErr(`${label}: ${n}`);
  };
  c.countReset = (label = "default") => void counts.delete(label);
  c.group = c.groupCollapsed = (...label: unknown[]) => void (label.length > 0 && toErr(...label));
  c.trace = (...args: unknown[]) =>
    toErr(
      `Trace${args.length ? ": " : ""}${args.map((a) => (typeof a === "string" ? a : Bun.inspect(a))).join(" ")}\n${(new Error().stack ?? "").split("\n").slice(2).join("\n")}`,
    );
}

let kept = false;

/** Whether keepStdoutForData() was called: pop owns stdout, so an isolated sub's side must keep off it too. */
export function stdoutKeptForData(): boolean {
  return kept;
}

/** Whether diagnostics are JSON lines now. */
export function jsonLogs(): boolean {
  return st.format === "json" || (st.format === "auto" && !isTty(2));
}

function isTty(fd: 1 | 2): boolean {
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** Colour only on a terminal (fd 1 stdout, 2 stderr), and never with a non-empty NO_COLOR (no-color.org), TERM=dumb or FORCE_COLOR=0. */
export function useColor(fd: 1 | 2): boolean {
  const env = process.env;
  return !env.NO_COLOR && env.TERM !== "dumb" && env.FORCE_COLOR !== "0" && isTty(fd);
}

/** ANSI styles that vanish when colour is off. */
export function styles(on: boolean) {
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

/** Extra structured fields of a log line (ref, file, line, code, ...). */
export type Fields = Record<string, unknown>;

function emit(level: Level, msg: string, fields?: Fields): void {
  if (LEVELS[level] > st.level) return;
  let line: string;
  if (jsonLogs()) {
    line = `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`;
  } else {
    const tag = level === "error" || level === "info" ? "" : level === "warn" ? "warning: " : `${level}: `;
    // A value echoed from a user or a plugin (a ref, a file name) must not reach the terminal as a raw control sequence.
    line = `pop: ${tag}${escapeControl(msg)}\n`;
  }
  writeStderr(line);
  if (st.file) appendLine(st.file, jsonLogs() ? line : `${new Date().toISOString()} ${level} ${msg}\n`);
}

function appendLine(file: string, line: string): void {
  try {
    (require("node:fs") as typeof import("node:fs")).appendFileSync(file, line);
  } catch (e) {
    const f = st.file;
    st.file = undefined; // say it once, not once per line
    writeStderr(`pop: cannot write the log file ${f}: ${messageOf(e)}\n`);
  }
}

/** Diagnostics on stderr (and the log file), by level. */
export const log = {
  error: (msg: string, fields?: Fields) => emit("error", msg, fields),
  warn: (msg: string, fields?: Fields) => emit("warn", msg, fields),
  info: (msg: string, fields?: Fields) => emit("info", msg, fields),
  debug: (msg: string, fields?: Fields) => emit("debug", msg, fields),
  trace: (msg: string, fields?: Fields) => emit("trace", msg, fields),
};

/** A line on stderr as is (help text, a usage banner): not a log line, never JSON. */
export function errRaw(text: string): void {
  writeStderr(text.endsWith("\n") ? text : `${text}\n`);
}

/** stdout as one FileSink, made on the first write and not keeping the process alive. */
let sink: import("bun").FileSink | undefined;
/** Where pop's data goes once keepStdoutForData moved fd 1 to stderr: a copy of the original stdout (null: not moved). */
let dataFd: number | null | undefined;

/** Point fd 1 at stderr, keeping a copy of stdout for pop's data; null where that cannot be done (no libc found: Windows, musl). */
function moveStdout(): number | null {
  // A worker shares the process's descriptors: its host has moved fd 1 already (or chose not to).
  if ((process.platform !== "linux" && process.platform !== "darwin") || !Bun.isMainThread) return null;
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    const fd = { args: [FFIType.i32], returns: FFIType.i32 } as const;
    const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
      dup: fd,
      dup2: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    });
    const copy = libc.symbols.dup(1);
    if (copy < 0) return null;
    if (libc.symbols.dup2(2, 1) < 0) return null;
    return copy;
  } catch {
    return null;
  }
}

/**
 * Write data to stdout, with one trailing newline. Writes keep their order; `flushOutput()` waits for them.
 * Through a FileSink, not `Bun.write(Bun.stdout)`: to a file that starts Bun's thread pool (three threads, ~0.5 ms of a
 * `pop call > out.json`); the sink writes on this thread and reports ENOSPC and EPIPE the same way.
 */
export function out(text: string): void {
  const data = text.endsWith("\n") ? text : `${text}\n`;
  const write = async () => {
    try {
      if (!sink) {
        sink = (dataFd ? Bun.file(dataFd) : Bun.stdout).writer();
        sink.unref();
      }
      // A write past the sink's buffer returns a promise, which carries that write's error.
      const wrote = sink.write(data) as number | Promise<number>;
      if (typeof wrote !== "number") await wrote;
      await sink.flush();
    } catch (e) {
      st.failed ??= e;
    }
  };
  st.pending = st.pending ? st.pending.then(write) : write();
}

/** Print JSON data to stdout. */
export function outJson(value: unknown): void {
  out(toJson(value));
}

/** Wait for every stdout write; a failed one throws an OutputError naming why. */
export async function flushOutput(): Promise<void> {
  while (st.pending) {
    const p = st.pending;
    await p;
    if (st.pending === p) st.pending = undefined;
  }
  if (st.failed !== undefined) {
    const e = st.failed;
    st.failed = undefined;
    throw outputError(e);
  }
}

/** The OutputError for a failed write to stdout, naming why (pop call's lean path, which writes on its own, reports it too). */
export function outputError(err: unknown): OutputError {
  const e = err as { code?: string };
  const why =
    e.code === "EPIPE"
      ? "stdout was closed before the output was written (EPIPE)"
      : e.code === "ENOSPC"
        ? "no space left on the device stdout writes to (ENOSPC)"
        : messageOf(e);
  return new OutputError(`cannot write the output: ${why}`, { cause: e });
}

/** JSON text for any result: Errors, bigints, Maps and Sets included; `null` for undefined. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer, 2) ?? "null";
}

/** How pop's JSON shows what JSON.stringify would not: errors, bigints (as strings), maps, sets. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

/** Structured fields of an error, for JSON log lines. */
function errorFields(e: unknown): Fields {
  const f: Fields = {};
  if (e instanceof PopError) {
    f.code = e.code;
    for (const k of ["ref", "field", "reason", "location", "command"] as const) if ((e as any)[k] !== undefined) f[k] = (e as any)[k];
    if (e.cause instanceof PopError) f.causeCode = e.cause.code;
  }
  f.exitCode = exitCodeOf(e);
  if (process.env.POP_DEBUG && e instanceof Error && e.stack) f.stack = e.stack;
  return f;
}

/** The stack of an error and of its causes, for POP_DEBUG. */
function stacks(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && depth < 5; depth++) {
    parts.push((depth ? "caused by: " : "") + (cur instanceof Error ? (cur.stack ?? `${cur.name}: ${cur.message}`) : messageOf(cur)));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join("\n");
}

/**
 * The error funnel: print anything thrown the CLI way (once, on stderr) and return its exit code. A UsageError
 * points at its command's help; under POP_DEBUG the stack and causes follow. `prefix` names what failed
 * (e.g. `"rpc.math.fib" failed`) for errors that are not pop's own; anything else that is not a PopError is a bug in
 * pop, printed as `internal error: ...` (code POP_INTERNAL), exit 1.
 */
export function report(e: unknown, prefix?: string): number {
  // An Error's own message may hold several lines (one per bad config value); other values get one line.
  let msg = e instanceof Error && e.message !== "" ? e.message.trimEnd() : messageOf(e);
  if (prefix && !(e instanceof PopError && !(e instanceof OutputError) && e.exitCode === EXIT.usage)) msg = `${prefix}: ${msg}`;
  // Not a PopError and nobody said what failed: a bug in pop itself, said so (the stack under POP_DEBUG).
  const internal = !prefix && !(e instanceof PopError);
  if (internal) msg = `internal error: ${messageOf(e)}`;
  if (e instanceof UsageError && e.hint && !jsonLogs()) msg += `\nrun "${e.command} --help" for usage`;
  emit("error", msg, internal ? { code: "POP_INTERNAL", ...errorFields(e) } : errorFields(e));
  if (process.env.POP_DEBUG && !jsonLogs()) errRaw(stacks(e));
  return exitCodeOf(e);
}
