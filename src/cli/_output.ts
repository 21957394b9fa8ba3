import { writeStderr } from "../_fs.ts";

/** Colour only on a terminal (fd 1 stdout, 2 stderr), and never with NO_COLOR or TERM=dumb. */
export function useColor(fd: 1 | 2): boolean {
  const env = process.env;
  return (require("node:tty") as typeof import("node:tty")).isatty(fd) && env.NO_COLOR === undefined && env.TERM !== "dumb" && env.FORCE_COLOR !== "0";
}

/** ANSI styles that vanish when colour is off. */
export function styles(on: boolean) {
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

// console.log/console.error, not process.stdout/stderr: touching the Node streams costs ~10 ms of start-up in a compiled Bun executable.

/** Write data to stdout (one trailing newline). */
export function out(text: string): void {
  console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
}

/** Write a diagnostic to stderr, prefixed with `pop: `. */
export function err(text: string): void {
  errRaw(`pop: ${text}`);
}

/**
 * Write a line to stderr as is. Not console.error: Bun paints it red whenever FORCE_COLOR is set or
 * stderr is a terminal, even with NO_COLOR or TERM=dumb; a synchronous write also survives process.exit.
 */
export function errRaw(text: string): void {
  writeStderr(text.endsWith("\n") ? text : `${text}\n`);
}

/** Print JSON data to stdout. */
export function outJson(value: unknown): void {
  out(toJson(value));
}

/** JSON text for any result: Errors, bigints, Maps and Sets included; `null` for undefined. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer, 2) ?? "null";
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}
