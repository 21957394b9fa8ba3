import type { Project } from "./_definition.ts";
import { EXTENSIONS_TEXT } from "./_filefind.ts";
import { jsonSchemaOf } from "./_schema.ts";

type Json = Record<string, unknown>;

/** The JSON Schema of `top`'s config file (zod's JSON Schema export per option): its options, other projects' sections, `extends` and `$env` overrides. */
export function configSchema(top: Project, others: Project[]): Json {
  const sections: Json = {};
  for (const p of others) if (p !== top) sections[p.name] = { $ref: `#/$defs/${p.name}` };
  const defs: Json = {};
  for (const p of others) {
    if (p !== top) defs[p.name] = { type: "object", description: `Options of project "${p.name}"`, properties: optionsOf(p), additionalProperties: false };
  }
  const overrides: Json = { type: "object", properties: { ...optionsOf(top), ...sections }, additionalProperties: false };
  defs["$overrides"] = overrides;
  const ref = { $ref: "#/$defs/$overrides" };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `${top.name} config file`,
    description: `Options of ${top.name}: ${top.name}.config.${EXTENSIONS_TEXT} or .${top.name}rc`,
    type: "object",
    properties: {
      $schema: { type: "string", description: "The JSON Schema this file follows" },
      extends: {
        description: "Config files or folders (or gh:, npm sources) this one builds on (c12)",
        anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
      },
      ...optionsOf(top),
      ...sections,
      $development: { ...ref, description: "Overrides when NODE_ENV is development" },
      $production: { ...ref, description: "Overrides when NODE_ENV is production" },
      $test: { ...ref, description: "Overrides when NODE_ENV is test" },
      $env: { type: "object", description: "Overrides by NODE_ENV value", additionalProperties: ref },
    },
    patternProperties: { "^\\$": {} },
    additionalProperties: false,
    $defs: defs,
  };
}

function optionsOf(p: Project): Json {
  const out: Json = {};
  for (const o of p.options.values()) {
    const j: Json = { description: o.help, ...jsonSchemaOf(o.schema) };
    if (o.choices) j.enum = [...o.choices];
    if (!o.secret && o.default !== undefined && isJson(o.default)) j.default = o.default;
    out[o.name] = j;
  }
  return out;
}

function isJson(v: unknown): boolean {
  try {
    return JSON.stringify(v) !== undefined && typeof v !== "bigint";
  } catch {
    return false;
  }
}
