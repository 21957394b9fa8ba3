import type { Mock } from "bun:test";
import { bindChain } from "../hub/_call.ts";
import { buildChain, paramNames } from "../hub/_contracts.ts";
import { moduleFunctions } from "../hub/_module.ts";
import { quote } from "../errors.ts";
import { closest } from "../_suggest.ts";
import { type AnyFn, type Hub, type ModuleRecord, state, type SubMeta, subMeta } from "../hub/index.ts";

/** Options of `mockHub`. */
export interface MockHubOptions {
  /** Run each stand-in inside its function's real contracts (schemas, pre, call, post), as POP's ContractHub; default false (NoContractHub). */
  contracts?: boolean;
  /** Refs kept real ("shop.cart.add", or a module "shop.cart"): the real function, called with the mock hub, so what it calls through the hub are stand-ins. */
  real?: string[];
}

/** A stand-in for a hub function: a bun:test mock (`.mock.calls`, `toHaveBeenCalledWith`) with the real function's parameters. */
export type StandIn<F extends AnyFn = AnyFn> = Mock<F> & {
  /** The function's ref, e.g. "rpc.math.fib". */
  readonly ref: string;
  /** The real function's parameters after the hub, as written (`{num}` for a destructured object, `...rest`). */
  readonly params: readonly string[];
  /** Return this from now on (a promise of it for an async function), through the contracts when they apply. */
  returns(value: Awaited<ReturnType<F>>): StandIn<F>;
  /** Run this instead from now on (arguments still checked, contracts still applied). */
  implement(fn: F): StandIn<F>;
  /**
   * The arguments the stand-in's behaviour received, one list per call that reached it: under `contracts: true`, as
   * the schemas coerced them and after the pre contracts (`.mock.calls` holds what the caller passed, refused calls too).
   * Emptied by `mockClear` and `mockReset`.
   */
  readonly received: Parameters<F>[];
};

/** A hub whose functions are stand-ins: same refs, same values and sub state, each function a `StandIn`. */
export type MockHub<H = Hub> = { [K in keyof H]: H[K] extends AnyFn ? StandIn<H[K]> : H[K] extends object ? MockHub<H[K]> : H[K] };

/**
 * A copy of `hub` for unit tests (POP's `pop.testing` MockHub): every function of every sub is a stand-in that takes
 * the real function's parameters (too many arguments throw a TypeError naming them), records its calls and returns
 * what the test sets (`returns`, `implement`, or bun:test's `mockReturnValue`, which skips the argument check);
 * module values, sub state, `OPT` and `hub.pop` are the real hub's. Every module is loaded first.
 * @example
 * const m = await mockHub(await testHub(dir), { real: ["shop.cart.add"] });
 * m.shop.stock.reserve.returns(true);
 * m.shop.cart.add({ item: "kiwi" });
 * expect(m.shop.stock.reserve).toHaveBeenCalledWith("kiwi", 1);
 */
