import * as invoke from "../../plugins/pop/invoke.ts";
import * as ref from "../../plugins/pop/ref.ts";
import * as sub from "../../plugins/pop/sub.ts";

/** The built-in `pop` sub: plugin files from plugins/pop, bundled into the executable. Keep in step with that folder (a test checks). */
export const BUILTIN_POP: Record<string, { file: string; exports: Record<string, unknown> }> = {
  invoke: { file: "plugins/pop/invoke.ts", exports: invoke },
  ref: { file: "plugins/pop/ref.ts", exports: ref },
  sub: { file: "plugins/pop/sub.ts", exports: sub },
};
