import { relative } from "../_path.ts";
import { messageOf } from "../errors.ts";
import { type CallEnd, type Hub, type Monitor, refOrigin } from "../hub/index.ts";
import { jsonLogs, log } from "../output.ts";

/** Where a ref's code comes from, as a trace line names it. */
interface Origin {
  root: string | null;
  plugin: string | null;
  version: string | null;
  /** For a sub served elsewhere (--remote): its server's URL. */
  remote?: string;
}

/**
 * A monitor logging every hub call: ref, caller, plugin root (its manifest's name and version; for a --remote sub, its
 * server's URL), duration and outcome.
 * In the format of every other diagnostic (the output module decides: JSON lines under --json or POP_LOG_FORMAT=json,
 * or auto off a terminal), so stderr never mixes two formats: a `{"msg":"call",...}` line, else one `pop: call ...` line.
 */
export function traceMonitor(hub: Hub): Monitor {
  const origins = new Map<string, Origin>();
  const originOf = (ref: string): Origin => {
    let o = origins.get(ref);
    if (!o) {
      const { root, remote } = refOrigin(hub, ref);
      o = { root: root ? root.dir : null, plugin: root?.manifest?.name ?? null, version: root?.manifest?.version ?? null };
      if (remote) o.remote = remote;
      origins.set(ref, o);
    }
    return o;
  };
  return {
    callers: true,
    after(call: CallEnd) {
      const o = originOf(call.ref);
      const duration = Math.round(call.duration * 1000) / 1000;
      const fields: Record<string, unknown> = { ref: call.ref, caller: call.caller ?? null, ...o, duration, outcome: call.outcome };
      if (call.outcome === "error") fields.error = messageOf(call.error);
      if (jsonLogs()) {
        log.info("call", fields);
        return;
      }
      const named = o.plugin ? `${o.plugin}${o.version ? ` ${o.version}` : ""}, ` : "";
      const where = o.remote ? ` (remote ${o.remote})` : o.root ? ` (${named}${rel(o.root)})` : " (built in)";
      const from = call.caller ? ` from ${call.caller}` : "";
      const end = call.outcome === "ok" ? "ok" : `error: ${fields.error}`;
      log.info(`call ${call.ref}${from} ${duration} ms ${end}${where}`);
    },
  };
}

function rel(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}