export async function mockHub<H extends Hub>(hub: H, opts: MockHubOptions = {}): Promise<MockHub<H>> {
  await hub.pop.sub.load();
  const { mock } = require("bun:test") as typeof import("bun:test");
  const real = new Set(opts.real ?? []);
  const used = new Set<string>();
  const refs = new Set<string>(); // every function and module ref, for the error on a real ref that names none
  const m = { pop: hub.pop, OPT: { ...hub.OPT } } as Record<string, unknown>;
  const mockSub = (meta: SubMeta): Record<string, unknown> => {
    const obj: Record<string, unknown> = {};
    for (const key of Object.keys(meta.object)) if (!meta.modules.has(key) && !meta.subs.has(key)) obj[key] = meta.object[key]; // sub state
    for (const rec of meta.modules.values()) if (rec.state === "loaded") obj[rec.name] = mockModule(rec);
    for (const [name, child] of meta.subs) obj[name] = mockSub(subMeta(child)!);
    return obj;
  };
  const mockModule = (rec: ModuleRecord): Record<string, unknown> => {
    const obj: Record<string, unknown> = {};
    const fns = moduleFunctions(rec);
    const fnKeys = new Set(fns.map((f) => f.exportName));
    // Values (constants, classes) as the hub shows them: public names that are not functions.
    for (const [key, value] of Object.entries(rec.exports ?? {})) if (key !== "default" && !key.startsWith("_") && !fnKeys.has(key)) obj[key] = value;
    refs.add(rec.ref);
    for (const f of fns) {
      refs.add(f.ref);
      if (real.has(f.ref) || real.has(rec.ref)) {
        used.add(real.has(f.ref) ? f.ref : rec.ref);
        obj[f.name] = opts.contracts ? bindChain(buildChain(m as Hub, rec, f.name, f.raw, rec.applied ?? [])) : (...args: unknown[]) => f.raw(m, ...args);
      } else obj[f.name] = standIn(f.ref, f.raw, rec, f.name, opts.contracts === true ? m : undefined, mock);
    }
    return obj;
  };
  for (const [name, meta] of state(hub).subs) if (name !== "pop") m[name] = mockSub(meta);
  const unknown = [...real].filter((r) => !used.has(r));
  if (unknown.length > 0) {
    const near = closest(unknown[0]!, refs);
    throw new RangeError(
      `mockHub: "real" names ${unknown.map(quote).join(", ")}, which is no function or module on the hub${near ? ` (did you mean ${quote(near)}?)` : ""}: give a function's ref ("shop.cart.add") or a module's ("shop.cart")`,
    );
  }
  return m as MockHub<H>;
}

function standIn(
  ref: string,
  raw: AnyFn,
  rec: ModuleRecord,
  name: string,
  contractHub: Record<string, unknown> | undefined,
  mock: typeof import("bun:test").mock,
) {
  const params = paramNames(raw).slice(1);
  const max = params.some((p) => p.startsWith("...")) ? Infinity : params.length;
  const isAsync = raw.constructor?.name === "AsyncFunction";
  let behaviour: AnyFn = () => undefined;
  const received: unknown[][] = [];
  const body = (_hub: unknown, ...args: unknown[]) => {
    received.push(args);
    const r = behaviour(...args);
    return isAsync && !(r instanceof Promise) ? Promise.resolve(r) : r;
  };
  // Under contracts the stand-in is the chain's function: schemas, pre, call and post run around it, as for the real one.
  const call = contractHub ? bindChain(buildChain(contractHub as Hub, rec, name, body, rec.applied ?? [])) : (...args: unknown[]) => body(undefined, ...args);
  const check = (...args: unknown[]) => {
    if (args.length > max)
      throw new TypeError(`mock of "${ref}" takes at most ${max} argument${max === 1 ? "" : "s"} (${params.join(", ")}), got ${args.length}`);
    return call(...args);
  };
  const fn = mock(check) as unknown as StandIn;
  Object.defineProperty(fn, "ref", { value: ref });
  Object.defineProperty(fn, "params", { value: Object.freeze(params) });
  Object.defineProperty(fn, "received", { value: received });
  for (const clear of ["mockClear", "mockReset"] as const) {
    const own = fn[clear].bind(fn);
    Object.defineProperty(fn, clear, {
      value: () => {
        received.length = 0;
        own();
        // bun's mockReset drops the implementation (a bare mock: no argument check, no promise, no contracts): back to the start.
        if (clear === "mockReset") {
          behaviour = () => undefined;
          fn.mockImplementation(check);
        }
        return fn;
      },
    });
  }
  Object.defineProperty(fn, "returns", {
    value: (value: unknown) => {
      behaviour = () => value;
      fn.mockImplementation(check);
      return fn;
    },
  });
  Object.defineProperty(fn, "implement", {
    value: (impl: AnyFn) => {
      behaviour = impl;
      fn.mockImplementation(check);
      return fn;
    },
  });
  return fn;
}
