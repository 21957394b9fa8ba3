import { describeThrow, PluginLoadError } from "./_errors.ts";
import { state } from "./_meta.ts";
import type { AnyFn, Chain, ContractFn, Hub, ModuleRecord, SchemaSpec } from "./_types.ts";

/** A contract file and its exports. */
export interface LoadedContract {
  file: string;
  exports: Record<string, unknown>;
  /** Sub-wide and recursive contracts do not impose their sig_ functions on `init`. */
  subWide: boolean;
}

/** Contracts that apply to a module, in order: recursive (outer subs first), the sub's `contracts/init`, `contracts/<name>`, then `__contracts__`. */
export function contractsFor(hub: Hub, rec: ModuleRecord, exports: Record<string, unknown>): LoadedContract[] {
  const sub = rec.sub;
  if (sub.rcontracts.length === 0 && sub.contracts.size === 0 && exports.__contracts__ === undefined) return [];
  const seen = new Set<string>();
  const out: LoadedContract[] = [];
  const add = (file: string, subWide: boolean) => {
    if (seen.has(file)) return;
    seen.add(file);
    out.push({ file, exports: importContract(hub, rec, file), subWide });
  };
  for (const f of sub.rcontracts) add(f, true);
  for (const f of sub.contracts.get("init") ?? []) add(f, true);
  const stem = rec.file.replace(/^.*[\\/]/, "").replace(/\.[^.]+$/, "");
  for (const name of new Set([rec.name, stem])) for (const f of sub.contracts.get(name) ?? []) add(f, false);
  const extra = exports.__contracts__;
  if (extra !== undefined) {
    if (!Array.isArray(extra) || extra.some((x) => typeof x !== "string")) {
      throw new PluginLoadError(rec.ref, { file: rec.file }, `__contracts__ must be an array of contract names, got ${JSON.stringify(extra)}`);
    }
    for (const name of extra as string[]) {
      const files = sub.contracts.get(name);
      if (!files) {
        const known = [...sub.contracts.keys()].join(", ") || "none";
        throw new PluginLoadError(rec.ref, { file: rec.file }, `__contracts__ names "${name}" but the sub has no contracts/${name}.ts (known contracts: ${known})`);
      }
      for (const f of files) add(f, false);
    }
  }
  return out;
}

function importContract(hub: Hub, rec: ModuleRecord, file: string): Record<string, unknown> {
  const cache = state(hub).contractCache;
  let exports = cache.get(file);
  if (exports) return exports;
  try {
    exports = require(file) as Record<string, unknown>;
  } catch (err) {
    const { reason, location } = describeThrow(err, file);
    throw new PluginLoadError(rec.ref, location, `contract ${file} failed to load: ${reason}`, { cause: err });
  }
  cache.set(file, exports);
  return exports;
}

/** Names of functions the module must export under the applicable sig contracts, with the contract that asks. */
export function requiredSigs(rec: ModuleRecord, contracts: LoadedContract[]): Array<{ name: string; file: string }> {
  const out: Array<{ name: string; file: string }> = [];
  for (const c of contracts) {
    if (c.subWide && rec.name === "init") continue;
    for (const key of Object.keys(c.exports)) if (key.startsWith("sig_")) out.push({ name: key.slice(4), file: c.file });
  }
  return out;
}

/** Build the contract chain for one function; undefined members when no contract touches it. */
export function buildChain(hub: Hub, rec: ModuleRecord, name: string, func: AnyFn, contracts: LoadedContract[]): Chain {
  const pre: ContractFn[] = [];
  const post: ContractFn[] = [];
  const calls: ContractFn[] = [];
  let schema: SchemaSpec | undefined;
  // As POP: contract by contract, and within one contract pre_fib before pre.
  for (const c of contracts) {
    for (const suffix of [`_${name}`, ""]) {
      const p = contractFn(rec, c, `pre${suffix}`);
      if (p) pre.push(p);
      const k = contractFn(rec, c, `call${suffix}`);
      if (k) calls.push(k);
      const q = contractFn(rec, c, `post${suffix}`);
      if (q) post.push(q);
    }
  }
  for (const c of contracts) {
    const keys = c.subWide && rec.name === "init" ? [`schema_${name}`] : [`schema_${name}`, `sig_${name}`];
    for (const key of keys) {
      const s = c.exports[key];
      if (s && typeof s === "object") schema = mergeSchema(schema, s as SchemaSpec, rec, c.file, key);
    }
  }
  return { hub, ref: `${rec.ref}.${name}`, func, pre, call: calls[0], post, schema };
}

function contractFn(rec: ModuleRecord, c: LoadedContract, key: string): ContractFn | undefined {
  const v = c.exports[key];
  if (v === undefined) return undefined;
  if (typeof v !== "function") throw new PluginLoadError(rec.ref, { file: c.file }, `contract export "${key}" in ${c.file} must be a function, got ${typeof v}`);
  return v as ContractFn;
}

function mergeSchema(into: SchemaSpec | undefined, s: SchemaSpec, rec: ModuleRecord, file: string, key: string): SchemaSpec {
  for (const k of ["arg", "ret"] as const) {
    if (s[k] !== undefined && !isSchema(s[k])) throw new PluginLoadError(rec.ref, { file }, `contract export "${key}.${k}" in ${file} must be a zod schema`);
  }
  if (s.args !== undefined && (!Array.isArray(s.args) || !s.args.every(isSchema))) {
    throw new PluginLoadError(rec.ref, { file }, `contract export "${key}.args" in ${file} must be an array of zod schemas, one per positional argument`);
  }
  const out: SchemaSpec = { ...into };
  if (!out.arg && s.arg) out.arg = s.arg;
  if (!out.args && s.args) out.args = s.args;
  if (!out.ret && s.ret) out.ret = s.ret;
  return out;
}

function isSchema(v: unknown): boolean {
  return typeof (v as { safeParse?: unknown } | null)?.safeParse === "function";
}
