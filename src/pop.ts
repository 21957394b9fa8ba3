/**
 * The `pop` module plugin files import: `import { z, type Hub } from "pop"`.
 * The executable serves it itself, so plugins need no node_modules.
 */
export { z } from "zod";
export { ContractError, PluginLoadError, RefError } from "./hub/_errors.ts";
export type { AnyFn, ContractContext, Hub, HubSubs, SchemaSpec } from "./hub/_types.ts";
export { defineConfig } from "./config/_define.ts";
export type { CliOptionDef, ConfigFile, ConfigValues, ConfModule, LoadOptions, LoadResult, OptionDef } from "./config/_types.ts";
