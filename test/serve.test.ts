// pop serve through the compiled binary: every status code, the token, GET /, /refs, /health, the startup line,
// usage errors, and the drain on SIGTERM with a call in flight.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { pop, tmp } from "./helpers.ts";
import { CALC, post, serve } from "./fixtures/serve/_harness.ts";

const T = 30_000;
const ISOLATE_ROOT = join(import.meta.dir, "fixtures/isolate/root");

describe("pop serve: calls and status codes", () => {
  test(
    "200 for kwargs and args, 404 unknown ref, 400 invalid arguments and bad bodies, 500 a throwing function, each a JSON error",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
      expect(s.stdout()).toMatch(/^pop serve: listening on http:\/\/127\.0\.0\.1:\d+ \(sub "calc", 7 functions; GET .*\)\n/);

      expect(await post(s.url, { ref: "math.fib", kwargs: { num: 11 } })).toMatchObject({ status: 200, json: { ref: "math.fib", result: 89 } });
      expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { ref: "math.add", result: 5 } });
      // No result: no "result" key, as a local call returns undefined.
      const nothing = await post(s.url, { ref: "math.nothing" });
      expect(nothing).toMatchObject({ status: 200, json: { ref: "math.nothing" } });
      expect("result" in nothing.json).toBe(false);

      const unknown = await post(s.url, { ref: "math.fibb", kwargs: {} });
      expect(unknown.status).toBe(404);
      expect(unknown.json).toEqual({
        ref: "math.fibb",
        error: {
          code: "POP_REF",
          name: "RefError",
          message: 'no function "math.fibb" in sub "calc"; did you mean "math.fib"? (GET /refs lists the functions served)',
        },
      });
      // pop's own sub, private names and data on the hub are never served.
      for (const ref of ["pop.sub.add", "math.__shutdown__", "math._x", "math"]) expect((await post(s.url, { ref })).status).toBe(404);

      const invalid = await post(s.url, { ref: "math.square", kwargs: { n: 1.5 } });
      expect(invalid.status).toBe(400);
      expect(invalid.json.error).toMatchObject({ code: "POP_CONTRACT", name: "ContractError", field: "n" });
      expect(invalid.json.error.message).toStartWith('Invalid argument "n" for "calc.math.square": ');
      expect(await post(s.url, { ref: "math.square", kwargs: { n: 4 } })).toMatchObject({ status: 200, json: { result: 16 } });

      const threw = await post(s.url, { ref: "math.fail" });
      expect(threw).toMatchObject({
        status: 500,
        json: { ref: "math.fail", error: { code: "POP_CALL", name: "TypeError", message: "boom: the input was bad" } },
      });
      const big = await post(s.url, { ref: "math.big" });
      expect(big.status).toBe(500);
      expect(big.json.error.message).toContain('"calc.math.big" returned a value that cannot be sent as JSON');
      expect(big.json.error.message).not.toContain(".;");

      const bad = await post(s.url, "{not json");
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatchObject({ code: "POP_USAGE", name: "UsageError" });
      expect(bad.json.error.message).toStartWith("request body is not JSON (");
      for (const [body, msg] of [
        ["[1]", 'request body must be a JSON object with a "ref" string'],
        ['{"kwargs": {}}', 'request body must be a JSON object with a "ref" string'],
        ['{"ref": "math.add", "args": 3}', '"args" must be a JSON array'],
        ['{"ref": "math.fib", "kwargs": [1]}', '"kwargs" must be a JSON object'],
        ['{"ref": "math.fib", "kwargs": {}, "args": []}', 'give "args" or "kwargs", not both'],
      ] as const) {
        const r = await post(s.url, body);
        expect(r.status).toBe(400);
        expect(r.json.error.message).toStartWith(msg);
      }
      expect(s.stderr()).toBe("");
    },
    T,
  );

  test(
    "413 for a body over --max-body, by Content-Length and when streamed without one",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc", "--max-body", "1000"]);
      const body = JSON.stringify({ ref: "math.fib", kwargs: { pad: "x".repeat(1500) } });
      const r = await post(s.url, body);
      expect(r.status).toBe(413);
      expect(r.json.error).toMatchObject({ code: "POP_USAGE", message: `request body of ${body.length} bytes is over the limit of 1000 bytes (--max-body)` });
      const streamed = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(body));
          c.close();
        },
      });
      const res = await fetch(s.url, { method: "POST", body: streamed });
      expect(res.headers.get("content-length")).not.toBe("0");
      expect(res.status).toBe(413);
      expect(((await res.json()) as any).error.message).toBe("request body is over the limit of 1000 bytes (--max-body)");
      // Counted in bytes, not characters: 400 three-byte characters are 1200 bytes, streamed without a length.
      const wide = JSON.stringify({ ref: "math.fib", kwargs: { pad: "€".repeat(400) } });
      const wideRes = await fetch(s.url, {
        method: "POST",
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(wide));
            c.close();
          },
        }),
      });
      expect(wideRes.status).toBe(413);
      expect(await post(s.url, { ref: "math.fib", kwargs: { num: 3 } })).toMatchObject({ status: 200, json: { result: 2 } });
    },
    T,
  );

  test(
    "GET / answers an example that works, GET /refs lists the functions, /health readiness, 404 and 405 otherwise",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
      const root = await fetch(s.url);
      expect(root.status).toBe(200);
      const text = await root.text();
      const m = /^example: curl (\S+) -d '(.*)'$/m.exec(text);
      expect(m).not.toBeNull();
      // math.add(hub, a: number, b: number): positional arguments of its types, so the example computes something.
      expect(m![2]).toBe('{"ref":"math.add","args":[1,1]}');
      expect(await post(s.url, m![2]!)).toMatchObject({ status: 200, json: { ref: "math.add", result: 2 } });

      const refs = (await (await fetch(`${s.url}/refs`)).json()) as any;
      expect(refs.sub).toBe("calc");
      expect(refs.refs.map((r: any) => r.ref)).toEqual(["math.add", "math.big", "math.fail", "math.fib", "math.hold", "math.nothing", "math.square"]);
      expect(refs.refs.find((r: any) => r.ref === "math.add")).toEqual({
        ref: "math.add",
        params: "a: number, b: number",
        doc: "a + b, two positional arguments.",
      });

      const health = await fetch(`${s.url}/health`);
      expect([health.status, await health.json()]).toEqual([200, { status: "ok", refs: 7 }]);
      const nope = await fetch(`${s.url}/nope`);
      expect(nope.status).toBe(404);
      expect(((await nope.json()) as any).error.message).toStartWith('no route "/nope"');
      const put = await fetch(s.url, { method: "PUT", body: "{}" });
      expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, HEAD, POST"]);
      expect((await fetch(`${s.url}/metrics`, { method: "POST", body: "" })).status).toBe(405);
      // A route there is not is 404 whatever the method (405 is for a route there is).
      for (const [method, path] of [
        ["POST", "/nope"],
        ["DELETE", "/nope"],
        ["POST", "/refs/"],
      ] as const)
        expect((await fetch(`${s.url}${path}`, { method, body: method === "POST" ? "1" : null })).status).toBe(404);
    },
    T,
  );

  test(
    "without --sub every sub is served by full ref, pop's own sub never; --json prints the startup line as JSON",
    async () => {
      await using s = await serve(["--plugins", CALC, "--json"]);
      expect(JSON.parse(s.stdout().split("\n")[0]!)).toEqual({ event: "listening", url: s.url, sub: null, refs: 7 });
      expect(await post(s.url, { ref: "calc.math.fib", kwargs: { num: 11 } })).toMatchObject({ status: 200, json: { ref: "calc.math.fib", result: 89 } });
      expect((await post(s.url, { ref: "pop.sub.add", kwargs: { path: "/tmp" } })).status).toBe(404);
      expect(((await (await fetch(`${s.url}/refs`)).json()) as any).sub).toBeNull();
    },
    T,
  );
});

