// pop serve's refusals through the compiled binary: a --sub or --host that cannot work is a usage error before
// anything listens, and a body far over --max-body still gets the JSON error the status table promises.
import { describe, expect, test } from "bun:test";
import { pop } from "./helpers.ts";
import { CALC, serve } from "./fixtures/serve/_harness.ts";

const T = 30_000;
const ENV = { POP_TOKEN: undefined };

describe("pop serve: usage errors before listening", () => {
  test("--sub pop: pop's own sub is never served, said before anything listens", async () => {
    const r = await pop(["serve", "--plugins", "examples/poppy", "--sub", "pop", "--port", "0"], { env: ENV });
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `pop: sub "pop" is pop's own (hub.pop.sub, hub.pop.ref, ...) and is never served (subs: poppy, rpc); pick one of those with --sub\n`,
    });
  });

  test("--drain-timeout past the longest timer (it would fire at once) or not a number: a usage error naming it", async () => {
    const r = await pop(["serve", "--plugins", "examples/poppy", "--sub", "rpc", "--port", "0", "--drain-timeout", "3000000000"], { env: ENV });
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'pop: invalid value for option --drain-timeout: "3000000000" is more than 2147483647 ms (about 24.8 days), the longest timer pop can set; give at most 2147483647, or 0 for no limit\nrun "pop serve --help" for usage\n',
    });
    const bad = await pop(["serve", "--plugins", "examples/poppy", "--sub", "rpc", "--port", "0", "--drain-timeout", "soon"], { env: ENV });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith(
      'pop: invalid value for option --drain-timeout: "soon" is not a whole number of milliseconds; give e.g. --drain-timeout 30000, or 0 to wait for ever\n',
    );
  });

  test("--host that is no address of this machine, or does not resolve: a usage error naming --host", async () => {
    for (const host of ["999.1.1.1", "nonexistent.invalid"]) {
      const r = await pop(["serve", "--plugins", "examples/poppy", "--sub", "rpc", "--port", "0", "--host", host], { env: ENV });
      expect(r).toEqual({
        code: 2,
        stdout: "",
        stderr: `pop: invalid value for option --host: "${host}": it is neither an address of this machine nor a host name that resolves; give one of its addresses, e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface)\n`,
      });
    }
  });
});

describe("pop serve: a body far over --max-body", () => {
  test(
    "is answered 413 with the JSON error, by Content-Length and streamed, and the server goes on",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc", "--max-body", "100"]);
      const big = "x".repeat(5_000_000);
      const sized = await fetch(s.url, { method: "POST", body: big });
      expect(sized.status).toBe(413);
      expect(await sized.json()).toEqual({
        error: { code: "POP_USAGE", name: "UsageError", message: "request body of 5000000 bytes is over the limit of 100 bytes (--max-body)" },
      });
      const bytes = new TextEncoder().encode(big);
      const streamed = await fetch(s.url, {
        method: "POST",
        body: new ReadableStream({
          start(c) {
            for (let i = 0; i < bytes.length; i += 65536) c.enqueue(bytes.subarray(i, i + 65536));
            c.close();
          },
        }),
      });
      expect(streamed.status).toBe(413);
      expect(await streamed.json()).toEqual({
        error: { code: "POP_USAGE", name: "UsageError", message: "request body is over the limit of 100 bytes (--max-body)" },
      });
      const ok = await fetch(s.url, { method: "POST", body: '{"ref": "math.fib", "kwargs": {"num": 3}}' });
      expect(await ok.json()).toEqual({ ref: "math.fib", result: 2 });
    },
    T,
  );
});
