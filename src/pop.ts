/**
 * The `pop` module plugin files import: `import { z, type Hub } from "pop"`.
 * The executable serves it itself, so plugins need no node_modules.
 */
export { z } from "zod";
export { ConfigError, ContractError, DiscoveryError, PluginLoadError, PopError, RefError, ShutdownError, TimeoutError, UsageError } from "./errors.ts";
// The hub's public API: what pop's own CLI, config and built-in plugins use, open to any plugin or script.
export { closeHub, createHub, dyneDirs, hubFailures, hubRoots, hubWarn, inspectHub, loadHub, onHubClose, subNames } from "./hub/index.ts";
export type { AnyFn, ContractContext, Hub, HubSubs, PopSub, SchemaSpec } from "./hub/_types.ts";
// Watching a hub: hot reload (docs/lifecycle.md), call monitors (trace, audit) and the per-call timeout.
export { addMonitor, type CallEnd, type CallStart, type Monitor, setCallTimeout, watchHub, type WatchEvent, type WatchOptions } from "./hub/index.ts";
export { defineConfig } from "./config/_define.ts";
// Testing a project (docs/testing.md): a hub loaded like `pop app DIR`, and a hub of stand-ins (POP's pop.testing).
export { testHub, type TestHubOptions } from "./testing/_hub.ts";
export { mockHub, type MockHub, type MockHubOptions, type StandIn } from "./testing/_mock.ts";
// The types `pop types` declares a project's hub with (docs/testing.md).
export type { HubFunction, HubName, PluginModule, ProjectOptions, SubState } from "./types/_public.ts";
export type { CliOptionDef, ConfigFile, ConfigValues, ConfModule, LoadOptions, LoadResult, OptionDef } from "./config/_types.ts";
// Writing a service type for the deploy agent (docs/deploy.md): its shapes and the readiness checks the built-ins use.
export type { LaunchSpec, ServiceContext, ServiceTypeModule } from "./deploy/_types.ts";
// Writing a template for pop create (docs/create.md): what a template receives and returns.
export type { CreateContext, TemplateModule, TemplateOutput } from "./create/_types.ts";
export { httpReady, tcpReady } from "./deploy/_readiness.ts";
