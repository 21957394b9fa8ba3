import type { ConfigFile } from "./_types.ts";

/**
 * Type a project's config file (c12's `createDefineConfig`): returns its argument unchanged.
 * @example
 * // poppy.config.ts
 * import { defineConfig } from "pop";
 * import type * as conf from "./examples/poppy/conf.ts";
 * export default defineConfig<typeof conf>({ port: 8080 });
 */
export function defineConfig<C = unknown>(config: ConfigFile<C>): ConfigFile<C> {
  return config;
}
