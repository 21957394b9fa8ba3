// The isolated side of an isolated sub (in a Worker or a child process, the same code): a hub of its own holding the
// sub (contracts and all, loaded eagerly), answering the host's calls, and sending its plugins' calls into other subs
// (hub.other.mod.f()) back to the host.
import { AsyncLocalStorage } from "node:async_hooks";
import { closeHub, createHub, hubFailures, type Hub } from "../hub/index.ts";
import { addSubMeta } from "../hub/_sub.ts";
import { putOptions, subMeta } from "../hub/_meta.ts";
import { moduleFunctions } from "../hub/_module.ts";
import type { SubMeta } from "../hub/_types.ts";
import { ShutdownError } from "../errors.ts";
import { keepStdoutForData } from "../output.ts";
import {
  cloneable,
  fromWire,
  type HostMessage,
  type InitMessage,
  type ModuleShape,
  type SideMessage,
  type SubShape,
  toWire,
  whyNotCloneable,
} from "./_protocol.ts";

/** Serve one isolated sub over `send` (the host's messages arrive through the returned handler). `done` runs once the hub is closed. */
export function serveSide(send: (m: SideMessage) => void, done: () => void): (m: HostMessage) => void {
  let hub: Hub | undefined;
  let name = "";
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();

  // Which of the host's calls a call back was made during, followed across awaits: the host's audit names it as the caller.
  const during = new AsyncLocalStorage<number>();
  const callHost = (ref: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      const from = during.getStore();
      try {
        send(from === undefined ? { t: "call", id, ref, args } : { t: "call", id, ref, args, from });
      } catch (e) {
        waiting.delete(id);
        reject(new TypeError(`the arguments of "${ref}" cannot cross to the host: ${whyNotCloneable(args, (e as Error).message)}`));
      }
    });

  const reply = (id: number, p: Promise<unknown>, ref: string) =>
    p.then(
      (value) => {
        try {
          send({ t: "ret", id, ok: true, value });
        } catch (e) {
          send({
            t: "ret",
            id,
            ok: false,
            error: toWire(new TypeError(`the result of "${ref}" cannot cross to the host: ${whyNotCloneable(value, (e as Error).message)}`)),
          });
        }
      },
      (e) => send({ t: "ret", id, ok: false, error: toWire(e) }),
    );

  const init = async (m: InitMessage) => {
    name = m.name;
    if (m.stdoutForData) keepStdoutForData(); // before the sub loads: its modules' top-level logging too
    // Until the sub is ready, its load failures are left to the host, which reports each when its module is reached
    // (as for a lazy sub in-process); other warnings cross at once.
    let starting = true;
    const h: Hub = createHub({
      warn: (message) => {
        if (!(starting && hubFailures(h).some((f) => f.message === message))) send({ t: "warn", message });
      },
      loadTimeout: m.loadTimeout,
      shutdownTimeout: m.shutdownTimeout,
      strict: m.strict,
    });
    hub = h;
    putOptions(h, m.opt);
    for (const other of m.hostSubs) if (other !== name && other !== "pop") h[other] = hostRef(other, callHost);
    await addSubMeta(h, { path: m.folders, name, load: "eager" }, m.tolerant && !m.strict);
    starting = false;
    send({ t: "ready", tree: shapeOf(hub, subMeta(hub[name])!) });
  };

  const close = async () => {
    const errors: unknown[] = [];
    try {
      if (hub) await closeHub(hub);
    } catch (e) {
      errors.push(...(e instanceof ShutdownError ? e.errors : [e]));
    }
    send({ t: "closed", errors: errors.map(toWire) });
    done();
  };

  return (m) => {
    switch (m.t) {
      case "init":
        init(m).catch((e) => send({ t: "fatal", error: toWire(e) }));
        return;
      case "call":
        if (m.opt) putOptions(hub!, m.opt); // the host's config changed since the last call
        reply(m.id, during.run(m.id, callLocal, hub!, m.ref, m.args), m.ref);
        return;
      case "back": {
        const w = waiting.get(m.id);
        if (!w) return;
        waiting.delete(m.id);
        if (m.ok) w.resolve(m.value);
        else w.reject(fromWire(m.error));
        return;
      }
      case "close":
        void close();
        return;
      case "ping":
        send({ t: "pong", id: m.id });
        return;
    }
  };
}

/** Call `sub.mod.fn` on the side's hub; a sync throw becomes a rejection. */
async function callLocal(hub: Hub, ref: string, args: unknown[]): Promise<unknown> {
  const parts = ref.split(".");
  const fn = parts.reduce<any>((o, k) => o?.[k], hub);
  return await (fn as (...a: unknown[]) => unknown)(...args);
}

/** The sub as loaded here: its folders, each module (its functions' hub names, public values that can be cloned, contracts applied, or why it failed), its sub-subs. */
function shapeOf(hub: Hub, meta: SubMeta): SubShape {
  const modules: Record<string, ModuleShape> = {};
  for (const [mod, rec] of meta.modules) {
    if (rec.state === "failed" && rec.error) modules[mod] = { file: rec.file, functions: [], values: {}, error: toWire(rec.error) };
    if (rec.state !== "loaded") continue;
    const ns = meta.object[mod] as Record<string, unknown>;
    const shape: ModuleShape = { file: rec.file, functions: [], values: {}, contracts: [...rec.contracts], fnContracts: {} };
    for (const [k, v] of Object.entries(ns)) {
      if (typeof v === "function") shape.functions.push(k);
      else if (cloneable(v)) shape.values[k] = v;
    }
    for (const f of moduleFunctions(rec)) shape.fnContracts![f.name] = f.contracts;
    modules[mod] = shape;
  }
  const subs: Record<string, SubShape> = {};
  for (const [child, obj] of meta.subs) subs[child] = shapeOf(hub, subMeta(obj)!);
  return { dirs: [...meta.dirs], modules, subs };
}

/** `hub.other` on the isolated side: any path below it, called, is a call of that ref on the host. */
function hostRef(path: string, callHost: (ref: string, args: unknown[]) => Promise<unknown>): unknown {
  const cache = new Map<string, unknown>();
  return new Proxy(function () {}, {
    get(_t, key) {
      if (typeof key !== "string" || key === "then") return undefined;
      let child = cache.get(key);
      if (child === undefined) cache.set(key, (child = hostRef(`${path}.${key}`, callHost)));
      return child;
    },
    apply(_t, _this, args) {
      return callHost(path, args);
    },
  });
}
