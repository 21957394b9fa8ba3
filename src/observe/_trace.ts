import { isatty } from "node:tty";
import { relative } from "../_path.ts";
import { messageOf } from "../errors.ts";
import { type CallEnd, type Hub, type Monitor, refOrigin } from "../hub/index.ts";
import { errRaw, jsonLogs, log, outputSettings } from "../output.ts";

/** Where a ref's code comes from, as a trace line names it. */
interface Origin {
  root: string | null;
  plugin: string | null;
  version: string | null;
}

/**
 * A monitor logging every hub call: ref, caller, plugin root (its manifest's name and version), duration and outcome.
 * JSON lines when diagnostics are JSON (--json) or stderr is not a terminal (unless POP_LOG_FORMAT=text); else one
 * `pop: call ...` line through the output module.
 */
export function traceMonitor(hub: Hub): Monitor {
  const origins = new Map<string, Origin>();
  const originOf = (ref: string): Origin => {
    let o = origins.get(ref);
    if (!o) {
      const { root } = refOrigin(hub, ref);
      o = { root: root ? root.dir : null, plugin: root?.manifest?.name ?? null, version: root?.manifest?.version ?? null };
      origins.set(ref, o);
    }
    return o;
  };
  const json = () => jsonLogs() || (process.env.POP_LOG_FORMAT?.trim().toLowerCase() !== "text" && !isatty(2));
  return {
    callers: true,
    after(call: CallEnd) {
      const o = originOf(call.ref);
      const duration = Math.round(call.duration * 1000) / 1000;
      const fields: Record<string, unknown> = { ref: call.ref, caller: call.caller ?? null, ...o, duration, outcome: call.outcome };
      if (call.outcome === "error") fields.error = messageOf(call.error);
      if (json()) {
        if (jsonLogs()) log.info("call", fields);
        // The same line log.info would write, levels included (POP_LOG_LEVEL=warn silences it too).
        else if (!QUIET.has(outputSettings().level)) errRaw(JSON.stringify({ time: new Date(call.time).toISOString(), level: "info", msg: "call", ...fields }));
        return;
      }
      const where = o.root ? ` (${o.plugin ? `${o.plugin}${o.version ? ` ${o.version}` : ""}, ` : ""}${rel(o.root)})` : " (built in)";
      const from = call.caller ? ` from ${call.caller}` : "";
      const end = call.outcome === "ok" ? "ok" : `error: ${fields.error}`;
      log.info(`call ${call.ref}${from} ${duration} ms ${end}${where}`);
    },
  };
}

const QUIET = new Set(["error", "warn"]);

function rel(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}
