// Calls in flight per module, counted through the call monitor while something asks for it (watchHub does): a reload
// shuts the old copy of a module down once the calls that were running on it have settled. While nothing tracks,
// nothing is counted and the bare call path is untouched (the monitor's cost is paid only while it is installed).
import { addMonitor, type CallEnd, type CallStart } from "./_trace.ts";
import type { Hub } from "./_types.ts";

interface Waiter {
  pending: Set<unknown[]>;
  done(): void;
}

interface Tracker {
  /** Function ref -> the argument arrays of its calls running now (one array per call: the monitor's start and end share it). */
  live: Map<string, Set<unknown[]>>;
  waiters: Set<Waiter>;
  users: number;
  undo(): void;
}

const trackers = new WeakMap<Hub, Tracker>();

/** Count the hub's calls in flight per function until the returned function is called (counted: several users share one monitor). */
export function trackCalls(hub: Hub): () => void {
  let t = trackers.get(hub);
  if (!t) {
    const live = new Map<string, Set<unknown[]>>();
    const waiters = new Set<Waiter>();
    const undo = addMonitor(hub, {
      before(call: CallStart) {
        let set = live.get(call.ref);
        if (set === undefined) live.set(call.ref, (set = new Set()));
        set.add(call.args);
      },
      after(call: CallEnd) {
        live.get(call.ref)?.delete(call.args);
        if (waiters.size > 0) for (const w of waiters) if (w.pending.delete(call.args) && w.pending.size === 0) w.done();
      },
    });
    t = { live, waiters, users: 0, undo };
    trackers.set(hub, t);
  }
  const tracker = t;
  tracker.users++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--tracker.users > 0) return;
    tracker.undo();
    trackers.delete(hub);
    // Nothing is counted any more (the hub is closing, or the watch stopped): nobody waits on a count that cannot end.
    for (const w of tracker.waiters) {
      w.pending.clear();
      w.done();
    }
  };
}

/** The calls running now on module `ref`'s functions (`ref.fn`, not a sub-module's `ref.sub.fn`). */
function runningOn(t: Tracker, ref: string): Set<unknown[]> {
  const out = new Set<unknown[]>();
  const prefix = `${ref}.`;
  for (const [fn, calls] of t.live) if (fn.startsWith(prefix) && !fn.includes(".", prefix.length)) for (const c of calls) out.add(c);
  return out;
}

/** How many calls are running now on module `ref` (0 when nothing tracks the hub's calls). */
export function callsRunning(hub: Hub, ref: string): number {
  const t = trackers.get(hub);
  return t ? runningOn(t, ref).size : 0;
}

/**
 * Wait until the calls running now on module `ref` have settled, at most `ms` (0: no bound). Resolves with how many
 * were still running when it gave up (0 when all settled, or when nothing tracks the hub's calls).
 */
export function settleCalls(hub: Hub, ref: string, ms: number): Promise<number> {
  const t = trackers.get(hub);
  const pending = t ? runningOn(t, ref) : undefined;
  if (!t || !pending || pending.size === 0) return Promise.resolve(0);
  return new Promise<number>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const w: Waiter = {
      pending,
      done() {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        t.waiters.delete(w);
        resolve(pending.size);
      },
    };
    t.waiters.add(w);
    if (ms > 0) timer = setTimeout(() => w.done(), ms);
  });
}
