import { nodeFs } from "../_fs.ts";
import { join, sep } from "../_path.ts";
import { oneLine, PopError, type SourceLocation } from "../errors.ts";

export { ContractError, formatLocation, oneLine, PluginLoadError, RefError, type SourceLocation } from "../errors.ts";

/** Describe an error thrown while importing or initialising `file`: its message and the line in that file. */
export function describeThrow(err: unknown, file: string): { reason: string; location: SourceLocation } {
  // Several syntax errors arrive as one AggregateError of BuildMessages: report the first, with its line.
  const many = (err as { errors?: unknown[] } | null)?.errors;
  if (err instanceof AggregateError && Array.isArray(many) && many.length > 0) {
    const first = describeThrow(many[0], file);
    return many.length > 1 ? { ...first, reason: `${first.reason} (and ${many.length - 1} more error${many.length > 2 ? "s" : ""})` } : first;
  }
  const e = err as {
    name?: string;
    message?: string;
    position?: { file?: string; line?: number; column?: number } | null;
    stack?: string;
    constructor?: { name?: string };
  };
  // A file pop may not read: Bun says "BuildMessage: EACCES reading ..."; say it plainly, with the fix.
  if (e && typeof e === "object" && /^(EACCES|EPERM) reading /.test(String(e.message ?? ""))) {
    return { reason: `cannot read the file (permission denied): make it readable (chmod a+r ${file})`, location: { file } };
  }
  // Bun reports syntax errors as BuildMessage / ResolveMessage with a position.
  if (e && typeof e === "object" && e.position && typeof e.position.line === "number") {
    const kind = e.constructor?.name === "ResolveMessage" ? "cannot resolve import" : "syntax error";
    return {
      reason: `${kind}: ${e.message ?? String(err)}`,
      location: { file: e.position.file || file, line: e.position.line, ...(e.position.column !== undefined ? { column: e.position.column } : {}) },
    };
  }
  // An import that does not resolve: Bun gives no position, so find the specifier in the file.
  if (e && typeof e === "object" && typeof (e as { specifier?: unknown }).specifier === "string" && e.constructor?.name === "ResolveMessage") {
    const { specifier, referrer } = e as { specifier: string; referrer?: string };
    // pop's own import of the plugin file failed to resolve: the file itself is not there (a dangling link).
    if (!referrer || referrer.includes("$bunfs") || referrer.includes("~BUN")) return { reason: missingFile(specifier), location: { file: specifier } };
    const fix = /^[./]/.test(specifier) ? "check the path" : `install it where the plugin can find it (npm install ${specifier})`;
    return { reason: `cannot resolve import: ${oneLine(e.message ?? "")}; ${fix}`, location: locateText(referrer || file, specifier) };
  }
  const message = e && typeof e === "object" && "message" in e ? `${e.name || "Error"}: ${e.message}` : String(err);
  return { reason: `threw ${oneLine(message)}`, location: locateInStack(typeof e?.stack === "string" ? e.stack : "", file) };
}

/** Why a plugin file pop listed cannot be imported: a link to nothing, or gone since it was listed. */
function missingFile(file: string): string {
  const fs = require("node:fs") as typeof import("node:fs");
  try {
    if (fs.lstatSync(file).isSymbolicLink()) return `it is a link to ${JSON.stringify(fs.readlinkSync(file))}, which does not exist: fix or remove the link`;
  } catch {
    // gone
  }
  return "the file is gone (removed since the sub was listed)";
}

/** The first stack frame inside `file`, else the first in a file of the plugin's own (a helper it imports, a package), as a location. */
export function locateInStack(stack: string, file: string): SourceLocation {
  const lines = stack.split("\n");
  for (const line of lines) {
    const at = line.indexOf(file);
    if (at < 0) continue;
    const m = /^:(\d+)(?::(\d+))?/.exec(line.slice(at + file.length));
    if (m) return { file, line: Number(m[1]), ...(m[2] ? { column: Number(m[2]) } : {}) };
  }
  for (const line of lines) {
    const m = /^\s+at (?:.*\()?(\/[^()]+?):(\d+):(\d+)\)?$/.exec(line);
    if (m && !isPopOwn(m[1]!)) return { file: m[1]!, line: Number(m[2]), column: Number(m[3]) };
  }
  return { file };
}

/** pop's own files: the executable's embedded ones, or this checkout's src/ and plugins/pop/ when run from source. */
function isPopOwn(path: string): boolean {
  if (path.startsWith("/$bunfs/")) return true;
  // Worked out on first use, not when the module loads: it is on pop call's start-up path.
  own ??= [join(import.meta.dir, "..") + sep, join(import.meta.dir, "../../plugins/pop") + sep];
  return path.startsWith(own[0]) || path.startsWith(own[1]);
}

/** src/ and plugins/pop/ of the checkout pop runs from (from source, not the executable). */
let own: [string, string] | undefined;

/** The first line of `file` quoting `text`, as a location (the file alone when it cannot be read or found). */
function locateText(file: string, text: string): SourceLocation {
  let source: string;
  try {
    source = nodeFs().readFileSync(file, "utf8");
  } catch {
    return { file };
  }
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    for (const q of ['"', "'", "`"]) {
      const col = line.indexOf(q + text + q);
      if (col >= 0) return { file, line: i + 1, column: col + 1 };
    }
  }
  return { file };
}

/** A ref into a sub or module that was disabled on request (--disable, POP_DISABLE, a conf.ts DISABLE): exit 1. */
export class DisabledError extends PopError {
  override name = "DisabledError";
  override readonly code: string = "POP_DISABLED";
  readonly ref: string;
  constructor(message: string, ref: string) {
    super(message);
    this.ref = ref;
  }
}
