import type { Hub } from "pop";

/** Runs when the poppy sub is added. */
export function __init__(hub: Hub): void {
  hub.poppy.GREETING = "Hello World!";
}
