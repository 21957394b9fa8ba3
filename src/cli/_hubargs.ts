import type { ArgDef } from "./_args.ts";
import { UsageError } from "./_args.ts";

/** The options every hub command takes. */
export const HUB_ARGS: Record<string, ArgDef> = {
  plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Add a plugin root: a folder whose sub-folders are subs" },
  disable: { type: "string", multiple: true, valueHint: "REF", description: "Leave a sub or module out, e.g. rpc.math" },
  strict: { type: "boolean", description: "Load every plugin and make any load failure fatal (exit 1, same message)" },
  json: { type: "boolean", description: "Print data as JSON" },
};

/** loadHub options from parsed hub flags and the environment. */
export function hubOptions(args: Record<string, any>, path: string) {
  const disable: Array<{ ref: string; source: string }> = [];
  for (const ref of (process.env.POP_DISABLE ?? "").split(",").map((x) => x.trim()).filter(Boolean)) disable.push({ ref, source: "POP_DISABLE" });
  for (const ref of args.disable as string[]) {
    if (!/^[\w$-]+(\.[\w$-]+)*$/.test(ref)) throw new UsageError(`--disable "${ref}" is not a ref like "rpc.math"`, path);
    disable.push({ ref, source: "--disable" });
  }
  return {
    plugins: args.plugins as string[],
    env: process.env,
    cwd: process.cwd(),
    strict: Boolean(args.strict),
    disable,
  };
}
