import { expect, test } from "bun:test";
import { cpSync, rmSync, writeFileSync } from "node:fs";
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

test("testHub options: plugins merged after the project, env for discovery only, load eager, strict false", async () => {
  const extra = tmp("pop-testhub-extra-");
  writeTree(extra, {
    "tools/util.ts": "export const LOADED = Date.now();\nexport function twice(hub: unknown, n: number): number {\n  return n * 2;\n}\n",
    "tools/broken.ts": "export function f(hub: unknown): number {\n  return 1;\n}\nthrow new Error('broken on purpose');\n",
  });
  await expect(testHub(SHOP, { plugins: [extra], load: "eager" })).rejects.toThrow("broken on purpose"); // strict by default
  const hub = await testHub(SHOP, { plugins: [extra], strict: false });
  expect(hub.tools.util.twice(4)).toBe(8);
  expect(hub.OPT.shop.limit).toBe(10);
  await closeHub(hub);
  // POP_PLUGIN_PATH is read from env only: the process environment is not the test's.
  process.env.POP_PLUGIN_PATH = extra;
  try {
    expect((await testHub(SHOP)).tools).toBeUndefined();
  } finally {
    delete process.env.POP_PLUGIN_PATH;
  }
  rmSync(join(extra, "tools/broken.ts"));
  const viaEnv = await testHub(SHOP, { env: { POP_PLUGIN_PATH: extra } });
  expect(viaEnv.tools.util.twice(2)).toBe(4);
});

test("testHub config: a name CONFIG does not have is a UsageError naming it and the options there are", async () => {
  await expect(testHub(SHOP, { config: { limt: 3 } })).rejects.toThrow(
    'testHub: config names "limt", which CONFIG in ' + join(SHOP, "conf.ts") + ' does not have: its options are "currency", "limit"',
  );
  await expect(testHub(SHOP, { config: { limt: 3 } })).rejects.toThrow(UsageError);
  expect((await testHub(SHOP, { config: { limit: 3 } })).OPT.shop.limit).toBe(3);
});

test("testHub reads the project folder's config file (not the working directory's), never the environment; config beats both", async () => {
  const dir = tmp("pop-testhub-conffile-");
  cpSync(SHOP, dir, { recursive: true });
  writeFileSync(join(dir, "shop.config.json"), '{ "limit": 4 }\n');
  process.env.SHOP_LIMIT = "7";
  try {
    expect((await testHub(dir)).OPT.shop).toEqual({ currency: "EUR", limit: 4 });
    expect((await testHub(dir, { config: { limit: 5 } })).OPT.shop.limit).toBe(5);
  } finally {
    delete process.env.SHOP_LIMIT;
  }
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

test("mockHub: a real ref that names nothing says what is near and what a ref looks like", async () => {
  const hub = await testHub(SHOP);
  await expect(mockHub(hub, { real: ["shop.cart.ad"] })).rejects.toThrow(
    'mockHub: "real" names "shop.cart.ad", which is no function or module on the hub (did you mean "shop.cart.add"?): give a function\'s ref ("shop.cart.add") or a module\'s ("shop.cart")',
  );
});

test("mockHub: mockReset puts a stand-in back as it started (undefined, its argument check, contracts), not a bare mock", async () => {
  const m = await mockHub(await testHub(SHOP), { contracts: true });
  m.shop.stock.reserve.returns(true);
  expect(await m.shop.stock.reserve("a", 1)).toBe(true);
  m.shop.stock.reserve.mockReset();
  expect(m.shop.stock.reserve.mock.calls).toEqual([]);
  expect(m.shop.stock.reserve.received).toEqual([]);
  const r = m.shop.stock.reserve("a", 1);
  expect(r).toBeInstanceOf(Promise);
  expect(await r).toBeUndefined();
  const loose = m.shop.stock.reserve as unknown as (...args: unknown[]) => unknown;
  expect(() => loose("a", 1, 2)).toThrow('mock of "shop.stock.reserve" takes at most 2 arguments (item, qty), got 3');
  m.shop.cart.label.returns("x");
  m.shop.cart.label.mockReset();
  m.shop.cart.label.returns("y");
  expect(m.shop.cart.label("kiwi")).toBe("Y"); // the post contract still runs around it
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

test("testHub config for a project without CONFIG is a UsageError saying so", async () => {
  const dir = tmp("pop-testhub-noconf-");
  writeTree(dir, { "conf.ts": 'export const DYNE = { a: ["a"] };\n', "a/m.ts": "export function f(hub: unknown): number {\n  return 1;\n}\n" });
  await expect(testHub(dir, { config: { limit: 3 } })).rejects.toThrow(`testHub: config names "limit", but ${join(dir, "conf.ts")} has no CONFIG`);
  expect((await testHub(dir)).a.m.f()).toBe(1);
});
