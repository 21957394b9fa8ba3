import type { Hub } from "pop";
import { resolveRef } from "../../src/hub/_internal.ts";

/** The object a ref names: `hub.pop.ref.last("rpc.math.fib")` is `hub.rpc.math.fib`. A mistyped ref says what you meant. */
export function last(hub: Hub, ref: string): any {
  return resolveRef(hub, ref).last;
}

/** Every object along a ref, hub first. */
export function path(hub: Hub, ref: string): unknown[] {
  return resolveRef(hub, ref).path;
}
