// Invocation patterns (stevedore's): hub.pop.invoke.driver, dispatch, map, first; exercised by a fixture plugin and called directly.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT } from "./helpers.ts";

const PATTERNS = join(ROOT, "test/fixtures/hub/patterns");

async function call(ref: string, ...params: string[]): Promise<unknown> {
  const r = await pop(["call", ref, ...params, "--plugins", PATTERNS, "--json"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

describe("driver", () => {
  test("uses one named module of a sub", async () => {
    expect(await call("probe.check.driver", "name=disk")).toBe("disk:k");
  });

  test("a mistyped name says what was meant", async () => {
    const r = await pop(["call", "probe.check.driver", "name=dsk", "--plugins", PATTERNS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'pop: test/fixtures/hub/patterns/probe/check.ts:8:25: "probe.check.driver" failed: no module or sub "store.dsk"; did you mean "store.disk"?\n',
    );
  });

  test("a sub or a function is not a driver", async () => {
    const r = await pop(["call", "pop.invoke.driver", "--args", '[{"sub": "store", "name": "memory.get"}]', "--plugins", PATTERNS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"store.memory.get" is not a module of sub "store"');
  });
});

describe("dispatch", () => {
  test("calls the modules chosen by name, in the order given; results by module", async () => {
    expect(await call("probe.check.byNames", "--args", '[{"names": ["memory", "disk"]}]')).toEqual({ memory: "memory:k", disk: "disk:k" });
  });

  test("calls the modules a predicate chooses", async () => {
    expect(await call("probe.check.byFilter")).toEqual({ disk: "durable", memory: "volatile" });
  });

  test("a chosen module without the function is an error naming it", async () => {
    const r = await pop(["call", "probe.check.byNames", "--args", '[{"names": ["none"]}]', "--plugins", PATTERNS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no function "store.none.get"');
  });

  test("modules with an async __virtual__ are loaded the async way first", async () => {
    expect(await call("probe.check.byNames", "--args", '[{"names": ["remote"]}]')).toEqual({ remote: "remote:k" });
  });
});

describe("map", () => {
  test("calls the function in every module that has it (never init), in name order; one failure does not stop the rest", async () => {
    expect(await call("probe.check.map")).toEqual(["broken!broken cannot get k", "disk=disk:k", "memory=memory:k", "remote=remote:k"]);
  });

  test("stopOnError: the first error throws", async () => {
    expect(await call("probe.check.mapStop")).toBe("stopped: broken cannot get k");
  });

  test("called straight from pop call, errors print as name and message", async () => {
    const out = await call("pop.invoke.map", "--args", '[{"sub": "store", "func": "get", "args": ["x"]}]');
    expect(out).toEqual([
      { module: "broken", ok: false, error: { name: "Error", message: "broken cannot get x" } },
      { module: "disk", ok: true, value: "disk:x" },
      { module: "memory", ok: true, value: "memory:x" },
      { module: "remote", ok: true, value: "remote:x" },
    ]);
  });
});

describe("first", () => {
  test("the first result that is not undefined, in name order (broken's kind is undefined)", async () => {
    expect(await call("probe.check.first", "func=kind")).toBe("durable");
  });

  test("modules without the function are skipped; none at all gives undefined", async () => {
    expect(await call("probe.check.first", "func=other")).toBe("other");
    expect(await call("probe.check.first", "func=zzz")).toBe("none");
  });
});

describe("a ref that is not a sub", () => {
  test("map over a module is an error naming the ref", async () => {
    const r = await pop(["call", "pop.invoke.map", "--args", '[{"sub": "store.memory", "func": "get"}]', "--plugins", PATTERNS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"store.memory" is not a sub');
  });
});
