// The host's end of an isolated sub: starts its worker or process, sends calls and matches the answers, bounds each
// call by the per-call timeout, answers the side's calls back into the hub, and after a crash or a timeout starts a
// fresh side on the next call. The host never dies with the side: every way the side can end is a rejected call.
import { IsolateError, messageOf, ShutdownError, TimeoutError } from "../errors.ts";
import { hubWarn, resolveFunction, state, type Hub } from "../hub/index.ts";
import { stdoutKeptForData } from "../output.ts";
import type { IsolateMode } from "./index.ts";
import { type Link, startProcess, startWorker } from "./_link.ts";
import { cloneable, fromWire, type SideMessage, type SubShape, toWire, whyNotCloneable } from "./_protocol.ts";

/** What the host needs to run one isolated sub. */
export interface HostOptions {
  mode: IsolateMode;
  folders: string[];
  timeout?: number | undefined;
  env?: string[] | undefined;
  memory?: number | undefined;
  /** A failed init.ts is a load failure of that module, not a failed start (default true; a strict hub never is). */
  tolerant?: boolean | undefined;
}

const SLOW_START = "did not load the sub";

/** How long a side whose call timed out has to answer a ping: one that does is awaiting (kept, the call abandoned), one that does not is spinning (ended). */
export const PROBE_MS = 200;

interface Pending {
  ref: string;
  /** The caller context of the call (AsyncLocalStorage.snapshot), kept while a monitor asks for callers: calls back run in it. */
  context?: <R>(fn: () => R) => R;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Side {
  link: Link;
  ready: Promise<SubShape>;
  calls: Map<number, Pending>;
  closed?: (errors: unknown[]) => void;
  ended: boolean;
  /** What the side said before it ended (an uncaught error), for the crash message. */
  why?: string;
  /** Settles once the side has ended. */
  exited: Promise<void>;
  /** A child that may have work of its own running (a server, a timer): it holds the host as it would in-process, until it says it is idle. */
  busy: boolean;
  /** pop itself is ending it (close, a timeout): its end is no news. */
  ending?: boolean;
  /** Calls sent to this side so far: an idle report counts the calls it had received. */
  sent: number;
  /** The hub.OPT entries the side has, by project: what it was sent last. */
  opt: Map<string, unknown>;
  /** Pings in flight after a timeout, by id: called with whether the side answered. */
  pings: Map<number, (answered: boolean) => void>;
  /** Settles once the pings in flight are answered (or the side ended): calls wait for it rather than join a side that may be spinning. */
  probing?: Promise<void> | undefined;
  /** Set while a restart waits for this (superseded) side's calls in flight to settle: called when the last one has. */
  drained?: (() => void) | undefined;
}

/** One isolated sub, seen from the host. */
export class IsolatedSub {
  #side: Side | undefined;
  #nextId = 1;
  #closed: string | undefined;
  readonly what: string;
  /** Bumped each time the hub gets new stand-ins for the sub (a reload that changed its modules): only the current ones' __shutdown__ closes the side. */
  generation = 0;
  /** Sides a reload replaced, still finishing their calls in flight: closing the sub closes them too. */
  #superseded = new Set<Side>();
  /** Sides a reload is starting (not yet current): closing the hub ends them too. */
  #starting = new Set<Side>();

  constructor(
    readonly hub: Hub,
    readonly name: string,
    readonly opts: HostOptions,
  ) {
    this.what = opts.mode === "worker" ? "worker" : "process";
  }

