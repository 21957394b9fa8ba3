import type { CliParse } from "./_cli.ts";
import type { Option, Project } from "./_definition.ts";
import { fileValue, type Files } from "./_files.ts";
import { displayPath } from "./_paths.ts";
import { coerce, expected, safeParse } from "./_schema.ts";
import type { Origin, Resolved } from "./_types.ts";

/** Everything a load read, by source. */
export interface Sources {
  cli: CliParse | undefined;
  files: Files;
  env: Record<string, string | undefined>;
  /** The project whose options sit at the top of the config files. */
  top: string;
}

/** Pick each option's value by precedence (CLI > environment > files > default), coerce strings, validate with zod. */
export function resolveAll(projects: Project[], src: Sources): { values: Map<string, Record<string, Resolved>>; errors: string[] } {
  const values = new Map<string, Record<string, Resolved>>();
  const errors: string[] = [];
  for (const p of projects) {
    const out: Record<string, Resolved> = {};
    for (const o of p.options.values()) {
      const picked = pick(o, p.name === src.top ? [o.name] : [p.name, o.name], src);
      const r = check(o, picked, src.top);
      if (typeof r === "string") errors.push(r);
      else out[o.name] = r;
    }
    values.set(p.name, out);
  }
  return { values, errors };
}

interface Picked {
  raw: unknown;
  origin: Origin;
  fromString: boolean;
}

function pick(o: Option, filePath: string[], src: Sources): Picked {
  const c = src.cli?.values.get(o);
  if (c) return { raw: c.value, origin: { kind: "cli", flag: c.flag }, fromString: true };
  const name = o.env.find((n) => src.env[n] !== undefined);
  if (name) return { raw: src.env[name], origin: { kind: "env", name }, fromString: true };
  const f = fileValue(src.files, filePath);
  if (f) return { raw: f.value, origin: { kind: "file", file: f.file, key: f.key }, fromString: false };
  return { raw: o.default, origin: { kind: "default", file: o.confFile }, fromString: false };
}

function check(o: Option, p: Picked, top: string): Resolved | string {
  if (p.origin.kind === "default" && (p.raw === undefined || p.raw === null)) return { value: p.raw, origin: p.origin, secret: o.secret };
  if (p.origin.kind === "default" && o.trustsDefault && (!o.choices || offChoice(o.choices, p.raw) === undefined))
    return { value: p.raw, origin: p.origin, secret: o.secret };
  // z.string() passes any string unchanged (and coercion leaves a string a string): skip building zod for it.
  if (o.trustsString && typeof p.raw === "string" && !o.choices) return { value: p.raw, origin: p.origin, secret: o.secret };
  const value = p.fromString ? coerce(o.schema, p.raw) : p.raw;
  const r = safeParse(o.schema, value);
  const label = o.project === top ? o.name : `${o.project}.${o.name}`;
  // A default that fails its own type or choices is the definition's mistake: the message names the conf file.
  const from = p.origin.kind === "default" && o.confFile ? `its default in ${displayPath(o.confFile)}` : describeOrigin(p.origin);
  const head = `invalid value for option "${label}" from ${from}: ${o.secret ? "the secret value" : show(p.raw)}`;
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const exp = expected(o.schema, o.choices);
    if (issue.code === "invalid_type" && issue.path.length === 0) {
      const want = typeof issue.expected === "string" ? (TYPE_WORDS[issue.expected] ?? issue.expected) : exp;
      return `${head} is not ${article(want)} (expected ${exp})`;
    }
    if (issue.code === "invalid_value" && issue.path.length === 0) return `${head} is not ${exp}`;
    const at = issue.path.length ? ` at ${issue.path.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("")}` : "";
    return `${head} is invalid${at}: ${lowerFirst(issue.message)} (expected ${exp})`;
  }
  const off = o.choices ? offChoice(o.choices, r.data) : undefined;
  if (off) return `${head}${off.at === undefined ? "" : ` has ${show(off.value)} at [${off.at}], which`} is not ${expected(o.schema, o.choices)}`;
  return { value: r.data, origin: p.origin, secret: o.secret };
}

/**
 * The value that is not one of `choices`, or undefined when all are. A list (an `append` or `nargs` option, a list
 * default) is checked element by element, unless the choices are lists themselves.
 */
function offChoice(choices: readonly unknown[], value: unknown): { value: unknown; at?: number } | undefined {
  const ok = (v: unknown) => choices.some((c) => Object.is(c, v));
  if (Array.isArray(value) && !choices.some((c) => Array.isArray(c))) {
    const at = value.findIndex((v) => !ok(v));
    return at < 0 ? undefined : { value: value[at], at };
  }
  return ok(value) ? undefined : { value };
}

/** Where a value came from, as messages and `--explain` say it. */
export function describeOrigin(o: Origin): string {
  switch (o.kind) {
    case "default":
      return "default";
    case "file":
      return `${displayPath(o.file)} key "${o.key}"`;
    case "env":
      return `environment variable ${o.name}`;
    case "cli":
      return o.flag;
  }
}

/** A value as a message quotes it. */
export function show(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number") return String(v); // Infinity and NaN, which JSON would print as null
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const TYPE_WORDS: Record<string, string> = { int: "integer", nan: "NaN", array: "list", record: "object", map: "map", set: "set" };

function article(exp: string): string {
  if (/^(a|an|one of) /.test(exp) || exp.startsWith('"')) return exp;
  return /^[aeiou]/.test(exp) ? `an ${exp}` : `a ${exp}`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** A frozen copy of a value: plain objects, arrays and dates are copied (what callers passed in stays theirs), then frozen all the way down. */
export function frozenCopy<T>(v: T): T {
  if (Array.isArray(v)) return Object.freeze(v.map(frozenCopy)) as T;
  if (v instanceof Date) return Object.freeze(new Date(v.getTime())) as T;
  if (v && typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return Object.freeze(v);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = frozenCopy(x);
    return Object.freeze(out) as T;
  }
  return v;
}
