import { DiscoveryError, loadHub, oneLine, PluginLoadError, preloadRef, RefError, resolveFunction } from "../hub/index.ts";
import { type Command, UsageError } from "./_args.ts";
import { EXIT } from "./_commands.ts";
import { HUB_ARGS, hubOptions } from "./_hubargs.ts";
import { err, errRaw, out, toJson } from "./_output.ts";

const PATH = "pop call";

/** `pop call REF [KEY=VALUE]... [--args JSON]`: call one function and print its result. */
const call: Command = {
  meta: {
    name: "call",
    description: "Call one function by ref and print its result",
    examples: ["pop call rpc.math.fib num=11 --plugins examples/poppy", "pop call rpc.math.fib --args '[{\"num\": 11}]' --plugins examples/poppy --json"],
  },
  args: {
    ref: { type: "positional", description: "The function's ref, e.g. rpc.math.fib" },
    params: { type: "positional", rest: true, required: false, description: "KEY=VALUE pairs building the object argument (values parsed as JSON where they parse)" },
    args: { type: "string", valueHint: "JSON", description: "Positional arguments as a JSON array (instead of KEY=VALUE)" },
    ...HUB_ARGS,
  },
  async run({ args }) {
    const callArgs = buildArgs(args.params as string[], args.args as string | undefined);
    const ref = args.ref as string;
    // Warnings wait until the ref resolves, so the target's own load failure is printed once, as the error.
    let held: string[] | undefined = [];
    const warn = (m: string) => (held ? held.push(m) : err(`warning: ${m}`));
    const release = (except?: unknown) => {
      const target = except instanceof PluginLoadError ? `module "${except.ref}"` : undefined;
      for (const m of held ?? []) if (!target || !m.includes(target)) err(`warning: ${m}`);
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
      if (e instanceof RefError) throw new UsageError(e.message, PATH, { hint: false, cause: e });
      if (e instanceof DiscoveryError) throw new UsageError(e.message, PATH, { cause: e, hint: false });
      throw e;
    }
    let result: unknown;
    try {
      result = await fn(...callArgs);
    } catch (e) {
      const error = e as Error | undefined;
      err(`"${ref}" failed: ${oneLine(error instanceof Error ? error.message : String(e))}`);
      if (process.env.POP_DEBUG && error instanceof Error && error.stack) errRaw(error.stack);
      return EXIT.failure;
    }
    let text: string | undefined;
    try {
      // Plain scalars print as JSON prints them, without a trip through JSON.stringify's replacer.
      if (!args.json && (typeof result === "string" || result === undefined)) text = result;
      else text = (typeof result === "number" && Number.isFinite(result)) || typeof result === "boolean" || result === null ? String(result) : toJson(result);
    } catch (e) {
      err(`"${ref}" returned a value that cannot be printed as JSON: ${oneLine((e as Error).message)}; return plain data (no cycles) from it`);
      return EXIT.failure;
    }
    if (text !== undefined) out(text);
    return EXIT.ok;
  },
};

export default call;

/** The call's arguments: one object from KEY=VALUE pairs, or the --args JSON array. */
export function buildArgs(pairs: string[], json: string | undefined): unknown[] {
  if (json !== undefined) {
    if (pairs.length > 0) throw new UsageError(`give KEY=VALUE pairs or --args, not both (got "${pairs[0]}" and --args)`, PATH);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new UsageError(`--args is not valid JSON: ${(e as Error).message}; pass an array, e.g. --args '[{"num": 11}]'`, PATH);
    }
    if (!Array.isArray(parsed)) throw new UsageError(`--args must be a JSON array of positional arguments, e.g. '[{"num": 11}]'; got ${json}`, PATH);
    return parsed;
  }
  if (pairs.length === 0) return [];
  const obj: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`"${p}" is not KEY=VALUE; write e.g. num=11, or pass --args JSON`, PATH);
    const raw = p.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // kept as a string
    }
    obj[p.slice(0, eq)] = value;
  }
  return [obj];
}
