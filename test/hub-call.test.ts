// Refs and `pop call`: argument building, output, exit codes, unknown refs and their suggestions.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, ROOT } from "./helpers.ts";

const LOADING = join(ROOT, "test/fixtures/hub/loading");
const call = (...argv: string[]) => pop(["call", ...argv, "--plugins", LOADING]);

describe("arguments", () => {
  test("KEY=VALUE pairs build one object; values parse as JSON where they can, else stay strings", async () => {
    const r = await call("rpc.echo.args", "n=11", "s=hello", 'q="11"', "b=true", "z=null", 'o={"a":[1,2]}', "eq=a=b", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 11, s: "hello", q: "11", b: true, z: null, o: { a: [1, 2] }, eq: "a=b" }]);
  });

  test("no pairs: no arguments", async () => {
    expect(JSON.parse((await call("rpc.echo.args", "--json")).stdout)).toEqual([]);
  });

  test("--args gives the positional arguments as a JSON array", async () => {
    expect(JSON.parse((await call("rpc.echo.args", "--args", '[1, "two", {"three": 3}]', "--json")).stdout)).toEqual([1, "two", { three: 3 }]);
  });

  test.each([
    [["rpc.echo.args", "a=1", "--args", "[]"], 'pop: give KEY=VALUE pairs or --args, not both (got "a=1" and --args)'],
    [["rpc.echo.args", "--args", "{nope"], "pop: --args is not valid JSON"],
    [["rpc.echo.args", "--args", '{"num": 1}'], "pop: --args must be a JSON array of positional arguments"],
    [["rpc.echo.args", "num"], 'pop: "num" is not KEY=VALUE; write e.g. num=11, or pass --args JSON'],
    [["rpc.echo.args", "=1"], 'pop: "=1" is not KEY=VALUE'],
    [[], "pop: missing argument REF"],
    [["rpc.echo.args", "--args"], 'pop: option "--args" needs a value'],
  ])("usage error %j: exit 2, one line and the help pointer, nothing on stdout", async (argv, message) => {
    const r = await pop(["call", ...argv, "--plugins", LOADING]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const [first, second, ...more] = r.stderr.trim().split("\n");
    expect(first).toStartWith(message);
    expect(second).toBe('run "pop call --help" for usage');
    expect(more).toEqual([]);
  });
});

describe("output", () => {
  test("a string prints as is, other values as indented JSON, undefined as nothing", async () => {
    expect(await call("rpc.echo.text", "s=hi there")).toEqual({ code: 0, stdout: "hi there\n", stderr: "" });
    expect(await call("rpc.math.fib", "num=11")).toEqual({ code: 0, stdout: "89\n", stderr: "" });
    expect((await call("rpc.echo.args", "a=1")).stdout).toBe('[\n  {\n    "a": 1\n  }\n]\n');
    expect(await call("rpc.echo.nothing")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("--json: always JSON (a string quoted, undefined as null)", async () => {
    expect((await call("rpc.echo.text", "--json")).stdout).toBe('"hello"\n');
    expect((await call("rpc.echo.nothing", "--json")).stdout).toBe("null\n");
  });

  test("bigints, Maps and Sets are printed, not a crash", async () => {
    for (const flags of [[], ["--json"]]) {
      const r = await call("rpc.echo.odd", ...flags);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ big: "18446744073709551616", map: { a: 1 }, set: [1, 2] });
    }
  });

  test("a function that throws: exit 1, its message on one line of stderr, nothing on stdout", async () => {
    expect(await call("rpc.echo.fails")).toEqual({
      code: 1,
      stdout: "",
      stderr: 'pop: test/fixtures/hub/loading/rpc/echo.ts:18:13: "rpc.echo.fails" failed: it went wrong badly\n',
    });
  });

  test("POP_DEBUG adds the stack", async () => {
    const r = await pop(["call", "rpc.echo.fails", "--plugins", LOADING], { env: { POP_DEBUG: "1" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("echo.ts:");
  });
});

describe("unknown refs", () => {
  test.each([
    ["rpc.math.fbi", 'pop: no function "rpc.math.fbi"; did you mean "rpc.math.fib"?'],
    ["rpx.math.fib", 'pop: no sub "rpx" in "rpx.math.fib"; did you mean "rpc.math.fib"?'],
    ["rpc.mtah.fib", 'pop: no module or sub "rpc.mtah" in "rpc.mtah.fib"; did you mean "rpc.math.fib"?'],
    ["rpc.nestd.deep.where", 'pop: no module or sub "rpc.nestd" in "rpc.nestd.deep.where"; did you mean "rpc.nested.deep.where"?'],
    ["rpc.nested.deep.were", 'pop: no function "rpc.nested.deep.were"; did you mean "rpc.nested.deep.where"?'],
    ["zzz.yyy", 'pop: no sub "zzz" in "zzz.yyy"; run "pop tree" to list what the hub holds'],
    ["rpc.math.fib.x", 'pop: no function "rpc.math.fib.x"; run "pop tree" to list what the hub holds'],
    ["rpc.math", 'pop: "rpc.math" is a module, not a function; its functions: rpc.math.add, rpc.math.fib, rpc.math.triple'],
    ["rpc.nested", 'pop: "rpc.nested" is a sub, not a function; run "pop tree" to list what the hub holds'],
    ["rpc..fib", 'pop: invalid ref "rpc..fib": expected dotted names like "rpc.math.fib"'],
  ])("%s: exit 2 and one line, without the --help pointer", async (ref, message) => {
    const r = await call(ref);
    expect(r).toEqual({ code: 2, stdout: "", stderr: `${message}\n` });
  });

  test("hub.pop.ref.last says the same inside a plugin", async () => {
    const r = await call("probe.check.last", "ref=rpc.math.fbi");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'pop: test/fixtures/hub/loading/probe/check.ts:46:30: "probe.check.last" failed: no function "rpc.math.fbi"; did you mean "rpc.math.fib"?\n',
    );
  });

  test("hub.pop.ref.last returns the function a ref names", async () => {
    expect((await call("probe.check.last", "--args", '[{"ref": "rpc.math.fib", "args": [{"num": 12}]}]')).stdout).toBe("144\n");
  });
});
