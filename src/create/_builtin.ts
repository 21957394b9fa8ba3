// The built-in templates: plugins/create/*.ts, bundled into the executable the way src/hub/_builtins.ts bundles
// plugins/pop, so `pop create` puts a `create` sub on its hub (addBuiltinSub: a user's plugin root may add templates
// or override these with `__override__`).
import type { Builtin } from "../hub/_builtins.ts";
import { sourceOf } from "../hub/_source.ts" with { type: "macro" };
import * as contract from "../../plugins/create/contract.ts";
import * as plugin from "../../plugins/create/plugin.ts";
import * as project from "../../plugins/create/project.ts";
import * as serviceType from "../../plugins/create/service_type.ts";
import * as sub from "../../plugins/create/sub.ts";

/** The built-in `create` sub: plugins/create, bundled. Keep in step with that folder (a test checks). */
export const BUILTIN_CREATE: Record<string, Builtin> = {
  contract: { file: "plugins/create/contract.ts", exports: contract, source: sourceOf("plugins/create/contract.ts") },
  plugin: { file: "plugins/create/plugin.ts", exports: plugin, source: sourceOf("plugins/create/plugin.ts") },
  project: { file: "plugins/create/project.ts", exports: project, source: sourceOf("plugins/create/project.ts") },
  service_type: { file: "plugins/create/service_type.ts", exports: serviceType, source: sourceOf("plugins/create/service_type.ts") },
  sub: { file: "plugins/create/sub.ts", exports: sub, source: sourceOf("plugins/create/sub.ts") },
};
