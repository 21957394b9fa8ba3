// Watching a hub's calls: --trace logs each call as a structured line, --audit appends one JSON line per call to a
// file. Both hang on the hub's call monitor (addMonitor), so calls into isolated and remote subs are seen like any
// other; this folder is imported only when one of them is asked for.
export { observeHub, type ObserveOptions } from "./_observe.ts";
export { auditMonitor } from "./_audit.ts";
export { traceMonitor } from "./_trace.ts";
