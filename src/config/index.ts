export { defineConfig } from "./_define.ts";
export { envName, RESERVED } from "./_definition.ts";
export { ConfigError } from "./_errors.ts";
export { CONFIG_EXTENSIONS, EXTENSIONS_TEXT } from "./_filefind.ts";
export { configSchema } from "./_jsonschema.ts";
export { definitions, early, load, projectName, type Definitions, type Early } from "./_load.ts";
export { describeOrigin } from "./_resolve.ts";
export { formatJson, formatText, HIDDEN, sourceText } from "./_show.ts";
export type {
  CliOptionDef,
  ConfigFile,
  ConfigValues,
  ConfModule,
  LoadContext,
  LoadOptions,
  LoadResult,
  OptionDef,
  OptionType,
  Origin,
  ProjectRoot,
  Resolved,
} from "./_types.ts";
