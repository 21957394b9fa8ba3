// The docs' own pop serve example (examples/poppy, sub rpc): fib's schema contract bounds num, so no request can
// keep the server's one thread busy for good (a synchronous loop blocks every request and SIGTERM too).
import { describe, expect, test } from "bun:test";
import { serve } from "./fixtures/serve/_harness.ts";

const T = 30_000;

/** POST a raw body, bounded: before the contract, {"num": 1e400} never answered. */
async function call(url: string, body: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: "POST", body, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, json: await res.json() };
}

describe("pop serve of examples/poppy", () => {
  test(
    "fib refuses a num that is not a whole number from 0 to 1476 (400), and still answers the documented calls",
    async () => {
      await using s = await serve(["--plugins", "examples/poppy", "--sub", "rpc"]);
      expect(await call(s.url, '{"ref": "math.fib", "kwargs": {"num": 11}}')).toEqual({ status: 200, json: { ref: "math.fib", result: 89 } });
      expect(await call(s.url, '{"ref": "math.fib", "kwargs": {"num": "11"}}')).toEqual({ status: 200, json: { ref: "math.fib", result: 89 } });
      expect(await call(s.url, '{"ref": "math.fib"}')).toEqual({ status: 200, json: { ref: "math.fib", result: 55 } });
      expect((await call(s.url, '{"ref": "math.fib", "kwargs": {"num": 1476}}')).json.result).toBeGreaterThan(1e307);
      for (const [num, why] of [
        ["1e400", "expected number, received Infinity"],
        ["1e12", "Too big: expected number to be <=1476"],
        ['"abc"', "expected number, received NaN"],
        ["-1", "Too small"],
        ["2.5", "expected int"],
      ]) {
        const r = await call(s.url, `{"ref": "math.fib", "kwargs": {"num": ${num}}}`);
        expect(r.status).toBe(400);
        expect(r.json.error).toMatchObject({ code: "POP_CONTRACT", name: "ContractError", field: "num" });
        expect(r.json.error.message).toStartWith('Invalid argument "num" for "rpc.math.fib": ');
        expect(r.json.error.message).toContain(why);
      }
      // The server is still free: the refused calls never ran.
      expect(await call(s.url, '{"ref": "math.triple", "args": [{"num": 33}]}')).toEqual({ status: 200, json: { ref: "math.triple", result: 99 } });
    },
    T,
  );

  test(
    "every public function is served, init.run included; --disable rpc.init leaves the sub's init module out",
    async () => {
      const refs = async (args: string[]) => {
        await using s = await serve(["--plugins", "examples/poppy", "--sub", "rpc", ...args]);
        expect((await call(s.url, '{"ref": "math.fib", "kwargs": {"num": -1}}')).status).toBe(400); // the contract applies either way
        return ((await (await fetch(`${s.url}/refs`)).json()) as { refs: { ref: string }[] }).refs.map((r) => r.ref);
      };
      expect(await refs([])).toEqual(["init.router", "init.run", "math.fib", "math.triple"]);
      expect(await refs(["--disable", "rpc.init"])).toEqual(["math.fib", "math.triple"]);
    },
    T,
  );
});
