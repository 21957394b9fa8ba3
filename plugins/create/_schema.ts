// The config JSON Schema of a project template's own options, as `pop config schema` prints it (a test keeps the two
// equal), written out here so `pop create project` does not load the config integrator and zod to make it.

/** One option of the template's CONFIG: what the schema says of it. */
export interface SchemaOption {
  name: string;
  help: string;
  type: "string" | "number" | "boolean";
  default: string | number | boolean;
}

/** The text of `<name>.schema.json` for a project named `name` with these options. */
export function configSchemaText(name: string, options: SchemaOption[]): string {
  const props = Object.fromEntries(options.map((o) => [o.name, { description: o.help, type: o.type, default: o.default }]));
  const ref = { $ref: "#/$defs/$overrides" };
  const schema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `${name} config file`,
    description: `Options of ${name}: ${name}.config.{ts,mts,cts,js,mjs,cjs,json,jsonc,json5,yaml,yml,toml} or .${name}rc`,
    type: "object",
    properties: {
      $schema: { type: "string", description: "The JSON Schema this file follows" },
      extends: {
        description: "Config files or folders (or gh:, npm sources) this one builds on (c12)",
        anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
      },
      ...props,
      $development: { ...ref, description: "Overrides when NODE_ENV is development" },
      $production: { ...ref, description: "Overrides when NODE_ENV is production" },
      $test: { ...ref, description: "Overrides when NODE_ENV is test" },
      $env: { type: "object", description: "Overrides by NODE_ENV value", additionalProperties: ref },
    },
    patternProperties: { "^\\$": {} },
    additionalProperties: false,
    $defs: { $overrides: { type: "object", properties: props, additionalProperties: false } },
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
