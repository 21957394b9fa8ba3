// Subs placed elsewhere: isolated (a Worker or a child process) or remote (a pop serve). A manifest, a conf.ts
// (ISOLATE, REMOTE) or the command line (--isolate, --remote) marks them; when such a sub is added, the hub hands it to
// isolateSub / remoteSub, imported only then (a plain `pop call` never loads either).
import type { IsolateSpec, RemoteSpec } from "./_manifest.ts";
import { state } from "./_meta.ts";
import type { Hub } from "./_types.ts";

/** A sub marked isolated or remote, and whether it is being placed now (isolateSub may add subs of its own). */
export type Placed = ({ kind: "isolate"; spec: IsolateSpec } | { kind: "remote"; spec: RemoteSpec }) & { placing?: boolean };

/**
 * Hand sub `name` (its folders `dirs`) to isolateSub or remoteSub, with the hub's per-call timeout. `tolerant` (loading
 * a hub, not strict): a remote sub whose server does not answer stays on the hub as failed instead of throwing, an
 * isolated sub whose init.ts fails serves its other modules.
 */
export async function placeSub(hub: Hub, name: string, dirs: string[], tolerant = false): Promise<void> {
  const s = state(hub);
  const p = s.placed.get(name)!;
  const timeout = s.callTimeout > 0 ? { timeout: s.callTimeout } : {};
  p.placing = true;
  try {
    if (p.kind === "isolate") {
      const { isolateSub } = await import("../isolate/index.ts");
      const { mode, env, memory, source } = p.spec;
      // An explicit add is atomic, as in-process: only loading a hub (not strict) tolerates a failing init.ts.
      await isolateSub(hub, name, {
        mode,
        folders: dirs,
        source,
        ...timeout,
        ...(env ? { env } : {}),
        ...(memory ? { memory } : {}),
        tolerant: tolerant && !s.strict,
      });
    } else {
      const { remoteSub } = await import("../remote/index.ts");
      const { url, token, source } = p.spec;
      await remoteSub(hub, name, { url, source, ...timeout, ...(token ? { token } : {}), ...(tolerant && !s.strict ? { tolerant } : {}) });
    }
    const meta = s.subs.get(name);
    if (meta) meta.placed = true; // before any of its module objects is built: they take the side's own timeout
  } finally {
    p.placing = false;
  }
}

/**
 * The placements of a hub: every root's (manifest, then conf.ts), then the command line's, later ones winning. A
 * remote sub given no token takes `token` (POP_TOKEN), wherever it was placed.
 */
export function placements(
  roots: Array<{ isolate?: Record<string, IsolateSpec>; remote?: Record<string, RemoteSpec> }>,
  cli: { isolate?: Record<string, IsolateSpec>; remote?: Record<string, RemoteSpec> },
  token?: string,
): Map<string, Placed> {
  const out = new Map<string, Placed>();
  for (const from of [...roots, cli]) {
    for (const [name, spec] of Object.entries(from.isolate ?? {})) out.set(name, { kind: "isolate", spec });
    for (const [name, spec] of Object.entries(from.remote ?? {}))
      out.set(name, { kind: "remote", spec: spec.token === undefined && token ? { ...spec, token } : spec });
  }
  return out;
}
