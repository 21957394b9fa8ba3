// The tutorial's poppy, run with pop app: config from --port/-p/POPPY_*, the rpc sub over HTTP (port 0: read the port back).
import { afterEach, describe, expect, test } from "bun:test";
import { pop, start } from "./helpers.ts";

// Both lines: the ready wait ends only once the whole banner has been read.
const READY = /======== Running on http:\/\/([\d.]+):(\d+) ========\n\(Press CTRL\+C to quit\)\n/;
let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.map((s) => s()));
  stops = [];
});

async function serve(args: string[], env: Record<string, string> = {}) {
  const app = await start(["app", "examples/poppy", ...args], READY, { env });
  stops.push(app.stop);
  return { ...app, url: `http://${app.match[1]}:${app.match[2]}`, port: Number(app.match[2]) };
}

describe("pop app examples/poppy", () => {
  test("serves math.fib and math.triple from a JSON body, as the tutorial's curl calls do", async () => {
    const app = await serve(["--port", "0"]);
    expect(app.match[1]).toBe("127.0.0.1");
    expect(app.port).toBeGreaterThan(0);
    const fib = await fetch(app.url, { method: "POST", body: JSON.stringify({ ref: "math.fib", kwargs: { num: "11" } }) });
    expect(fib.status).toBe(200);
    expect(await fib.json()).toEqual({ ref: 89 });
    const triple = await fetch(app.url, { method: "POST", body: '{"ref": "math.triple", "kwargs": {"num": "33"}}' });
    expect(await triple.json()).toEqual({ ref: 99 });
    expect(app.output()).toBe(`======== Running on ${app.url} ========\n(Press CTRL+C to quit)\n`);
  });

  test("a request with no body gets the example usage with the address and port it runs on", async () => {
    const app = await serve(["-p", "0", "-a", "127.0.0.1"]);
    const r = await fetch(app.url);
    expect(await r.text()).toBe(`example: curl ${app.url} -d '{"ref": "math.fib", "kwargs": {"num": "11"}}'\n`);
  });

  test("a ref that names nothing answers 404 with the hub's suggestion", async () => {
    const app = await serve(["--port=0"]);
    const r = await fetch(app.url, { method: "POST", body: '{"ref": "math.fibb", "kwargs": {"num": 3}}' });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'no function "rpc.math.fibb"; did you mean "rpc.math.fib"?' });
  });

  test("POPPY_PORT sets the port when no flag does; the flag wins over it", async () => {
    const fromEnv = await serve([], { POPPY_PORT: "0" });
    expect(fromEnv.port).toBeGreaterThan(0);
    const r = await pop(["app", "examples/poppy", "--port", "abc"], { env: { POPPY_PORT: "0" } });
    expect(r).toEqual({ stdout: "", stderr: 'pop: invalid value for option "port" from --port: "abc" is not a number (expected number)\n', code: 2 });
  });

  test("--help lists poppy's options from conf.ts", async () => {
    const r = await pop(["app", "examples/poppy", "--help"]);
    expect(r).toEqual({
      stdout: `Usage: pop app examples/poppy [options]

Options:
  -a, --addr ADDR  The address to present the rpc server on (env POPPY_ADDR; default "127.0.0.1")
  -p, --port PORT  The port to bind to; 0 picks a free one (env POPPY_PORT; default 8888)
  --config FILE    Read options from FILE instead of poppy.config.* (env POPPY_CONFIG)
  --version        Print poppy's version and exit
  -h, --help       Show this help

Logging:
  --log-level LEVEL  Report diagnostics at LEVEL and above: error, warn, info, debug, trace (env POPPY_LOG_LEVEL; default "info")
  --log-file FILE    Also append diagnostics to FILE (env POPPY_LOG_FILE)
  --log-fmt FORMAT   Diagnostics as text, json, auto (JSON lines when stderr is not a terminal) (env POPPY_LOG_FMT; default "text")

Config files (in the working directory): poppy.config.{ts,mts,cts,js,mjs,cjs,json,jsonc,json5,yaml,yml,toml}, .poppyrc
Precedence: default < config file < environment < command line
`,
      stderr: "",
      code: 0,
    });
  });

  test("pop call still reaches the rpc sub directly (the README's first command)", async () => {
    expect(await pop(["call", "rpc.math.fib", "num=11", "--plugins", "examples/poppy"])).toEqual({ stdout: "89\n", stderr: "", code: 0 });
  });
});

describe("pop app mistakes", () => {
  test("a folder that is not there", async () => {
    expect(await pop(["app", "examples/nope"])).toEqual({
      stdout: "",
      stderr:
        'pop: project folder "examples/nope" is not a folder: pass the folder holding the project\'s conf.ts, e.g. examples/poppy\nrun "pop app --help" for usage\n',
      code: 2,
    });
  });

  test("a project without cli(hub) says what to add", async () => {
    const r = await pop(["app", "test/fixtures/config/money"]);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'pop: project "money" (test/fixtures/config/money) has no sub "money": add DYNE = { money: ["money"] } to its conf.ts, or a folder test/fixtures/config/money/money\n',
    );
  });

  test("no DIR is a usage error", async () => {
    const r = await pop(["app"]);
    expect(r).toEqual({ stdout: "", stderr: 'pop: missing argument DIR\nrun "pop app --help" for usage\n', code: 2 });
  });

  test("a number returned by cli(hub) is the exit code", async () => {
    const r = await pop(["app", "test/fixtures/config/tasks", "list"]);
    expect(r).toEqual({ stdout: `${JSON.stringify({ subcommand: "list", OPT: { args: [], force: false, workers: 1 } })}\n`, stderr: "", code: 3 });
  });
});
