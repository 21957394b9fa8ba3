// Which functions `pop serve` answers for: every function of every loaded module of the served sub (or of every
// sub but pop's own when no --sub is given), by ref relative to that sub. Only these are callable over HTTP:
// a ref into data on the hub, pop's built-ins or a private name never resolves.
import { type Hub, inspectHub, resolveRef, state, type SubView } from "../hub/index.ts";
import type { RefInfo } from "./_wire.ts";

/** A served function: where to find it at call time (the module object, so a trace wrapper or a reload is seen). */
export interface Target {
  /** Ref relative to the served sub. */
  ref: string;
  /** Ref on the hub. */
  full: string;
  module: Record<string, unknown>;
  name: string;
  info: RefInfo;
}

/** The served functions, rebuilt when the hub has loaded or reloaded modules since. */
export class RefIndex {
  private targets = new Map<string, Target>();
  private seen = -1;
  private generation = "";

  constructor(
    private readonly hub: Hub,
    /** The served sub, or undefined for every sub. */
    readonly sub: string | undefined,
  ) {
    this.refresh();
  }

  /** The target of a relative ref, or undefined. */
  get(ref: string): Target | undefined {
    return this.targets.get(ref) ?? (this.refresh() ? this.targets.get(ref) : undefined);
  }

  /** Every served function, sorted by ref. */
  list(): Target[] {
    this.refresh();
    return [...this.targets.values()].sort((a, b) => (a.ref < b.ref ? -1 : 1));
  }

  /** Rebuild when the hub's loaded modules changed; true when it did. */
  refresh(): boolean {
    const loaded = state(this.hub).loaded;
    const gen = loaded.map((r) => r.generation ?? 0).join(",");
    if (loaded.length === this.seen && gen === this.generation) return false;
    this.seen = loaded.length;
    this.generation = gen;
    const next = new Map<string, Target>();
    const prefix = this.sub === undefined ? "" : `${this.sub}.`;
    const walk = (sub: SubView) => {
      for (const m of sub.modules) {
        if (m.state !== "loaded" || m.functions.length === 0) continue;
        let module: Record<string, unknown>;
        try {
          module = resolveRef(this.hub, m.ref).last as Record<string, unknown>;
        } catch {
          continue;
        }
        for (const f of m.functions) {
          if (f.name.startsWith("_")) continue;
          const ref = f.ref.slice(prefix.length);
          next.set(ref, { ref, full: f.ref, module, name: f.name, info: { ref, params: f.params, doc: f.doc } });
        }
      }
      for (const s of sub.subs) walk(s);
    };
    for (const sub of inspectHub(this.hub).subs) {
      if (sub.name === "pop") continue;
      if (this.sub === undefined || sub.name === this.sub) walk(sub);
    }
    this.targets = next;
    return true;
  }
}
