// What pop call's two paths share: its full command (src/cli/call.ts) and its lean path (src/cli/_lean.ts), which
// runs before any of pop's other code is loaded. This file imports only the exit trap, which imports nothing.
import { releaseCallExit, trapCallExit } from "../hub/_exit.ts";

/**
 * Set once pop is ending on its own (a signal, an error no caller caught): its handler closes the hubs and exits, so
 * a call not yet made is not made, and a result not yet printed is not printed (src/cli/_main.ts sets it).
 */
export const ending = { now: false };

/**
 * The lean path's write of a result still in progress (src/cli/_lean.ts writes without the output module): what a
 * signal's or an uncaught error's exit waits for, as it waits for the output module's writes.
 */
export const writing: { now: Promise<unknown> | undefined } = { now: undefined };

/** What a command does once `ending` is set: wait for the handler's exit. */
export function never(): Promise<never> {
  return Promise.withResolvers<never>().promise;
}

/** Whether `text` holds a control character (C0, DEL or C1). A loop, not a regex: the first regex a process runs costs a compiled pop ~0.15 ms. */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * KEY=VALUE pairs as one object, values parsed as JSON where they parse; `bad`, the first word that is not KEY=VALUE,
 * or `again`, the first pair giving a key a second time (with `first`, the one that gave it): the caller says so.
 */
export function pairObject(pairs: string[]): { obj: Record<string, unknown> } | { bad: string } | { again: string; first: string } {
  // Keys are defined, not assigned: "__proto__" is a key like any other (assigning it would set the object's
  // prototype), and so are "constructor" and "prototype".
  const obj: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) return { bad: p };
    const key = p.slice(0, eq);
    const first = given.get(key);
    if (first !== undefined) return { again: p, first };
    given.set(key, p);
    const raw = p.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // kept as a string
    }
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { obj };
}

/** Marks a result scalarText leaves to JSON. */
export const NOT_SCALAR: unique symbol = Symbol("not a scalar");

/**
 * A result as pop call prints it when it is a scalar: strings as they are (undefined prints nothing), numbers,
 * booleans and null as JSON prints them (no trip through JSON.stringify's replacer), a bigint bare in text (as JSON
 * it is a string, "10"), NaN and Infinity as they are in text; NOT_SCALAR for the rest, and for NaN or Infinity
 * under --json, which has no form for them.
 */
export function scalarText(result: unknown, json: boolean): string | undefined | typeof NOT_SCALAR {
  if (!json && (typeof result === "string" || result === undefined)) return result;
  if (!json && typeof result === "bigint") return String(result);
  // x - x is 0 for a finite number only (NaN for NaN and the infinities): Number.isFinite's first use costs ~30 us.
  if ((typeof result === "number" && result - result === 0) || typeof result === "boolean" || result === null) return String(result);
  if (!json && typeof result === "number") return String(result);
  return NOT_SCALAR;
}

/**
 * `value` awaited, with the event loop kept waiting (a timer) while it is pending: Bun spins a core at 100% on an
 * await that never settles once nothing else is pending (docs/plugins.md), so a plugin's call whose promise never
 * settles would otherwise burn a CPU. It idles instead (until --timeout, or a signal). A value that is no promise, or
 * one settled within the turn, sets no timer.
 */
export async function settled<T>(value: T | Promise<T>): Promise<T> {
  if (!(value instanceof Promise)) return value;
  let done = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  setImmediate(() => {
    if (!done) timer = setInterval(() => {}, 1 << 30);
  });
  try {
    return await value;
  } finally {
    done = true;
    clearInterval(timer);
  }
}

/**
 * One turn of the event loop after a call returned: what the call left for the loop happens now, in every path
 * (an unhandled rejection is reported, a signal handled), not only when writing the result happens to take a turn.
 */
export function turn(): Promise<void> {
  // Promise.withResolvers, not new Promise(executor): the constructor's first use costs a compiled pop ~0.15 ms.
  const { promise, resolve } = Promise.withResolvers<void>();
  setImmediate(resolve);
  return promise;
}

/** The prototypes every built-in iterator and async iterator (generators, array and map iterators) inherit: found on first need, not at start-up. */
let protos: { sync: object; async: object } | undefined;
function iteratorProtos(): { sync: object; async: object } {
  return (protos ??= {
    sync: Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object,
    async: Object.getPrototypeOf(Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})()))) as object,
  });
}

/**
 * An iterator a function returned (a generator, sync or async: an `async function*` yields its chunks; an array's
 * or a map's iterator), read to its end as the list of what it gave, each value awaited: what pop call prints. Any
 * other result (an iterable object, an object merely tagged "Generator") as it is.
 */
export async function collected(result: unknown): Promise<unknown> {
  if (typeof result !== "object" || result === null) return result;
  const { sync, async } = iteratorProtos();
  if (async.isPrototypeOf(result)) {
    const chunks: unknown[] = [];
    await settled(
      (async () => {
        for await (const chunk of result as AsyncIterable<unknown>) chunks.push(chunk);
      })(),
    );
    return chunks;
  }
  if (!sync.isPrototypeOf(result)) return result;
  const items = [...(result as Iterable<unknown>)];
  return items.some((x) => x instanceof Promise) ? settled(Promise.all(items)) : items;
}

/**
 * Make the call as pop call makes it, on either path: process.exit() trapped while it runs (the function ending the
 * process is its failure, not pop's end), its promise awaited without spinning, a generator read to its end, then
 * one turn of the event loop. Throws what the function threw; never settles once pop is ending (a signal, an error
 * no caller caught), so no result is printed then.
 */
export async function callResult(invoke: () => unknown): Promise<unknown> {
  trapCallExit();
  try {
    const r = invoke();
    let result = r instanceof Promise ? await settled(r) : r;
    if (typeof result === "object" && result !== null) result = await collected(result);
    await turn();
    return ending.now ? never() : result;
  } finally {
    releaseCallExit();
  }
}
