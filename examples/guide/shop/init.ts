import type { Hub } from "pop";

/** Runs once when the shop sub is added: the sub keeps its state on its own namespace. */
export function __init__(hub: Hub): void {
  hub.shop.ITEMS = new Map<string, number>();
}