describe("pop serve: the token", () => {
  test(
    "--token: missing or wrong is 401 on every route, right is served",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc", "--token", "s3cret"]);
      const call = { ref: "math.fib", kwargs: { num: 11 } };
      const missing = await post(s.url, call);
      expect(missing.status).toBe(401);
      expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="pop serve"');
      expect(missing.json.error).toMatchObject({ code: "POP_USAGE", name: "UsageError" });
      expect(missing.json.error.message).toStartWith("missing or wrong bearer token");
      expect((await post(s.url, call, { authorization: "Bearer s3cre" })).status).toBe(401);
      expect((await post(s.url, call, { authorization: "Bearer s3cret-and-more" })).status).toBe(401);
      expect((await post(s.url, call, { authorization: "Basic s3cret" })).status).toBe(401);
      for (const path of ["/", "/health", "/metrics", "/refs"]) expect((await fetch(s.url + path)).status).toBe(401);
      expect(await post(s.url, call, { authorization: "Bearer s3cret" })).toMatchObject({ status: 200, json: { result: 89 } });
      expect((await fetch(`${s.url}/health`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
      // GET / shows how to send it, not the token itself.
      const example = await (await fetch(s.url, { headers: { authorization: "Bearer s3cret" } })).text();
      expect(example).toContain('-H "Authorization: Bearer $POP_TOKEN"');
      expect(example).not.toContain("s3cret");
    },
    T,
  );

  test(
    "POP_TOKEN sets it too",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc"], { env: { POP_TOKEN: "from-env" } });
      expect((await post(s.url, { ref: "math.fib" })).status).toBe(401);
      expect((await post(s.url, { ref: "math.fib" }, { authorization: "Bearer from-env" })).status).toBe(200);
    },
    T,
  );
});

describe("pop serve: options", () => {
  test(
    "bad options and an unknown --sub are usage errors (exit 2) that start nothing",
    async () => {
      for (const [args, msg] of [
        [["--port", "http"], 'pop: invalid value for option --port: "http" is not a whole number from 0 to 65535\nrun "pop serve --help" for usage'],
        [["--port", "70000"], 'invalid value for option --port: "70000"'],
        [["--max-body", "0"], 'invalid value for option --max-body: "0"'],
        [["--token", ""], 'invalid value for option --token: ""'],
        [["--sub", "nope"], 'no sub "nope" to serve (subs: calc); add its plugin root with --plugins DIR'],
      ] as const) {
        const r = await pop(["serve", "--plugins", CALC, ...(args[0] === "--port" ? [] : ["--port", "0"]), ...args]);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain(msg);
      }
    },
    T,
  );

  test(
    "a port in use is refused with the address and the fix",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
      const port = new URL(s.url).port;
      const r = await pop(["serve", "--plugins", CALC, "--sub", "calc", "--port", port]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is in use; pick another --port (0 picks a free one) or --host`);
    },
    T,
  );

  test(
    "binds to loopback by default; another host without a token is warned about",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc", "--host", "0.0.0.0"]);
      expect(s.url).toStartWith("http://0.0.0.0:");
      await s.waitFor("stderr", /without a token: anyone who can reach port \d+ can call every function; set --token or POP_TOKEN/);
    },
    T,
  );
});

describe("pop serve of an isolated sub", () => {
  for (const mode of ["process", "worker"])
    test(
      `--isolate calc=${mode}: a call spinning past --timeout is answered 504, the server keeps answering from a fresh side, SIGTERM drains`,
      async () => {
        await using s = await serve(["--plugins", ISOLATE_ROOT, "--sub", "calc", "--isolate", `calc=${mode}`, "--timeout", "2000"]);
        expect(await post(s.url, { ref: "math.bump" })).toMatchObject({ status: 200, json: { result: { count: 1, starts: 1 } } });
        expect(await post(s.url, { ref: "math.hang" })).toMatchObject({ status: 504, json: { ref: "math.hang", error: { code: "POP_TIMEOUT" } } });
        // Sent once the 504 is out, while the spinning side is pinged and then ended: it waits, and runs on a fresh side.
        expect(await post(s.url, { ref: "math.bump" })).toMatchObject({ status: 200, json: { result: { count: 1, starts: 1 } } });
        expect(await post(s.url, { ref: "math.add", kwargs: { a: 1, b: "2" } })).toMatchObject({ status: 200, json: { result: 3 } });
        s.proc.kill("SIGTERM");
        expect(await s.exited()).toBe(0);
      },
      T,
    );
});

describe("pop serve: SIGTERM drains", () => {
  test(
    "a call in flight finishes, new requests are refused, the hub closes after it, exit 0",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
      const inflight = post(s.url, { ref: "math.hold", kwargs: { value: "finished" } });
      await s.waitFor("stderr", /holding/);
      s.proc.kill("SIGTERM");
      await s.waitFor("stderr", /SIGTERM received: draining/);
      // The listener is closed: a new connection is refused (reset when it raced the close), or answered 503 on a kept-alive one.
      const late = await fetch(`${s.url}/health`).then(
        (r) => r.status,
        (e) => (e as { code?: string }).code,
      );
      expect<unknown[]>([503, "ECONNREFUSED", "ECONNRESET"]).toContain(late);
      expect(s.proc.exitCode).toBeNull();
      expect(s.stderr()).not.toContain("shut down");
      s.proc.kill("SIGUSR2"); // lets the held call return
      expect(await inflight).toMatchObject({ status: 200, json: { ref: "math.hold", result: "finished" } });
      expect(await s.exited()).toBe(0);
      const err = s.stderr();
      expect(err.indexOf("calc.math shut down")).toBeGreaterThan(err.indexOf("SIGTERM received"));
      expect(err).toMatch(/pop: stopped\n$/);
    },
    T,
  );

  test(
    "an idle kept-alive connection is closed when draining starts, while a call in flight on another still finishes",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
      const u = new URL(s.url);
      const sock = connect(Number(u.port), u.hostname);
      const closed = new Promise<void>((res) => sock.once("close", () => res()));
      let got = "";
      const answered = new Promise<void>((res) =>
        sock.on("data", (d) => {
          got += d;
          if (got.includes('"refs":7}')) res();
        }),
      );
      sock.write("GET /health HTTP/1.1\r\nHost: pop\r\n\r\n");
      await answered; // kept alive: HTTP/1.1's default
      const inflight = post(s.url, { ref: "math.hold", kwargs: { value: "finished" } });
      await s.waitFor("stderr", /holding/);
      s.proc.kill("SIGTERM");
      await closed; // by the server, during the drain: the held call has not returned yet
      expect(s.proc.exitCode).toBeNull();
      s.proc.kill("SIGUSR2");
      expect(await inflight).toMatchObject({ status: 200, json: { ref: "math.hold", result: "finished" } });
      expect(await s.exited()).toBe(0);
    },
    T,
  );

  test(
    "SIGINT (Ctrl-C) drains the same way, says so, and exits 130",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
      const inflight = post(s.url, { ref: "math.hold", kwargs: { value: "finished" } });
      await s.waitFor("stderr", /holding/);
      s.proc.kill("SIGINT");
      await s.waitFor("stderr", /SIGINT received: draining \(no new requests; calls in flight finish\), then closing the hub/);
      expect(s.proc.exitCode).toBeNull();
      s.proc.kill("SIGUSR2");
      expect(await inflight).toMatchObject({ status: 200, json: { ref: "math.hold", result: "finished" } });
      expect(await s.exited()).toBe(130);
      expect(s.stderr()).toMatch(/calc\.math shut down\n(.|\n)*pop: stopped\n$/);
    },
    T,
  );

  test(
    "an idle server stops at once on SIGTERM with exit 0",
    async () => {
      await using s = await serve(["--plugins", CALC, "--sub", "calc", "--json"]);
      s.proc.kill("SIGTERM");
      expect(await s.exited()).toBe(0);
      const lines = s.stderr().trim().split("\n");
      expect(lines).toContain("calc.math shut down"); // the plugin's own console.error line
      expect(lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).event)).toEqual(["draining", "stopped"]);
    },
    T,
  );

  test("a call still running after --drain-timeout is abandoned: exit 1, saying so, the hub closed all the same", async () => {
    await using s = await serve(["--plugins", CALC, "--sub", "calc", "--drain-timeout", "200"]);
    const inflight = post(s.url, { ref: "math.hold" }).then(
      (r) => ({ status: r.status, json: r.json }),
      (e) => (e as { code?: string }).code,
    );
    await s.waitFor("stderr", /holding/);
    s.proc.kill("SIGTERM");
    expect(await s.exited()).toBe(1);
    expect(s.stderr()).toContain(
      "pop: the server stopped with 1 call still running after 200 ms of draining (--drain-timeout); it was abandoned: raise --drain-timeout, or 0 to wait for ever\n",
    );
    expect(s.stderr()).toContain("calc.math shut down");
    // The abandoned call is answered (504, a JSON error saying why), not cut off by a connection reset.
    expect(await inflight).toEqual({
      status: 504,
      json: {
        ref: "math.hold",
        error: {
          code: "POP_TIMEOUT",
          name: "TimeoutError",
          message: "the server stopped after 200 ms of draining (--drain-timeout) before this call settled; it was abandoned",
        },
      },
    });
  }, 30_000);
});

describe("pop serve: --audit and --trace name the client", () => {
  test(
    "each call the server runs is recorded with the client as its caller (an audit line, a trace line)",
    async () => {
      const dir = tmp();
      const file = join(dir, "calls.jsonl");
      {
        await using s = await serve(["--plugins", CALC, "--sub", "calc", "--audit", file, "--trace"]);
        expect(await post(s.url, { ref: "math.add", args: [2, 3] })).toMatchObject({ status: 200, json: { result: 5 } });
        await s.waitFor("stderr", /calc\.math\.add/);
        expect(s.stderr()).toMatch(/calc\.math\.add.* from http 127\.0\.0\.1/);
      }
      const lines = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines.find((l) => l.ref === "calc.math.add")).toMatchObject({ caller: "http 127.0.0.1", outcome: "ok" });
    },
    T,
  );
});

test("a full ref sent to a server of one sub is answered with the relative one to send", async () => {
  await using s = await serve(["--plugins", CALC, "--sub", "calc"]);
  const r = await post(s.url, { ref: "calc.math.add", args: [2, 3] });
  expect(r.status).toBe(404);
  expect(r.json.error.message).toBe(
    'no function "calc.math.add" in sub "calc": refs here are relative to sub "calc", so send "math.add" (GET /refs lists the functions served)',
  );
});
