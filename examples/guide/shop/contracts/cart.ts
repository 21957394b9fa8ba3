import { z, type ContractContext, type Hub } from "pop";

// Schema contract: the first argument of add is validated and coerced ("3" becomes 3).
export const schema_add = {
  arg: z.object({ item: z.string().min(1), qty: z.coerce.number().int().positive().default(1) }),
  ret: z.number(),
};

/** Function-specific pre contract: runs before add, may refuse the call by throwing. */
export function pre_add(hub: Hub, ctx: ContractContext): void {
  const { item } = ctx.args[0] as { item: string };
  if (item === "durian") throw new Error("durian is not allowed in the cart");
}

/** Module-wide post contract: every cart function's result passes here; returning a value replaces it. */
export function post(hub: Hub, ctx: ContractContext): unknown {
  hub.shop.CALLS = (hub.shop.CALLS ?? 0) + 1;
  return undefined;
}
