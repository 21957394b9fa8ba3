import type { ArgDef } from "./_args.ts";
import { UsageError } from "./_args.ts";
import { quote } from "../errors.ts";

/** The default of --load-timeout (and POP_LOAD_TIMEOUT), in milliseconds. */
export const LOAD_TIMEOUT_MS = 30_000;

/** The options every hub command takes. */
export const HUB_ARGS: Record<string, ArgDef> = {
  plugins: { type: "string", multiple: true, valueHint: "DIR", description: "Add a plugin root: a folder whose sub-folders are subs" },
  disable: { type: "string", multiple: true, valueHint: "REF", description: "Leave a sub or module out, e.g. rpc.math" },
  strict: { type: "boolean", description: "Load every plugin and make any load failure fatal (exit 1, same message)" },
  packages: { type: "boolean", negatable: true, description: 'Do not discover plugin roots from package.json dependencies (a "pop" field)' },
  "load-timeout": {
    type: "string",
    valueHint: "MS",
    description: `Fail a module whose import or __init__ has not settled after MS milliseconds (default ${LOAD_TIMEOUT_MS}, 0 for none; env POP_LOAD_TIMEOUT)`,
  },
  json: { type: "boolean", description: "Print data as JSON; diagnostics on stderr become JSON lines" },
};

/** loadHub options from parsed hub flags and the environment. */
export function hubOptions(args: Record<string, any>, path: string) {
  const disable: Array<{ ref: string; source: string }> = [];
  for (const ref of (process.env.POP_DISABLE ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean))
    disable.push({ ref, source: "POP_DISABLE" });
  for (const ref of (args.disable ?? []) as string[]) {
    if (!/^[\w$-]+(\.[\w$-]+)*$/.test(ref)) throw new UsageError(`--disable ${quote(ref)} is not a ref like "rpc.math"`, path);
    disable.push({ ref, source: "--disable" });
  }
  return {
    plugins: (args.plugins ?? []) as string[],
    env: process.env,
    cwd: process.cwd(),
    strict: Boolean(args.strict),
    disable,
    packages: args.packages !== false,
    loadTimeout: loadTimeout(args["load-timeout"] as string | undefined, path),
  };
}

/** --load-timeout, else POP_LOAD_TIMEOUT, else the default: a whole number of milliseconds, 0 meaning no limit. */
function loadTimeout(flag: string | undefined, path: string): number {
  const [raw, from] = flag !== undefined ? [flag, "option --load-timeout"] : [process.env.POP_LOAD_TIMEOUT, "POP_LOAD_TIMEOUT"];
  if (raw === undefined || (raw === "" && flag === undefined)) return LOAD_TIMEOUT_MS;
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`invalid value for ${from}: ${quote(raw)} is not a whole number of milliseconds; give e.g. 30000, or 0 for no limit`, path);
  }
  return Number(raw);
}
