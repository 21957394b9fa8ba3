// The hub's own files, not its index: `pop call` never loads what only other commands use (introspection, watching).
import { loadHub } from "../hub/_hub.ts";
import { preloadRef, resolveFunction } from "../hub/_ref.ts";
import { CallError, DiscoveryError, locate, messageOf, PluginLoadError, PopError, quote, RefError, TimeoutError } from "../errors.ts";
import { jsonReplacer, log } from "../output.ts";
import { type Command, settled, UsageError } from "./_args.ts";
import { EXIT } from "./_commands.ts";
import { HUB_ARGS, hubOptions } from "./_hubargs.ts";
import { out } from "./_output.ts";

const PATH = "pop call";

/** `pop call REF [KEY=VALUE]... [--args JSON]`: call one function and print its result. */
const call: Command = {
  meta: {
    name: "call",
    description: "Call one function by ref and print its result",
    examples: [
      "pop call rpc.math.fib num=11 --plugins examples/poppy",
      "pop call rpc.math.fib --args '[{\"num\": 11}]' --plugins examples/poppy --json",
      "pop call rpc.math.fib --args @args.json --plugins examples/poppy",
    ],
  },
  args: {
    ref: { type: "positional", description: "The function's ref, e.g. rpc.math.fib" },
    params: {
      type: "positional",
      rest: true,
      required: false,
      description: "KEY=VALUE pairs building the object argument (values parsed as JSON where they parse)",
    },
    args: {
      type: "string",
      valueHint: "JSON",
      description: "Positional arguments as a JSON array (instead of KEY=VALUE); @FILE reads it from a file, - from stdin",
    },
    ...HUB_ARGS,
  },
  async run({ args }) {
    const ref = args.ref as string;
    if (hasControl(ref)) throw new UsageError(`invalid ref ${quote(ref)}: expected dotted names like "rpc.math.fib"`, PATH, { hint: false });
    const callArgs = await buildArgs(args.params as string[], args.args as string | undefined);
    // Warnings wait until the ref resolves, so the target's own load failure is printed once, as the error.
    let held: Array<[string, Record<string, unknown> | undefined]> | undefined = [];
    const warn = (m: string, fields?: Record<string, unknown>) => (held ? held.push([m, fields]) : log.warn(m, fields));
    const release = (except?: unknown) => {
      const target = except instanceof PluginLoadError ? `module "${except.ref}"` : undefined;
      for (const [m, fields] of held ?? []) if (!target || !m.includes(target)) log.warn(m, fields);
      held = undefined;
    };
    let fn;
    try {
      // --strict means any load failure is fatal, so every plugin is loaded, not just the one called.
      const hub = await loadHub({ ...hubOptions(args, PATH), warn, ...(args.strict ? { load: "eager" as const } : {}) });
      await preloadRef(hub, ref);
      fn = resolveFunction(hub, ref);
      release();
    } catch (e) {
      release(e);
      throw loadFailure(e);
    }
    let result: unknown;
    try {
      const r = fn(...callArgs);
      result = r instanceof Promise ? await settled(r) : r; // a sync result: no promise, no timer
    } catch (e) {
      throw callFailure(ref, e);
    }
    const text = printable(ref, result, Boolean(args.json));
    if (text !== undefined) out(text);
    return EXIT.ok;
  },
};

// The failure paths live in functions of their own: a compiled pop pays for every byte of a function's bytecode on
// its first call (docs/benchmarks.md), so what a successful call never runs stays out of run().

/** Whether `text` holds a control character (C0, DEL or C1). A loop, not a regex: the first regex a process runs costs a compiled pop ~0.15 ms. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** A ref that does not resolve, or a plugin root that is no folder, is the user's mistake: a usage error. */
function loadFailure(e: unknown): unknown {
  if (e instanceof RefError) return new UsageError(e.message, PATH, { hint: false, cause: e });
  if (e instanceof DiscoveryError) return new UsageError(e.message, PATH, { cause: e, hint: false });
  return e;
}

/** --timeout's own error names the ref already; anything else is the function's failure. */
function callFailure(ref: string, e: unknown): unknown {
  if (e instanceof TimeoutError && e.message.startsWith(`call "${ref}"`)) return e;
  return new CallError(ref, e, locate(e));
}

