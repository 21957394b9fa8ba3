// The call monitor (pluggy's add_hookcall_monitoring): `hub.pop.trace.add({ before, after })` swaps every hub
// function for a reporting wrapper and returns `undo`, which swaps the bare functions back once no monitor is left.
// With no monitor installed the call path is exactly the bare bound function: nothing here runs per call.
import { messageOf, TimeoutError, UsageError } from "../errors.ts";
import { state } from "./_meta.ts";
import type { AnyFn, Hub, ModuleRecord } from "./_types.ts";

/** What a monitor's `before` gets: the function's ref, its arguments (hub excluded) and the ref of the hub call it was made from, if any. */
export interface CallStart {
  ref: string;
  args: unknown[];
  /** Set for monitors added with `callers: true`; undefined for a call made from outside any hub call. */
  caller?: string | undefined;
}

/** What a monitor's `after` gets: the call, when it started (epoch ms), how long it took (ms, to settling for async calls) and how it ended. */
export interface CallEnd extends CallStart {
  time: number;
  duration: number;
  outcome: "ok" | "error";
  result?: unknown;
  error?: unknown;
}

/**
 * A call monitor: either hook may be left out. A hook that throws is reported once and never breaks the call.
 * `callers: true` asks for `call.caller` (the hub call a call was made from, followed across awaits): it costs an
 * AsyncLocalStorage scope per call while such a monitor is on, so monitors that do not need it leave it out.
 */
export interface Monitor {
  before?(call: CallStart): void;
  after?(call: CallEnd): void;
  callers?: boolean;
  /** An `after` of this monitor that throws fails the call with that error, once every monitor ran (the audit: a call that cannot be recorded must not return). */
  failCalls?: boolean;
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
  // Which hub call a call was made from follows async code (an AsyncLocalStorage): only for monitors asking for it.
  if (monitor.callers) callers ??= new (require("node:async_hooks") as typeof import("node:async_hooks")).AsyncLocalStorage<string>();
  s.monitors.push(monitor);
  if (monitor.callers) s.callerMonitors++;
  if (s.monitors.length === 1) retrace(hub);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const at = s.monitors.indexOf(monitor);
    if (at >= 0) s.monitors.splice(at, 1);
    if (monitor.callers) s.callerMonitors--;
    if (s.monitors.length === 0) retrace(hub);
  };
}

let callers: import("node:async_hooks").AsyncLocalStorage<string> | undefined;

/**
 * Run `fn` as if called from `caller`: the hub calls it makes report that as their `caller` to monitors asking for
 * callers (pop serve names the client: "http 127.0.0.1"). Without such a monitor it is a plain call.
 */
export function withCaller<T>(hub: Hub, caller: string, fn: () => T): T {
  return state(hub).callerMonitors > 0 ? callers!.run(caller, fn) : fn();
}
/** performance.timeOrigin, read once (a getter): a call's `time` is ORIGIN + its performance.now() start. */
const ORIGIN = performance.timeOrigin;

/** Whether hub functions are wrapped: while a monitor watches, or a per-call timeout is set. */
export function wrapsCalls(hub: Hub): boolean {
  const s = state(hub);
  return s.monitors.length > 0 || s.callTimeout > 0;
}

/** Set the hub's per-call timeout (ms, 0 for none): an async call still running then rejects with a TimeoutError naming its ref. */
export function setCallTimeout(hub: Hub, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new UsageError(`a call timeout is a whole number of milliseconds (0 for none); got ${messageOf(ms)}`, "createHub", { hint: false });
  const s = state(hub);
  const before = wrapsCalls(hub);
  s.callTimeout = ms;
  if (wrapsCalls(hub) !== before) retrace(hub);
}

/** Put the wrapped (monitors or a timeout) or bare functions on every built module object. */
function retrace(hub: Hub): void {
  const on = wrapsCalls(hub);
  for (const rec of state(hub).loaded) {
    const ns = rec.object;
    const bare = rec.bare;
    if (!ns || !bare || rec.gated) continue; // a gated module is traced when its __init__ settles
    for (const name of Object.keys(bare)) ns[name] = on ? traceFn(hub, `${rec.ref}.${name}`, bare[name]!, rec) : bare[name];
  }
}