  /** Start the side (if none is running) and resolve to its modules once it has loaded the sub. */
  start(): Promise<SubShape> {
    return (this.#side ??= this.#spawn()).ready;
  }

  /** Call `ref` (sub.mod.fn) on the side: always a promise; bounded by the per-call timeout. */
  async call(ref: string, args: unknown[]): Promise<unknown> {
    if (this.#closed) throw new IsolateError(`cannot call "${ref}": ${this.#closed}, and with it the ${this.what} of sub "${this.name}"`, this.name);
    let side = (this.#side ??= this.#spawn());
    await side.ready;
    // A side being pinged after a timeout may be spinning: wait for the answer, then use it or (ended) a fresh one.
    while (side.probing) {
      await side.probing;
      side = this.#side ??= this.#spawn();
      await side.ready;
    }
    if (side.ended)
      throw new IsolateError(
        `sub "${this.name}" (${this.what}): the ${this.what} ended before "${ref}" could be sent; the next call starts a fresh one`,
        this.name,
      );
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { ref, resolve, reject, timer: undefined };
      if (state(this.hub).callerMonitors > 0) p.context = snapshot();
      const ms = this.opts.timeout;
      if (ms !== undefined && ms > 0) p.timer = setTimeout(() => this.#timedOut(side, id, ms), ms);
      try {
        const opt = optChanges(this.hub.OPT, side.opt);
        side.link.send(opt ? { t: "call", id, ref, args, opt } : { t: "call", id, ref, args });
      } catch (e) {
        clearTimeout(p.timer);
        reject(new TypeError(`the arguments of "${ref}" cannot cross to the ${this.what} of sub "${this.name}": ${whyNotCloneable(args, messageOf(e))}`));
        return;
      }
      side.calls.set(id, p);
      side.sent++;
      if (this.opts.mode === "process") side.busy = true; // until it says it is idle again
      hold(side);
    });
  }

  /** End the side (`why`: "the hub is closed"): its modules' __shutdown__ run there (bounded by the hub's shutdown timeout), then it is ended. Their errors are thrown together. */
  async close(why: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = why;
    // A side a reload is still starting has loaded nothing anyone called: it is ended (restart then says so).
    for (const side of this.#starting) {
      side.ending = true;
      side.link.kill(`was ended: the hub was closed while it started for a reload`);
    }
    // Sides a reload replaced first (their calls in flight are cut short), then the current one.
    const superseded = [...this.#superseded].filter((side) => !side.ended);
    this.#superseded.clear();
    const errors = (await Promise.all(superseded.map((side) => this.#shutDown(side, "was closed with the hub")))).flat();
    const side = this.#side;
    // One that never started has nothing to shut down.
    const started =
      side !== undefined &&
      !side.ended &&
      (await side.ready.then(
        () => true,
        () => false,
      ));
    if (started && !side.ended) errors.push(...(await this.#shutDown(side, "was closed with the hub")));
    if (errors.length > 0) throw errors.length === 1 ? errors[0] : new ShutdownError(errors as Error[]);
  }

  /**
   * Hot reload (--watch): start a fresh side on the sub's files as they are now and switch to it once it has loaded
   * them. Calls made from then on go to the new side; calls in flight finish on the old one, which is then shut down
   * (its modules' __shutdown__ run there) and ended, as an in-process reload does with the old copy of a module. A
   * side that fails to load, or whose modules `refuse` returns an error for, is ended and the old one keeps serving:
   * the error is thrown. Resolves to the new side's modules.
   */
  async restart(refuse?: (shape: SubShape) => unknown): Promise<SubShape> {
    if (this.#closed) throw new IsolateError(`sub "${this.name}" cannot be restarted: ${this.#closed}`, this.name);
    // Background work: while it loads, the fresh side does not keep pop running (an app whose cli returned ends), and
    // closing the hub ends it.
    const fresh = this.#spawn(true);
    this.#starting.add(fresh);
    let shape: SubShape;
    try {
      shape = await fresh.ready;
      if (this.#closed) throw new IsolateError(`sub "${this.name}" was not restarted: ${this.#closed} meanwhile`, this.name);
      const refused = refuse?.(shape);
      if (refused !== undefined) throw refused;
    } catch (e) {
      fresh.ending = true;
      fresh.link.kill("was ended: it was started for a reload that did not complete");
      await fresh.exited;
      throw e;
    } finally {
      this.#starting.delete(fresh);
    }
    const old = this.#side;
    this.#side = fresh;
    if (old && !old.ended) {
      this.#superseded.add(old);
      void this.#retireWhenIdle(old).finally(() => this.#superseded.delete(old));
    }
    return shape;
  }

  /** A superseded side: once its calls in flight have settled (at most the hub's shutdown timeout), shut it down and end it; what fails is a warning. */
  async #retireWhenIdle(side: Side): Promise<void> {
    const ms = state(this.hub).shutdownTimeout;
    if (side.calls.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = await new Promise<boolean>((resolve) => {
        side.drained = () => resolve(true);
        timer = setTimeout(() => resolve(false), ms);
        timer.unref?.(); // the calls in flight hold the process, not this wait
      });
      clearTimeout(timer);
      side.drained = undefined;
      if (!waited)
        hubWarn(
          this.hub,
          `sub "${this.name}" (${this.what}): calls still running on the old ${this.what} after ${ms} ms of the reload; it is shut down anyway`,
        );
    }
    if (side.ended || !this.#superseded.has(side)) return; // ended, or closed with the sub meanwhile
    const errors = await this.#shutDown(side, "was ended: a fresh one replaced it after the sub's files changed");
    for (const e of errors) hubWarn(this.hub, `sub "${this.name}": shutting the old ${this.what} down after a reload: ${messageOf(e)}`);
  }

  /** Ask a side to shut its modules down (bounded by the hub's shutdown timeout), then end it; resolves to the errors its hooks reported. */
  async #shutDown(side: Side, why: string): Promise<unknown[]> {
    const ms = state(this.hub).shutdownTimeout + 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const errors = await new Promise<unknown[]>((resolve) => {
      side.closed = resolve;
      timer = setTimeout(
        () => resolve([new TimeoutError(`sub "${this.name}" (${this.what}): its modules did not shut down within ${ms} ms; the ${this.what} was ended`, ms)]),
        ms,
      );
      side.ending = true;
      side.link.ref();
      side.link.send({ t: "close" });
    });
    clearTimeout(timer);
    // A child ends itself once its hub is closed; a worker, or a child that does not, is ended.
    let wait: ReturnType<typeof setTimeout> | undefined;
    if (this.opts.mode === "process") await Promise.race([side.exited, new Promise((res) => (wait = setTimeout(res, 2000)))]);
    clearTimeout(wait);
    side.link.kill(why);
    await side.exited;
    return errors;
  }

  #spawn(background = false): Side {
    let ready!: { resolve(v: SubShape): void; reject(e: unknown): void };
    let exited!: () => void;
    const side: Side = {
      exited: new Promise<void>((res) => (exited = res)),
      link: undefined as unknown as Link,
      ready: new Promise((resolve, reject) => (ready = { resolve, reject })),
      calls: new Map(),
      ended: false,
      busy: this.opts.mode === "process",
      sent: 0,
      opt: new Map(Object.entries(this.hub.OPT)),
      pings: new Map(),
    };
    let started = false;
    const events = {
      message: (m: SideMessage) => this.#onMessage(side, m, ready, () => (started = true)),
      exit: (ended: string) => {
        const why = side.why ?? ended;
        side.ended = true;
        exited();
        if (this.#side === side) this.#side = undefined;
        side.closed?.([]);
        const err = (ref?: string) =>
          new IsolateError(
            started
              ? `sub "${this.name}" (${this.what}): the ${this.what} ${why}${ref ? ` while "${ref}" was running` : ""}; the next call starts a fresh one`
              : `sub "${this.name}" (${this.what}): the ${this.what} ${why}${why.startsWith(SLOW_START) ? "" : " before it had loaded the sub"}`,
            this.name,
          );
        ready.reject(err());
        // Ended between calls (a timer of its own threw, it went over its memory limit): say so now, not at the next call.
        if (started && side.calls.size === 0 && !side.ending) hubWarn(this.hub, err().message);
        for (const [id, p] of side.calls) {
          this.#settle(side, id);
          p.reject(err(p.ref));
        }
        for (const answered of side.pings.values()) answered(false);
      },
    };
    side.ready.catch(() => {}); // a start that fails is reported to whoever awaits it, never as unhandled
    const stdoutForData = stdoutKeptForData();
    side.link = this.opts.mode === "worker" ? startWorker(events) : startProcess({ env: this.opts.env, memory: this.opts.memory, stdoutForData }, events);
    const s = state(this.hub);
    const hostSubs = [...new Set([...s.subs.keys(), ...s.dyne.keys()])];
    const opt = Object.fromEntries(Object.entries(this.hub.OPT).filter(([, v]) => cloneable(v)));
    side.link.send({
      t: "init",
      name: this.name,
      folders: this.opts.folders,
      hostSubs,
      opt,
      loadTimeout: s.loadTimeout,
      shutdownTimeout: s.shutdownTimeout,
      strict: s.strict,
      tolerant: this.opts.tolerant !== false,
      stdoutForData,
    });
    if (background) side.link.unref();
    // Bounded like any load: a side that never answers (an import that spins) is ended.
    if (s.loadTimeout > 0) {
      const t = setTimeout(
        () =>
          side.link.kill(
            `${SLOW_START} within ${s.loadTimeout} ms and was ended (an import or __init__ that never yields?); raise the limit with --load-timeout MS`,
          ),
        s.loadTimeout,
      );
      if (background) t.unref?.();
      side.ready.then(
        () => clearTimeout(t),
        () => clearTimeout(t),
      );
    }
    return side;
  }

  #onMessage(side: Side, m: SideMessage, ready: { resolve(v: SubShape): void; reject(e: unknown): void }, started: () => void): void {
    switch (m.t) {
      case "ready":
        started();
        hold(side);
        ready.resolve(m.tree);
        return;
      case "idle":
        if (m.calls !== side.sent) return; // sent before the child had our latest call: it may be busy again
        side.busy = false;
        hold(side);
        return;
      case "fatal":
        ready.reject(fromWire(m.error));
        this.#retire(side, "failed to load the sub");
        return;
      case "ret": {
        const p = side.calls.get(m.id);
        if (!p) return;
        this.#settle(side, m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(fromWire(m.error));
        return;
      }
      case "call": {
        const context = m.from === undefined ? undefined : side.calls.get(m.from)?.context;
        void (context ? context(() => this.#callBack(side, m.id, m.ref, m.args)) : this.#callBack(side, m.id, m.ref, m.args));
        return;
      }
      case "uncaught": {
        const e = fromWire(m.error);
        side.why = `threw an uncaught ${e instanceof Error ? `${e.name}: ${messageOf(e)}` : `value: ${messageOf(e)}`}`;
        return;
      }
      case "warn":
        hubWarn(this.hub, m.message);
        return;
      case "closed":
        side.closed?.(m.errors.map(fromWire));
        return;
      case "pong":
        side.pings.get(m.id)?.(true);
        return;
    }
  }

  /** A plugin of the isolated sub called into the hub: run it here, send the outcome back. */
  async #callBack(side: Side, id: number, ref: string, args: unknown[]): Promise<void> {
    let msg: Parameters<Link["send"]>[0];
    try {
      msg = { t: "back", id, ok: true, value: await resolveFunction(this.hub, ref)(...args) };
    } catch (e) {
      msg = { t: "back", id, ok: false, error: toWire(e) };
    }
    if (side.ended) return;
    try {
      side.link.send(msg);
    } catch (e) {
      side.link.send({
        t: "back",
        id,
        ok: false,
        error: toWire(
          new TypeError(`the result of "${ref}" cannot cross to sub "${this.name}": ${whyNotCloneable((msg as { value?: unknown }).value, messageOf(e))}`),
        ),
      });
    }
  }

  /**
   * A call ran past the timeout. The side is pinged: one that answers is awaiting something (an async call that never
   * settles), so only that call is abandoned, as in-process, and the side keeps its state and its other calls; one
   * that does not answer within PROBE_MS is spinning (while (true) {}), so it is ended and the next call starts afresh.
   */
  #timedOut(side: Side, id: number, ms: number): void {
    const p = side.calls.get(id);
    if (!p) return;
    this.#settle(side, id);
    const ping = this.#nextId++;
    let probed!: () => void;
    const probing = new Promise<void>((res) => (probed = res));
    side.probing = probing;
    const answered = (yes: boolean) => {
      if (!side.pings.delete(ping)) return;
      clearTimeout(timer);
      if (side.probing === probing) side.probing = undefined;
      probed(); // the calls waiting on it resume after #retire below has run: they then start a fresh side
      if (yes) {
        p.reject(
          new TimeoutError(
            `call "${p.ref}" timed out after ${ms} ms; its result is abandoned (sub "${this.name}" runs in a ${this.what}, which still answers and keeps running; raise the limit with --timeout MS, or 0 for none)`,
            ms,
          ),
        );
        return;
      }
      p.reject(
        new TimeoutError(
          `call "${p.ref}" timed out after ${ms} ms; sub "${this.name}" runs in a ${this.what}, which was ended (the next call starts a fresh one)`,
          ms,
        ),
      );
      this.#retire(side, `was ended because call "${p.ref}" timed out after ${ms} ms`);
    };
    const timer = setTimeout(() => answered(false), PROBE_MS); // a host timer: it keeps the host running until the answer
    side.pings.set(ping, answered);
    try {
      side.link.send({ t: "ping", id: ping });
    } catch {
      answered(false);
    }
  }

  /** End a side and forget it at once: the next call starts a fresh one, even before the old one's end is reported. */
  #retire(side: Side, why: string): void {
    side.ending = true;
    if (this.#side === side) this.#side = undefined;
    side.link.kill(why);
  }

  #settle(side: Side, id: number): void {
    const p = side.calls.get(id);
    if (p?.timer) clearTimeout(p.timer);
    side.calls.delete(id);
    hold(side);
    if (side.calls.size === 0) side.drained?.();
  }
}

/** The current async context, to run a function in later (loaded only once a monitor asks for callers). */
function snapshot(): <R>(fn: () => R) => R {
  return (require("node:async_hooks") as typeof import("node:async_hooks")).AsyncLocalStorage.snapshot();
}

/** Keep the host running while the side has calls in flight or (a child) work of its own; else let it exit. */
function hold(side: Side): void {
  if (side.ended) return;
  if (side.calls.size > 0 || side.busy) side.link.ref();
  else side.link.unref();
}

/**
 * The entries of hub.OPT (one per project, each replaced whole when its config loads) that changed since the side was
 * last sent them, or undefined: a few identity checks per call, and the config reaches the side once it is loaded.
 */
function optChanges(opt: Record<string, unknown>, sent: Map<string, unknown>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const key in opt) {
    const v = opt[key];
    if (sent.get(key) === v) continue;
    sent.set(key, v);
    if (cloneable(v)) (out ??= {})[key] = v;
  }
  return out;
}
