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

/**
 * Contracts that apply to a module, in order: its own (`contracts/<name>`), the sub's `contracts/init`, those its
 * `__contracts__` names (in that order), then the recursive ones from `rcontracts/` (outer subs first).
 */
export function contractsFor(hub: Hub, rec: ModuleRecord, exports: Record<string, unknown>): LoadedContract[] {
  const sub = rec.sub;
  if (sub.rcontracts.length === 0 && sub.contracts.size === 0 && exports.__contracts__ === undefined) return [];
  return collectContracts(hub, rec, exports);
}

/** contractsFor when there are any: the module's own, the sub's init, __contracts__, then the rcontracts. */
function collectContracts(hub: Hub, rec: ModuleRecord, exports: Record<string, unknown>): LoadedContract[] {
  const sub = rec.sub;
  const seen = new Set<string>();
  const out: LoadedContract[] = [];
  const add = (file: string, subWide: boolean) => {
    if (seen.has(file)) return;
    seen.add(file);
    out.push({ file, exports: importContract(hub, rec, file), subWide });
  };
  const stem = rec.file.replace(/^.*[\\/]/, "").replace(/\.[^.]+$/, "");
  for (const name of new Set([rec.name, stem])) if (name !== "init") for (const f of sub.contracts.get(name) ?? []) add(f, false);
  for (const f of sub.contracts.get("init") ?? []) add(f, true);
  const extra = exports.__contracts__;
  if (extra !== undefined) {
    if (!Array.isArray(extra) || extra.some((x) => typeof x !== "string")) {
      throw new PluginLoadError(rec.ref, { file: rec.file }, `__contracts__ must be an array of contract names, got ${JSON.stringify(extra)}`);
    }
    for (const name of extra as string[]) {
      const files = sub.contracts.get(name);
      if (!files) {
        const known = [...sub.contracts.keys()].join(", ") || "none";
        throw new PluginLoadError(
          rec.ref,
          { file: rec.file },
          `__contracts__ names "${name}" but the sub has no contracts/${name}.ts (known contracts: ${known})`,
        );
      }
      for (const f of files) add(f, false);
    }
  }
  for (const f of sub.rcontracts) add(f, true);
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

/**
 * Build the contract chain for one function. Contract by contract in `contractsFor`'s order, and within one
 * contract `pre_add` before `pre` (post likewise); the call contract is the first `call_add` of any contract,
 * else the first `call`.
 */
export function buildChain(hub: Hub, rec: ModuleRecord, name: string, func: AnyFn, contracts: LoadedContract[]): Chain {
  const pre: ContractFn[] = [];
  const post: ContractFn[] = [];
  let specific: ContractFn | undefined;
  let general: ContractFn | undefined;
  let schema: SchemaSpec | undefined;
  for (const c of contracts) {
    for (const suffix of [`_${name}`, ""]) {
      const p = contractFn(rec, c, `pre${suffix}`);
      if (p) pre.push(p);
      const q = contractFn(rec, c, `post${suffix}`);
      if (q) post.push(q);
    }
    specific ??= contractFn(rec, c, `call_${name}`);
    general ??= contractFn(rec, c, "call");
  }
  for (const c of contracts) {
    const keys = c.subWide && rec.name === "init" ? [`schema_${name}`] : [`schema_${name}`, `sig_${name}`];
    for (const key of keys) {
      const s = c.exports[key];
      if (s && typeof s === "object") schema = mergeSchema(schema, s as SchemaSpec, rec, c.file, key);
    }
  }
  return { hub, ref: `${rec.ref}.${name}`, func, pre, call: specific ?? general, post, schema, gen: generatorKind(func) };
}

/** "async" for an async generator function, "sync" for a generator function: their chains yield, not return. */
function generatorKind(fn: AnyFn): "async" | "sync" | undefined {
  const n = (fn as { constructor?: { name?: string } }).constructor?.name;
  return n === "AsyncGeneratorFunction" ? "async" : n === "GeneratorFunction" ? "sync" : undefined;
}

/**
 * Signature contracts given as functions (`export function sig_add(hub, item, qty) {}`) fix the implementation's
 * parameters: the same names in the same order (a destructured object by its keys); more parameters only after a
 * rest parameter in the sig. The first mismatch fails the module at load. A sig without parameters
 * (`sig_add() {}`) only requires the function.
 */
export function checkSigParams(rec: ModuleRecord, exports: Record<string, unknown>, alias: Record<string, string>, contracts: LoadedContract[]): void {
  const byHubName = new Map<string, AnyFn>();
  for (const [k, v] of Object.entries(exports)) if (typeof v === "function") byHubName.set(alias[k] ?? k, v as AnyFn);
  for (const c of contracts) {
    if (c.subWide && rec.name === "init") continue;
    for (const [key, sig] of Object.entries(c.exports)) {
      if (!key.startsWith("sig_") || typeof sig !== "function") continue;
      const name = key.slice(4);
      const impl = byHubName.get(name);
      if (!impl) continue; // reported as missing
      const all = paramNames(sig as AnyFn);
      if (all.length === 0) continue; // `sig_area() {}`: the function must exist, with any parameters
      const want = all.slice(1);
      const got = paramNames(impl).slice(1);
      const restAt = want.findIndex((p) => p.startsWith("..."));
      const n = restAt >= 0 ? restAt : Math.max(want.length, got.length);
      for (let i = 0; i < n; i++) {
        if (want[i] === got[i]) continue;
        const where = `parameter ${i + 2} of ${name}`;
        const detail =
          want[i] === undefined
            ? `is "${got[i]}", but ${key} in ${c.file} has no parameter there`
            : got[i] === undefined
              ? `is missing: ${key} in ${c.file} expects "${want[i]}"`
              : `is "${got[i]}", but ${key} in ${c.file} expects "${want[i]}"`;
        throw new PluginLoadError(rec.ref, { file: rec.file }, `${where} (after the hub) ${detail}; make the signature match the contract's`);
      }
    }
  }
}

/** A function's parameter names from its source: identifiers as written, `{a,b}` for a destructured object, `...rest`. */
export function paramNames(fn: AnyFn): string[] {
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf("(");
  const arrow = src.indexOf("=>");
  if (arrow >= 0 && (open < 0 || arrow < open))
    return [
      src
        .slice(0, arrow)
        .replace(/^async\s+/, "")
        .trim(),
    ];
  if (open < 0) return [];
  let depth = 0;
  let quote = "";
  const parts: string[] = [];
  let cur = "";
  for (let i = open; i < src.length; i++) {
    const ch = src[i]!;
    if (quote) {
      cur += ch;
      if (ch === "\\") cur += src[++i] ?? "";
      else if (ch === quote) quote = "";
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    if (ch === "(" || ch === "{" || ch === "[") {
      depth++;
      if (depth === 1) continue;
    } else if (ch === ")" || ch === "}" || ch === "]") {
      depth--;
      if (depth === 0) {
        if (cur.trim()) parts.push(cur.trim());
        break;
      }
    } else if (ch === "," && depth === 1) {
      parts.push(cur.trim());
      cur = "";
      continue;
    }
    cur += ch;
  }
  return parts.map(paramName);
}

function paramName(p: string): string {
  const bare = topLevelBefore(p, "=").trim();
  if (bare.startsWith("{")) {
    const keys = splitTop(bare.slice(1, bare.lastIndexOf("}")))
      .map((k) => topLevelBefore(topLevelBefore(k, "="), ":").trim())
      .filter(Boolean);
    return `{${keys.join(",")}}`;
  }
  if (bare.startsWith("[")) return "[]";
  return bare;
}

function topLevelBefore(text: string, sep: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if ("({[".includes(ch)) depth++;
    else if (")}]".includes(ch)) depth--;
    else if (depth === 0 && ch === sep && text[i + 1] !== ">") return text.slice(0, i);
  }
  return text;
}

function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if ("({[".includes(ch)) depth++;
    else if (")}]".includes(ch)) depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out;
}

function contractFn(rec: ModuleRecord, c: LoadedContract, key: string): ContractFn | undefined {
  const v = c.exports[key];
  if (v === undefined) return undefined;
  if (typeof v !== "function")
    throw new PluginLoadError(rec.ref, { file: c.file }, `contract export "${key}" in ${c.file} must be a function, got ${typeof v}`);
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
