// Contracts through dist/pop: pre/call/post and their ctx, order, rcontracts, __contracts__, schema and sig contracts.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT, tmp, writeTree } from "./helpers.ts";

const CONTRACTS = join(ROOT, "test/fixtures/hub/contracts");

/** Call `ref` with `args` inside the hub (probe.run.trace) and return its result or error with the contract trace. */
async function traced(ref: string, args: unknown[] = []): Promise<{ ret?: unknown; error?: string; trace: string[] }> {
  const r = await pop(["call", "probe.run.trace", "--args", JSON.stringify([{ ref, args }]), "--plugins", CONTRACTS, "--json"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

describe("pre, call, post", () => {
  test("order as POP: the module's own contract, contracts/init, __contracts__, then rcontracts; pre_fn before pre in each; call_fn before any call", async () => {
    expect(await traced("calc.ops.add", [{ a: 1, b: 2 }])).toEqual({
      ret: 3,
      trace: [
        'ops pre_add args=[{"a":1,"b":2}] func=function',
        "ops pre calc.ops.add",
        "contracts/init pre calc.ops.add",
        "rcontracts/trace pre calc.ops.add",
        "ops call_add",
        "ops.add",
        "ops post_add ret=3",
        "ops post calc.ops.add ret=3",
        "contracts/init post calc.ops.add",
      ],
    });
  });

  test("a module's own call_fn wins over contracts/init's call (POP's contract order)", async () => {
    const dir = writeTree(tmp(), {
      "s/contracts/init.ts": "export function call(hub, ctx) { return 'init call'; }\n",
      "s/contracts/m.ts": "export function call_go(hub, ctx) { return `own call_go: ${ctx.func(hub, ...ctx.args)}`; }\n",
      "s/m.ts": "export function go(hub) { return 'went'; }\nexport function stay(hub) { return 'stayed'; }\n",
    });
    expect(await pop(["call", "s.m.go", "--plugins", dir])).toEqual({ code: 0, stdout: "own call_go: went\n", stderr: "" });
    expect(await pop(["call", "s.m.stay", "--plugins", dir])).toEqual({ code: 0, stdout: "init call\n", stderr: "" });
  });

  test("a module-wide call contract wraps functions that have no specific one", async () => {
    const r = await traced("calc.ops.div", [{ a: 6, b: 3 }]);
    expect(r.ret).toBe(2);
    expect(r.trace).toContain("ops call calc.ops.div");
  });

  test("pre may throw to refuse the call: the function never runs", async () => {
    expect(await traced("calc.ops.div", [{ a: 1, b: 0 }])).toEqual({
      error: "RangeError: refusing to divide by zero",
      trace: [],
    });
  });

  test("pre may change the arguments and an async post may replace the result", async () => {
    const r = await traced("calc.ops.double", [{ n: "4" }]);
    expect(r.ret).toEqual({ doubled: 8 });
    expect(r.trace.slice(-2)).toEqual(['ops post calc.ops.double ret={"doubled":8}', "contracts/init post calc.ops.double"]);
  });

  test("__contracts__ opts a module into more contracts, after its own and contracts/init", async () => {
    expect(await traced("calc.extra.ping")).toEqual({
      ret: "pong",
      trace: [
        "contracts/init pre calc.extra.ping",
        "audited pre calc.extra.ping",
        "rcontracts/trace pre calc.extra.ping",
        "contracts/init post calc.extra.ping",
      ],
    });
  });

  test("rcontracts apply to sub-subs; the parent's contracts/ do not", async () => {
    expect(await traced("calc.child.leaf.hi")).toEqual({ ret: "hi", trace: ["rcontracts/trace pre calc.child.leaf.hi", "child.leaf.hi"] });
  });

  test("rcontracts apply to sub-subs whether loaded lazily or all at once (--strict loads everything)", async () => {
    const root = writeTree(tmp(), {
      "calc/rcontracts/mark.ts": "export function post(hub: unknown, ctx: { ret: unknown }) { return `${ctx.ret} (marked)`; }\n",
      "calc/child/leaf.ts": 'export function hi() { return "hi"; }\n',
    });
    for (const flags of [[], ["--strict"]]) {
      expect(await pop(["call", "calc.child.leaf.hi", "--plugins", root, ...flags])).toEqual({ stdout: "hi (marked)\n", stderr: "", code: 0 });
    }
  });

  test("a refusal reaches pop call as the function's failure: exit 1, its message on stderr", async () => {
    const r = await pop(["call", "calc.ops.div", "a=1", "b=0", "--plugins", CONTRACTS]);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: 'pop: test/fixtures/hub/contracts/calc/contracts/ops.ts:35:26: "calc.ops.div" failed: refusing to divide by zero\n',
    });
  });
});

describe("schema contracts", () => {
  test("schemas coerce arguments at call time", async () => {
    const r = await pop(["call", "calc.typed.area", "w=2", 'h="3"', "--plugins", CONTRACTS]);
    expect(r).toEqual({ code: 0, stdout: "6\n", stderr: "" });
  });

  test("a bad argument fails with the ref and the field", async () => {
    // The called function's own arguments refused: the command line's mistake, exit 2.
    const r = await pop(["call", "calc.typed.area", "w=2", "h=-1", "--plugins", CONTRACTS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pop: Invalid argument "h" for "calc.typed.area": Too small: expected number to be >0 (got -1)\n');
    // A key not given is said to be missing, not "received undefined (got undefined)".
    const missing = await pop(["call", "calc.typed.area", "w=2", "--plugins", CONTRACTS]);
    expect(missing.stderr).toBe('pop: Invalid argument "h" for "calc.typed.area": missing (expected number)\n');
    // A number JSON cannot print (1e400 parses as Infinity) is shown as it is, not as null.
    const inf = await pop(["call", "calc.typed.area", "--args", '[{"w": 2, "h": -1e400}]', "--plugins", CONTRACTS]);
    expect(inf.stderr).toEndWith('for "calc.typed.area": Invalid input: expected number, received -Infinity (got -Infinity)\n');
  });

  test("a bad return value fails with the ref", async () => {
    const r = await pop(["call", "calc.typed.broken", "--plugins", CONTRACTS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Invalid return value for "calc.typed.broken": Invalid input: expected number, received string (got "not a number")');
  });

  test("args: one schema per positional argument, the field names the argument", async () => {
    expect((await pop(["call", "calc.typed.scale", "--args", "[2, [1, 2]]", "--plugins", CONTRACTS, "--json"])).stdout).toBe("[\n  2,\n  4\n]\n");
    const r = await pop(["call", "calc.typed.scale", "--args", '[2, [1, "x"]]', "--plugins", CONTRACTS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid argument 2 "1" for "calc.typed.scale"');
  });

  test("a ContractError is what plugins catch", async () => {
    const r = await traced("calc.typed.area", [{ w: "a", h: 1 }]);
    expect(r.error).toStartWith('ContractError: Invalid argument "w" for "calc.typed.area"');
  });
});

describe("sig contracts", () => {
  test("a module with every sig function loads and works", async () => {
    expect(await pop(["call", "shapes.square.area", "side=3", "--plugins", CONTRACTS])).toEqual({ code: 0, stdout: "9\n", stderr: "" });
  });

  test("sig_ with a ret schema validates the result", async () => {
    const r = await pop(["call", "shapes.blob.name", "--plugins", CONTRACTS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Invalid return value for "shapes.blob.name"');
  });

  test("a module lacking a sig function is not loaded, with that reason; the sub's init is exempt", async () => {
    const r = await pop(["tree", "--plugins", CONTRACTS, "--json"]);
    expect(r.code).toBe(0);
    const shapes = JSON.parse(r.stdout).subs.find((s: { name: string }) => s.name === "shapes");
    const byName = Object.fromEntries(shapes.modules.map((m: { name: string; state: string; reason?: string }) => [m.name, m]));
    expect(byName.init.state).toBe("loaded");
    expect(byName.square.state).toBe("loaded");
    expect(byName.circle.state).toBe("failed");
    expect(byName.circle.reason).toBe(
      'missing function "area" required by test/fixtures/hub/contracts/shapes/contracts/init.ts: export it from test/fixtures/hub/contracts/shapes/circle.ts',
    );
    expect(r.stderr).toContain("shapes/circle.ts");
  });

  test("calling a function of that module exits 1 with the same reason, once", async () => {
    const r = await pop(["call", "shapes.circle.name", "--plugins", CONTRACTS]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringContaining('module "shapes.circle" not loaded: missing function "area"')]);
  });
});

describe("contract mistakes are load errors", () => {
  test("__contracts__ naming a missing contract, a non-function contract export, a bad schema", async () => {
    const dir = writeTree(tmp(), {
      "s/contracts/c.ts": "export const pre = 5;",
      "s/contracts/d.ts": "export const schema_f = { arg: 1 };",
      "s/a.ts": 'export const __contracts__ = ["nope"];\nexport function f(hub) { return 1; }',
      "s/c.ts": "export function f(hub) { return 1; }",
      "s/d.ts": "export function f(hub) { return 1; }",
    });
    const r = await pop(["tree", "--plugins", dir, "--json"]);
    const mods = JSON.parse(r.stdout).subs.find((s: { name: string }) => s.name === "s").modules;
    const reasons = Object.fromEntries(mods.map((m: { name: string; reason?: string }) => [m.name, m.reason]));
    expect(reasons.a).toContain('__contracts__ names "nope" but the sub has no contracts/nope.ts (known contracts: c, d)');
    expect(reasons.c).toContain('contract export "pre"');
    expect(reasons.c).toContain("must be a function, got number");
    expect(reasons.d).toContain('contract export "schema_f.arg"');
  });
});
