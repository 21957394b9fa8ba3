import { expect, test } from "bun:test";
import { join } from "node:path";
import { UsageError } from "../src/errors.ts";
import { closeHub } from "../src/hub/index.ts";
import { closeTestHubs, testHub } from "../src/testing/_hub.ts";
import { mockHub } from "../src/testing/_mock.ts";
import { ROOT, tmp, writeTree } from "./helpers.ts";

const SHOP = join(ROOT, "test/fixtures/testing/shop");

test("testHub: the project's subs with their init run, its config's defaults in hub.OPT", async () => {
  const hub = await testHub(SHOP);
  expect(hub.shop.ITEMS).toBeInstanceOf(Map);
  expect(hub.OPT.shop).toEqual({ currency: "EUR", limit: 10 });
  expect(Object.isFrozen(hub.OPT.shop)).toBe(true);
  await closeHub(hub);
  const bare = await testHub(SHOP, { config: false });
  expect(bare.OPT.shop).toBeUndefined();
});

test("testHub: a folder that does not exist is a UsageError naming it", async () => {
  await expect(testHub(join(SHOP, "nope"))).rejects.toThrow(UsageError);
  await expect(testHub(join(SHOP, "nope"))).rejects.toThrow(`project folder "${join(SHOP, "nope")}" is not a folder`);
});

test("mockHub: stand-ins with the real parameters, values and sub state as they are, OPT copied", async () => {
  const hub = await testHub(SHOP);
  const m = await mockHub(hub);
  expect(m.shop.cart.add.params).toEqual(["{item,qty}"]);
  expect(m.shop.cart.add.ref).toBe("shop.cart.add");
  expect(m.shop.ITEMS).toBe(hub.shop.ITEMS);
  expect(m.OPT.shop).toBe(hub.OPT.shop);
  expect(m.OPT).not.toBe(hub.OPT);
  // An async function's stand-in returns a promise, of undefined until the test says otherwise.
  const p = m.shop.stock.reserve("kiwi", 1);
  expect(p).toBeInstanceOf(Promise);
  expect(await p).toBeUndefined();
  m.shop.stock.reserve.returns(true);
  expect(await m.shop.stock.reserve("kiwi", 2)).toBe(true);
  expect(m.shop.stock.reserve.mock.calls).toEqual([
    ["kiwi", 1],
    ["kiwi", 2],
  ]);
  // bun:test's own API works on them (without the argument check).
  m.shop.cart.label.mockReturnValue("plain");
  expect(m.shop.cart.label("a")).toBe("plain");
  m.shop.cart.label.implement((item: string) => `<${item}>`);
  expect(m.shop.cart.label("a")).toBe("<a>");
  expect(() => (m.shop.cart.label as unknown as (...a: unknown[]) => unknown)("a", "b")).toThrow(
    `mock of "shop.cart.label" takes at most 1 argument (item), got 2`,
  );
});

test("mockHub: a rest parameter takes any number; a real ref that names nothing is an error", async () => {
  const dir = writeTree(tmp("pop-mock-"), {
    "util/many.ts": 'import type { Hub } from "pop";\nexport function log(hub: Hub, ...parts: string[]): number {\n  return hub ? parts.length : 0;\n}\n',
  });
  const m = await mockHub(await testHub(dir));
  m.util.many.log.returns(3);
  expect(m.util.many.log("a", "b", "c")).toBe(3);
  expect(m.util.many.log.params).toEqual(["...parts"]);
  await expect(mockHub(await testHub(dir), { real: ["util.many.nope"] })).rejects.toThrow(`mockHub: "real" names "util.many.nope"`);
});

test("mockHub with contracts and a real function: contracts run around both, the real one calls stand-ins", async () => {
  const m = await mockHub(await testHub(SHOP), { contracts: true, real: ["shop.cart.add"] });
  m.shop.stock.reserve.returns(true);
  // The schema coerces qty before the real add sees it; add calls the reserve stand-in.
  expect(await m.shop.cart.add({ item: "kiwi", qty: "2" as unknown as number })).toBe(2);
  expect(m.shop.stock.reserve).toHaveBeenCalledWith("kiwi", 2);
  expect(() => m.shop.cart.add({ item: "" })).toThrow(`Invalid argument "item" for "shop.cart.add"`);
  await closeTestHubs();
});

test("mockHub: .received holds what each stand-in got (coerced under contracts), .mock.calls what the caller passed; mockClear empties both", async () => {
  const m = await mockHub(await testHub(SHOP), { contracts: true });
  const add = m.shop.cart.add;
  expect(() => add({ item: "" })).toThrow(`Invalid argument "item" for "shop.cart.add"`);
  await add({ item: "kiwi", qty: "3" as unknown as number });
  await add({ item: "pear" });
  expect(add.mock.calls).toEqual([[{ item: "" }], [{ item: "kiwi", qty: "3" }], [{ item: "pear" }]]);
  expect(add.received).toEqual([[{ item: "kiwi", qty: 3 }], [{ item: "pear", qty: 1 }]]);
  expect(add.mockClear()).toBe(add);
  expect(add.received).toEqual([]);
  expect(add.mock.calls).toEqual([]);
  await add({ item: "fig" });
  add.mockReset();
  expect(add.received).toEqual([]);
  // Without contracts the stand-in gets what the caller passed, once the argument count is checked.
  const plain = await mockHub(await testHub(SHOP));
  expect(() => plain.shop.stock.reserve("a", 1, 2 as never)).toThrow("takes at most 2 arguments");
  plain.shop.stock.reserve("a", 1);
  expect(plain.shop.stock.reserve.received).toEqual([["a", 1]]);
  await closeTestHubs();
});
