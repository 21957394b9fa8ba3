export { defineConfig } from "./_define.ts";
export { envName } from "./_definition.ts";
export { ConfigError, ConfigHelp } from "./_errors.ts";
export { configSchema } from "./_jsonschema.ts";
export { definitions, load, loaded, projectName, type Definitions } from "./_load.ts";
export { describeOrigin } from "./_resolve.ts";
export { formatJson, formatText, HIDDEN, sourceText } from "./_show.ts";
export type { CliOptionDef, ConfigFile, ConfigValues, ConfModule, LoadOptions, LoadResult, OptionDef, OptionType, Origin, Resolved } from "./_types.ts";
