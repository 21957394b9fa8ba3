/** `pop types`: the declarations that type a project's hub for editors and tsc (docs/testing.md, "Types"). */
export { command as default } from "./_command.ts";
export { writeTypes, type WriteTypesOptions, type WriteTypesResult } from "./_write.ts";
export { cachedFolder, cacheRoots } from "./_cache.ts";
export type { HubFunction, HubName, PluginModule, ProjectOptions, SubState } from "./_public.ts";
