// zod/mini, not zod: the same validator core at about half the start-up cost (users' own `z` schemas from "pop" work alike).
// Required on first use: a project whose values all are defaults never loads it (~0.4 ms of `pop config show`).
// "zod-mini-esm" (tsconfig paths) names zod's ESM build: a plain require("zod/mini") would bundle a second, CommonJS zod.
import type * as ZodMini from "zod/mini";
import { ConfigError } from "../errors.ts";
import type { $ZodType } from "zod/v4/core";
import type { OptionDef } from "./_types.ts";

type Def = { type: string; [k: string]: any };

let zod: typeof ZodMini | undefined;
/** zod/mini, loaded on first use. */
function zm(): typeof ZodMini {
  return (zod ??= require("zod-mini-esm") as typeof ZodMini);
}

/** Is `v` a zod schema (of any zod v4 instance)? */
export function isSchema(v: unknown): v is $ZodType {
  return typeof v === "object" && v !== null && "_zod" in v && typeof (v as { safeParse?: unknown }).safeParse === "function";
}

/** The zod schema of an option: its `type`, else the type of its default. Throws a TypeError naming what is wrong. */
export function schemaFor(def: OptionDef): $ZodType {
  const t = def.type;
  if (isSchema(t)) return t;
  if (t !== undefined) return namedSchema(t)(zm());
  return inferred(def.default);
}

/**
 * The schema of an option, built when first needed, and whether its default needs no check. An option typed only by
 * its default (`port: { default: 8888 }`) accepts that default by construction, so a project whose values all are
 * defaults builds no zod schema at all (most of `pop config show`'s own work). A bad `type` still fails here, at
 * definition time.
 */
export function lazySchema(def: OptionDef): { get: () => $ZodType; trustsDefault: boolean; trustsString: boolean; boolean: boolean } {
  const t = def.type;
  if (t !== undefined && !isSchema(t)) namedSchema(t); // the name must be known now
  let schema: $ZodType | undefined;
  const get = () => (schema ??= schemaFor(def));
  const d = def.default;
  // A named type whose default is of that type passes its check by construction too (`type: "integer", default: 5000`).
  const named = t === undefined ? undefined : isSchema(t) ? undefined : NAMED_KIND.get(t);
  const trustsDefault =
    t === undefined
      ? typeof d === "string" || typeof d === "boolean" || typeof d === "bigint" || (typeof d === "number" && Number.isFinite(d))
      : (named === "string" && typeof d === "string") ||
        (named === "boolean" && typeof d === "boolean") ||
        (named === "number" && typeof d === "number" && Number.isFinite(d)) ||
        (named === "integer" && Number.isSafeInteger(d));
  // A plain string option (z.string(), nothing else) takes any string as it is: no schema to build for one.
  const trustsString = t === undefined ? typeof d === "string" : named === "string";
  // What the command line needs to know (is it a switch?), without building a schema unless the type is one.
  const boolean = t === undefined ? typeof d === "boolean" : isSchema(t) ? kindOf(t) === "boolean" : t === "boolean" || t === Boolean;
  return { get, trustsDefault, trustsString, boolean };
}

/** The kind of value each named type (not a zod schema) holds, for the checks lazySchema can skip. */
const NAMED_KIND = new Map<unknown, string>([
  ["string", "string"],
  [String, "string"],
  ["boolean", "boolean"],
  [Boolean, "boolean"],
  ["number", "number"],
  [Number, "number"],
  ["integer", "integer"],
]);

function namedSchema(t: unknown): (z: typeof ZodMini) => $ZodType {
  const named = NAMED.get(t);
  if (!named) throw new ConfigError(`"type" must be a zod schema or one of ${[...NAMED.keys()].filter((k) => typeof k === "string").join(", ")}`);
  return named;
}

const NAMED = new Map<unknown, (z: typeof ZodMini) => $ZodType>([
  ["string", (z) => z.string()],
  ["number", (z) => z.number()],
  ["integer", (z) => z.int()],
  ["boolean", (z) => z.boolean()],
  ["array", (z) => z.array(z.unknown())],
  ["object", (z) => z.record(z.string(), z.unknown())],
  ["any", (z) => z.unknown()],
  [String, (z) => z.string()],
  [Number, (z) => z.number()],
  [Boolean, (z) => z.boolean()],
  [Array, (z) => z.array(z.unknown())],
  [Object, (z) => z.record(z.string(), z.unknown())],
]);

function inferred(v: unknown): $ZodType {
  const z = zm();
  switch (typeof v) {
    case "string":
      return z.string();
    case "number":
      return z.number();
    case "boolean":
      return z.boolean();
    case "bigint":
      return z.bigint();
  }
  if (Array.isArray(v)) return z.array(v.length > 0 ? inferred(v[0]) : z.unknown());
  if (v instanceof Date) return z.date();
  if (v && typeof v === "object") return z.record(z.string(), z.unknown());
  return z.unknown();
}

/** Validate with any zod v4 schema (classic or mini). */
export function safeParse(
  schema: $ZodType,
  value: unknown,
):
  | { success: true; data: unknown }
  | { success: false; error: { issues: ReadonlyArray<{ code: string; path: PropertyKey[]; message: string; expected?: unknown }> } } {
  const r = zm().safeParse(schema, value);
  if (r.success || englishLoaded) return r as ReturnType<typeof safeParse>;
  // zod/mini carries no messages until a locale is configured: only a failure pays for loading English ones.
  englishLoaded = true;
  zm().config((require("zod-locale-en-esm") as { default: () => Parameters<typeof ZodMini.config>[0] }).default());
  return zm().safeParse(schema, value) as ReturnType<typeof safeParse>;
}

