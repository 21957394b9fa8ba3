import * as config from "../../plugins/pop/config.ts";
import * as invoke from "../../plugins/pop/invoke.ts";
import * as ref from "../../plugins/pop/ref.ts";
import * as sub from "../../plugins/pop/sub.ts";
import * as trace from "../../plugins/pop/trace.ts";
import { sourceOf } from "./_source.ts" with { type: "macro" };

/** A built-in plugin file: its exports, and its source text (so `pop tree` shows its docs from inside the executable). */
export interface Builtin {
  file: string;
  exports: Record<string, unknown>;
  source?: string;
}

/** The built-in `pop` sub: plugin files from plugins/pop, bundled into the executable. Keep in step with that folder (a test checks). */
export const BUILTIN_POP: Record<string, Builtin> = {
  config: { file: "plugins/pop/config.ts", exports: config, source: sourceOf("plugins/pop/config.ts") },
  invoke: { file: "plugins/pop/invoke.ts", exports: invoke, source: sourceOf("plugins/pop/invoke.ts") },
  ref: { file: "plugins/pop/ref.ts", exports: ref, source: sourceOf("plugins/pop/ref.ts") },
  sub: { file: "plugins/pop/sub.ts", exports: sub, source: sourceOf("plugins/pop/sub.ts") },
  trace: { file: "plugins/pop/trace.ts", exports: trace, source: sourceOf("plugins/pop/trace.ts") },
};
