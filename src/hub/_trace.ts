// The call monitor (pluggy's add_hookcall_monitoring): `hub.pop.trace.add({ before, after })` swaps every hub
// function for a reporting wrapper and returns `undo`, which swaps the bare functions back once no monitor is left.
// With no monitor installed the call path is exactly the bare bound function: nothing here runs per call.
import { messageOf, UsageError } from "../errors.ts";
import { state } from "./_meta.ts";
import type { AnyFn, Hub } from "./_types.ts";

/** What a monitor's `before` gets: the function's ref and its arguments (hub excluded). */
export interface CallStart {
  ref: string;
  args: unknown[];
}

/** What a monitor's `after` gets: the call, how long it took (ms, to settling for async calls) and how it ended. */
export interface CallEnd extends CallStart {
  duration: number;
  outcome: "ok" | "error";
  result?: unknown;
  error?: unknown;
}

/** A call monitor: either hook may be left out. A hook that throws is reported once and never breaks the call. */
export interface Monitor {
  before?(call: CallStart): void;
  after?(call: CallEnd): void;
}

/**
 * Watch every hub call. Returns the undo function.
 * @example
 * const undo = hub.pop.trace.add({ after: (c) => console.error(c.ref, c.duration, c.outcome) });
 * await hub.rpc.math.fib({ num: 11 }); // reported
 * undo();
 */
export function addMonitor(hub: Hub, monitor: Monitor): () => void {
  if (
    !monitor ||
    typeof monitor !== "object" ||
    (monitor.before !== undefined && typeof monitor.before !== "function") ||
    (monitor.after !== undefined && typeof monitor.after !== "function")
  ) {
    throw new UsageError(`hub.pop.trace.add takes { before?(call), after?(call) }, each a function; got ${messageOf(monitor)}`, "hub.pop.trace.add", {
      hint: false,
    });
  }
  const s = state(hub);
  s.monitors.push(monitor);
  if (s.monitors.length === 1) retrace(hub, true);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const at = s.monitors.indexOf(monitor);
    if (at >= 0) s.monitors.splice(at, 1);
    if (s.monitors.length === 0) retrace(hub, false);
  };
}

/** Put the traced (on) or bare (off) functions on every built module object. */
function retrace(hub: Hub, on: boolean): void {
  for (const rec of state(hub).loaded) {
    const ns = rec.object;
    const bare = rec.bare;
    if (!ns || !bare || rec.gated) continue; // a gated module is traced when its __init__ settles
    for (const name of Object.keys(bare)) ns[name] = on ? traceFn(hub, `${rec.ref}.${name}`, bare[name]!) : bare[name];
  }
}

/** A wrapper reporting each call of `fn` to the hub's monitors (read at call time). No closure or copy per call. */
export function traceFn(hub: Hub, ref: string, fn: AnyFn): AnyFn {
  const monitors = state(hub).monitors;
  const traced = function (...args: unknown[]): unknown {
    for (let i = 0; i < monitors.length; i++) {
      const m = monitors[i]!;
      if (m.before) {
        try {
          m.before({ ref, args });
        } catch (e) {
          complain(hub, m, e);
        }
      }
    }
    const t0 = performance.now();
    let r: unknown;
    try {
      r = fn(...args);
    } catch (error) {
      end(hub, monitors, { ref, args, duration: performance.now() - t0, outcome: "error", error });
      throw error;
    }
    if (r instanceof Promise) {
      return r.then(
        (result) => {
          end(hub, monitors, { ref, args, duration: performance.now() - t0, outcome: "ok", result });
          return result;
        },
        (error) => {
          end(hub, monitors, { ref, args, duration: performance.now() - t0, outcome: "error", error });
          throw error;
        },
      );
    }
    end(hub, monitors, { ref, args, duration: performance.now() - t0, outcome: "ok", result: r });
    return r;
  };
  Object.defineProperty(traced, "name", { value: fn.name });
  return traced;
}

function end(hub: Hub, monitors: Monitor[], call: CallEnd): void {
  for (let i = 0; i < monitors.length; i++) {
    const m = monitors[i]!;
    if (!m.after) continue;
    try {
      m.after(call);
    } catch (e) {
      complain(hub, m, e);
    }
  }
}

const reported = new WeakSet<object>();

/** A monitor that threw: said once per monitor, not once per call; the call goes on. */
function complain(hub: Hub, monitor: Monitor, e: unknown): void {
  if (reported.has(monitor)) return;
  reported.add(monitor);
  state(hub).warn(`a call monitor threw (the call went on): ${messageOf(e)}`);
}