let englishLoaded = false;

/** The schema under optional/nullable/default/pipe wrappers: what a string must be turned into. */
function base(schema: unknown): Def | undefined {
  let s: any = schema;
  for (let i = 0; i < 20; i++) {
    const d: Def | undefined = s?._zod?.def;
    if (!d) return undefined;
    if (["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"].includes(d.type)) s = d.innerType;
    else if (d.type === "pipe") s = d.in;
    else if (d.type === "lazy") s = d.getter();
    else return d;
  }
  return undefined;
}

/** The kind of value an option holds, as far as coercion and switches care. */
export function kindOf(schema: $ZodType): string {
  return base(schema)?.type ?? "unknown";
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off", ""]);

/** Turn a string (or list of strings) from the environment or the command line into the option's type, where it reads as one. */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export function coerce(schema: unknown, raw: unknown): unknown {
  const d = base(schema);
  if (!d) return raw;
  switch (d.type) {
    case "number":
    case "int":
      // Decimal only ("8080", "-1.5", "9e3"): Number() also takes "0x10", "0b11" and "Infinity", which a user did not
      // mean as numbers; those stay strings, which the check then refuses.
      return typeof raw === "string" && DECIMAL.test(raw) ? Number(raw) : raw;
    case "bigint":
      if (typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw)) return BigInt(raw.trim());
      return raw;
    case "boolean":
      if (typeof raw !== "string") return raw;
      return TRUE.has(raw.toLowerCase()) ? true : FALSE.has(raw.toLowerCase()) ? false : raw;
    case "date":
      if (typeof raw === "string" && !Number.isNaN(Date.parse(raw))) return new Date(raw);
      return raw;
    case "array":
    case "set": {
      const items = Array.isArray(raw) ? raw : typeof raw === "string" ? splitList(raw) : undefined;
      if (!items) return raw;
      const out = items.map((x) => coerce(d.element ?? d.valueType, x));
      return d.type === "set" ? new Set(out) : out;
    }
    case "object":
    case "record":
    case "tuple":
      return typeof raw === "string" ? parseJson(raw) : raw;
    case "literal":
      return matchLiteral(d.values as unknown[], raw);
    case "enum":
      return matchLiteral(Object.values(d.entries as Record<string, unknown>), raw);
    case "union":
      for (const option of d.options as $ZodType[]) {
        const c = coerce(option, raw);
        if (safeParse(option, c).success) return c;
      }
      return raw;
    default:
      return raw;
  }
}

function matchLiteral(values: unknown[], raw: unknown): unknown {
  if (typeof raw !== "string") return raw;
  return values.find((v) => String(v) === raw) ?? raw;
}

/** A list from one string: JSON when it starts with "[" (none when that is not a JSON array: the value is refused), else comma-separated. */
function splitList(s: string): unknown[] | undefined {
  const t = s.trim();
  if (t.startsWith("[")) {
    const parsed = parseJson(t);
    return Array.isArray(parsed) ? parsed : undefined;
  }
  return t === "" ? [] : t.split(",").map((x) => x.trim());
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** The JSON Schema of one option's value (what a config file may give it). */
export function jsonSchemaOf(schema: $ZodType): Record<string, unknown> {
  if (kindOf(schema) === "date") return { type: "string", format: "date-time" };
  const j = zm().toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}

/** What an option expects, in words: "number", "integer >= 1", "one of \"a\", \"b\"". */
export function expected(schema: $ZodType, choices?: readonly unknown[]): string {
  if (choices) return `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`;
  if (kindOf(schema) === "date") return "a date";
  try {
    return describeJson(jsonSchemaOf(schema));
  } catch {
    return kindOf(schema);
  }
}

function describeJson(j: Record<string, any>): string {
  if (Array.isArray(j.enum)) return `one of ${j.enum.map((v: unknown) => JSON.stringify(v)).join(", ")}`;
  if (j.const !== undefined) return JSON.stringify(j.const);
  const alts = j.anyOf ?? j.oneOf;
  if (Array.isArray(alts)) return alts.map(describeJson).join(" or ");
  const type = Array.isArray(j.type) ? j.type.join(" or ") : j.type;
  if (type === "array") return j.items ? `a list of ${describeJson(j.items)}` : "a list";
  if (type === "object") return "an object";
  if (type === undefined) return "any value";
  const bounds: string[] = [];
  const safe = (n: unknown) => typeof n === "number" && Math.abs(n) < Number.MAX_SAFE_INTEGER;
  if (safe(j.minimum) && safe(j.maximum)) bounds.push(`from ${j.minimum} to ${j.maximum}`);
  else if (safe(j.minimum)) bounds.push(`>= ${j.minimum}`);
  else if (safe(j.maximum)) bounds.push(`<= ${j.maximum}`);
  if (j.exclusiveMinimum !== undefined) bounds.push(`> ${j.exclusiveMinimum}`);
  if (j.exclusiveMaximum !== undefined) bounds.push(`< ${j.exclusiveMaximum}`);
  if (j.minLength !== undefined) bounds.push(`of at least ${j.minLength} characters`);
  if (j.pattern !== undefined) bounds.push(`matching /${j.pattern}/`);
  return [type, ...bounds].join(" ");
}
