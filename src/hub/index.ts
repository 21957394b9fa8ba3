export {
  closeHub,
  closeOpenHubs,
  createHub,
  dyneDirs,
  hubFailures,
  hubRoots,
  hubWarn,
  loadHub,
  onHubClose,
  placeUnrooted,
  refOrigin,
  subNames,
  type HubOptions,
  type LoadHubOptions,
} from "./_hub.ts";
export { discoverRoots, DiscoveryError, readRoot, type DiscoverOptions, type PluginRoot } from "./_discover.ts";
export { ContractError, formatLocation, oneLine, PluginLoadError, RefError, type SourceLocation } from "./_errors.ts";
export { describeFunctions, inspectHub, type FunctionInfo, type HubView, type ModuleView, type RootView, type SubView } from "./_introspect.ts";
export { isDirectory } from "../_fs.ts";
export { state, subMeta } from "./_meta.ts";
export { preloadRef, resolveFunction, resolveRef } from "./_ref.ts";
export { addMonitor, type CallEnd, type CallStart, type Monitor, setCallTimeout, withCaller } from "./_trace.ts";
export { POP_VERSION, type IsolateSpec, type Manifest, type RemoteSpec } from "./_manifest.ts";
export { addBuiltinSub, addSub, type AddSubOptions } from "./_sub.ts";
export { watchHub, type WatchEvent, type WatchOptions } from "./_watch.ts";
export type { AnyFn, ContractContext, Hub, HubSubs, ModuleRecord, PopSub, SchemaSpec, SubMeta } from "./_types.ts";
