import type { Hub } from "pop";
import { addMonitor, type Monitor } from "../../src/hub/_internal.ts";

/**
 * Watch every hub call (pluggy's add_hookcall_monitoring): `before({ ref, args })` and `after({ ref, args, time, duration, outcome, result?, error? })`;
 * with `callers: true`, each also names its `caller` (the hub call it was made from). Returns the undo function; with no monitor left, calls go straight to the functions again.
 * @example
 * const undo = hub.pop.trace.add({ after: (c) => console.error(`${c.ref} ${c.outcome} ${c.duration.toFixed(2)} ms`) });
 */
export function add(hub: Hub, monitor: Monitor): () => void {
  return addMonitor(hub, monitor);
}