/**
 * A wrapper reporting each call of `fn` to the hub's monitors (read at call time) and bounding an async call by the
 * hub's call timeout. No closure or copy per call beyond the monitors' records.
 */
export function traceFn(hub: Hub, ref: string, fn: AnyFn, rec?: ModuleRecord): AnyFn {
  const s = state(hub);
  const monitors = s.monitors;
  // An isolated or remote sub bounds its calls itself (and can stop them, which the hub cannot): no second timer.
  const own = rec !== undefined && placedSub(rec);
  const traced = function (...args: unknown[]): unknown {
    const limit = own ? 0 : s.callTimeout;
    if (monitors.length === 0) return limit > 0 ? bound(limit, ref, fn(...args)) : fn(...args);
    const tracking = s.callerMonitors > 0;
    const caller = tracking ? callers!.getStore() : undefined;
    // One shape for every record (literals, no spreads): the monitors' path stays monomorphic.
    const start: CallStart = { ref, args, caller };
    for (let i = 0; i < monitors.length; i++) {
      const m = monitors[i]!;
      if (m.before) {
        try {
          m.before(start);
        } catch (e) {
          complain(hub, m, e);
        }
      }
    }
    const t0 = performance.now();
    let r: unknown;
    try {
      r = tracking ? callers!.run(ref, fn, ...args) : fn(...args);
    } catch (error) {
      end(hub, monitors, { ref, args, caller, time: ORIGIN + t0, duration: performance.now() - t0, outcome: "error", result: undefined, error });
      throw error;
    }
    if (r instanceof Promise) {
      return bound(limit, ref, r).then(
        (result) => {
          end(hub, monitors, { ref, args, caller, time: ORIGIN + t0, duration: performance.now() - t0, outcome: "ok", result, error: undefined });
          return result;
        },
        (error) => {
          end(hub, monitors, { ref, args, caller, time: ORIGIN + t0, duration: performance.now() - t0, outcome: "error", result: undefined, error });
          throw error;
        },
      );
    }
    end(hub, monitors, { ref, args, caller, time: ORIGIN + t0, duration: performance.now() - t0, outcome: "ok", result: r, error: undefined });
    return r;
  };
  Object.defineProperty(traced, "name", { value: fn.name });
  return traced;
}

/** Whether the module is in a sub placed by isolateSub or remoteSub (a top-level sub the hub marked placed). */
function placedSub(rec: ModuleRecord): boolean {
  let m = rec.sub;
  while (m.parent) m = m.parent;
  return m.placed === true;
}

/**
 * An async call's promise, rejected with a TimeoutError naming the ref once `ms` pass (0: as it is). A synchronous
 * call cannot be interrupted in-process (an isolated sub can be): its value passes through.
 */
function bound(ms: number, ref: string, r: unknown): Promise<unknown> {
  if (!(r instanceof Promise) || ms <= 0) return r as Promise<unknown>;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`call "${ref}" timed out after ${ms} ms; its result is abandoned (raise the limit with --timeout MS, or 0 for none)`, ms)),
      ms,
    );
  });
  return Promise.race([r, limit]).finally(() => clearTimeout(timer));
}

/** Report a call's end to every monitor; a failCalls monitor's throw is thrown once all of them ran (the call fails with it). */
function end(hub: Hub, monitors: Monitor[], call: CallEnd): void {
  let failed: { error: unknown } | undefined;
  for (let i = 0; i < monitors.length; i++) {
    const m = monitors[i]!;
    if (!m.after) continue;
    try {
      m.after(call);
    } catch (e) {
      if (m.failCalls) failed ??= { error: e };
      else complain(hub, m, e);
    }
  }
  if (failed) throw failed.error;
}

const reported = new WeakSet<object>();

/** A monitor that threw: said once per monitor, not once per call; the call goes on. */
function complain(hub: Hub, monitor: Monitor, e: unknown): void {
  if (reported.has(monitor)) return;
  reported.add(monitor);
  state(hub).warn(`a call monitor threw (the call went on): ${messageOf(e)}`);
}
