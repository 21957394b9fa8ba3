// The hub's own files, not its index: `pop call` never loads what only other commands use (introspection, watching).
import { loadHub } from "../hub/_hub.ts";
import { preloadRef, resolveFunction } from "../hub/_ref.ts";
import { DiscoveryError, messageOf, PluginLoadError, quote, RefError } from "../errors.ts";
import { log } from "../output.ts";
import { type Command, UsageError } from "./_args.ts";
import { callResult, ending, hasControl, never, pairObject } from "./_callcore.ts";
import { callFailure, printable } from "./_result.ts";
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
      for (const [m, fields] of held ?? []) if (!saidBy(except, m, fields)) log.warn(m, fields);
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
    if (ending.now) return never(); // an error no caller caught while the plugins loaded: pop is ending
    let result: unknown;
    try {
      result = await callResult(() => fn(...callArgs));
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

/**
 * Whether the error the call fails with says warning `m` already: the target module's own load failure, or the
 * failure a warning's `ref` stands for ("calc.*": every module of an unreachable remote sub).
 */
function saidBy(except: unknown, m: string, fields: Record<string, unknown> | undefined): boolean {
  if (!(except instanceof PluginLoadError)) return false;
  const ref = fields?.ref;
  if (ref === except.ref || (typeof ref === "string" && ref.endsWith(".*") && except.ref.startsWith(ref.slice(0, -1)))) return true;
  return m.includes(`module "${except.ref}"`);
}

/** A ref that does not resolve, or a plugin root that is no folder, is the user's mistake: a usage error. */
function loadFailure(e: unknown): unknown {
  if (e instanceof RefError) return new UsageError(e.message, PATH, { hint: false, cause: e });
  if (e instanceof DiscoveryError) return new UsageError(e.message, PATH, { cause: e, hint: false });
  return e;
}

export default call;

/**
 * The call's arguments: one object from KEY=VALUE pairs, or the --args JSON array (given inline, as `@FILE`, or as
 * `-` for stdin: for arguments beyond the OS's command-line limit).
 */
export async function buildArgs(pairs: string[], json: string | undefined): Promise<unknown[]> {
  if (json !== undefined) return jsonArgs(pairs, json);
  return pairs.length === 0 ? [] : [pairsArg(pairs)];
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
function pairsArg(pairs: string[]): Record<string, unknown> {
  const r = pairObject(pairs);
  if ("bad" in r) throw new UsageError(`${quote(r.bad)} is not KEY=VALUE; write e.g. num=11, or pass --args JSON`, PATH);
  if ("again" in r) throw new UsageError(`${quote(r.again)} gives a key ${quote(r.first)} gave already; give each key once`, PATH);
  return r.obj;
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
