import { addMonitor, type Hub, onHubClose } from "../hub/index.ts";
import { auditMonitor } from "./_audit.ts";
import { traceMonitor } from "./_trace.ts";

/** What to record of a hub's calls. */
export interface ObserveOptions {
  /** Log every call through the output module. */
  trace?: boolean;
  /** Append one JSON line per call to this file. */
  audit?: string;
}

/** Install the trace and audit monitors asked for; each comes off (and the audit file is closed) when the hub closes. Returns the undo. */
export function observeHub(hub: Hub, opts: ObserveOptions): () => void {
  const undo: Array<() => void> = [];
  if (opts.audit !== undefined) {
    const audit = auditMonitor(opts.audit);
    undo.push(addMonitor(hub, audit.monitor), audit.close);
  }
  if (opts.trace) undo.push(addMonitor(hub, traceMonitor(hub)));
  // Every undo runs; the first that threw (the audit file missing lines) is thrown after them.
  const all = () => {
    let failed: { error: unknown } | undefined;
    for (const u of undo.splice(0).reverse()) {
      try {
        u();
      } catch (e) {
        failed ??= { error: e };
      }
    }
    if (failed) throw failed.error;
  };
  const off = onHubClose(hub, all);
  return () => {
    off();
    all();
  };
}
