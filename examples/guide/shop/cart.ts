import type { Hub } from "pop";
import { total } from "./_helpers.ts";

// Exported as del_ (delete is a reserved word), called as hub.shop.cart.delete.
export const __func_alias__ = { del_: "delete" };

/** Put qty of an item in the cart; returns the new quantity. */
export function add(hub: Hub, { item, qty = 1 }: { item: string; qty?: number }): number {
  const items: Map<string, number> = hub.shop.ITEMS;
  items.set(item, (items.get(item) ?? 0) + qty);
  return items.get(item)!;
}

/** Remove an item entirely. */
export function del_(hub: Hub, { item }: { item: string }): boolean {
  return hub.shop.ITEMS.delete(item);
}

/** Every item with its quantity, and the total count. */
export function list(hub: Hub): { items: Record<string, number>; count: number } {
  const items = Object.fromEntries(hub.shop.ITEMS as Map<string, number>);
  return { items, count: total(items) };
}

/** A little session: several calls through the hub, contracts included. */
export function demo(hub: Hub): unknown {
  hub.shop.cart.add({ item: "apple", qty: "3" });
  hub.shop.cart.add({ item: "pear" });
  hub.shop.cart.add({ item: "fig", qty: 2 });
  hub.shop.cart.delete({ item: "fig" });
  return hub.shop.cart.list();
}