/** The result as pop call prints it: plain scalars as JSON prints them (no trip through JSON.stringify's replacer), the rest as JSON. */
function printable(ref: string, result: unknown, json: boolean): string | undefined {
  if (!json && (typeof result === "string" || result === undefined)) return result;
  if (!json && typeof result === "bigint") return String(result); // as JSON it is a string, "10"; as text, 10
  if ((typeof result === "number" && Number.isFinite(result)) || typeof result === "boolean" || result === null) return String(result);
  if (!json && typeof result === "number") return String(result); // NaN, Infinity: as text they are what they are
  try {
    return JSON.stringify(result, resultReplacer, 2) ?? "null";
  } catch (e) {
    const why = e instanceof Lossy ? e.message : `${messageOf(e).replace(/\.$/, "")}; return plain data (no cycles) from it`;
    throw new PopError(`${quote(ref)} returned a value that cannot be printed as JSON: ${why}`, { cause: e });
  }
}

/** A value JSON would turn into null without a word (NaN, Infinity): the result would be wrong, not just ugly. */
class Lossy extends Error {}

/** pop's JSON of a result (errors, bigints, maps, sets as the log's JSON has them), typed arrays as arrays, NaN and Infinity refused. */
function resultReplacer(key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value))
    throw new Lossy(`${value}${key ? ` (at key ${JSON.stringify(key)})` : ""} has no JSON form; return a finite number, a string or null`);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? String(x) : x));
  return jsonReplacer(key, value);
}

export default call;

/**
 * The call's arguments: one object from KEY=VALUE pairs, or the --args JSON array (given inline, as `@FILE`, or as
 * `-` for stdin: for arguments beyond the OS's command-line limit).
 */
export async function buildArgs(pairs: string[], json: string | undefined): Promise<unknown[]> {
  if (json !== undefined) return jsonArgs(pairs, json);
  return pairs.length === 0 ? [] : [pairObject(pairs)];
}

/** --args JSON (inline, @FILE or - for stdin): a JSON array of positional arguments. */
async function jsonArgs(pairs: string[], json: string): Promise<unknown[]> {
  if (pairs.length > 0) throw new UsageError(`give KEY=VALUE pairs or --args, not both (got ${quote(pairs[0]!)} and --args)`, PATH);
  const [text, from] = json === "-" || json.startsWith("@") ? await argsText(json) : [json, "--args"];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${from} is not valid JSON: ${messageOf(e)}; pass an array, e.g. --args '[{"num": 11}]'`, PATH);
  }
  if (!Array.isArray(parsed)) throw new UsageError(`${from} must be a JSON array of positional arguments, e.g. '[{"num": 11}]'; got ${clip(text)}`, PATH);
  return parsed;
}

/** KEY=VALUE pairs: one object, values parsed as JSON where they parse. */
function pairObject(pairs: string[]): Record<string, unknown> {
  // Keys are defined, not assigned: "__proto__" is a key like any other (assigning it would set the object's
  // prototype), and so are "constructor" and "prototype".
  const obj: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`${quote(p)} is not KEY=VALUE; write e.g. num=11, or pass --args JSON`, PATH);
    const raw = p.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // kept as a string
    }
    Object.defineProperty(obj, p.slice(0, eq), { value, enumerable: true, writable: true, configurable: true });
  }
  return obj;
}

/** The text of --args and how to name it in an error: inline JSON, `@FILE`, or `-` (stdin). */
async function argsText(spec: string): Promise<[string, string]> {
  if (spec === "-") {
    try {
      return [await Bun.stdin.text(), "--args - (stdin)"];
    } catch (e) {
      throw new UsageError(`cannot read --args from stdin: ${messageOf(e)}`, PATH, { hint: false });
    }
  }
  if (!spec.startsWith("@")) return [spec, "--args"];
  const file = spec.slice(1);
  if (file === "") throw new UsageError('--args "@" names no file; write --args @FILE (a JSON array in FILE), or --args - to read stdin', PATH);
  try {
    return [await Bun.file(file).text(), `--args file ${quote(file)}`];
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a folder" : messageOf(e);
    throw new UsageError(`cannot read --args file ${quote(file)}: ${why}`, PATH, { hint: false });
  }
}

/** A user's text for an error message: quoted, and cut when long. */
function clip(text: string): string {
  const t = text.trim();
  return quote(t.length > 80 ? `${t.slice(0, 77)}...` : t);
}
