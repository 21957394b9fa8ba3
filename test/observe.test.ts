// Watching calls through dist/pop: --trace (and POP_TRACE=1) logs every hub call as a structured line, --audit FILE
// appends one JSON line per call (kept when the process is killed with -9), --timeout MS ends a hung call with an
// error naming its ref; bad values of each are usage errors naming the option.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pop, POP, ROOT, tmp, writeTree } from "./helpers.ts";

const ROOTDIR = join(ROOT, "test/fixtures/lifecycle/observed");
const PLUGINS = ["--plugins", ROOTDIR];
const at = { root: ROOTDIR, plugin: "observed", version: "2.0.0" };

/** The JSON lines of a stderr, parsed. */
const lines = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("--trace", () => {
  test("under --json every hub call is a JSON line on stderr: ref, caller, root, plugin name and version, duration, outcome", async () => {
    const r = await pop(["call", "obs.work.chain", ...PLUGINS, "--trace", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toBe(6);
    const got = lines(r.stderr);
    expect(got.map((l) => [l.ref, l.caller, l.outcome])).toEqual([
      ["obs.work.add", "obs.work.chain", "ok"],
      ["obs.work.double", "obs.work.chain", "ok"],
      ["obs.work.chain", null, "ok"],
    ]);
    for (const l of got) {
      expect(l).toMatchObject({ level: "info", msg: "call", ...at });
      expect(typeof l.duration).toBe("number");
      expect(Number.isNaN(Date.parse(l.time as string))).toBe(false);
    }
  });

  test("POP_TRACE=1 turns it on; on a pipe it is one pop: line per call, as every other diagnostic (POP_LOG_FORMAT=text too)", async () => {
    for (const env of [{ POP_TRACE: "1" }, { POP_TRACE: "1", POP_LOG_FORMAT: "text" }]) {
      const r = await pop(["call", "obs.work.chain", ...PLUGINS], { env });
      expect(r.code).toBe(0);
      const text = r.stderr.trim().split("\n");
      expect(text).toHaveLength(3);
      expect(text[0]).toMatch(/^pop: call obs\.work\.add from obs\.work\.chain [\d.]+ ms ok \(observed 2\.0\.0, test\/fixtures\/lifecycle\/observed\)$/);
      expect(text[2]).toMatch(/^pop: call obs\.work\.chain [\d.]+ ms ok \(observed 2\.0\.0, test\/fixtures\/lifecycle\/observed\)$/);
    }
  });

  test("a failing call on a pipe: the trace line and the failure are both text, not two formats on one stderr", async () => {
    const r = await pop(["call", "obs.work.boom", ...PLUGINS], { env: { POP_TRACE: "1" } });
    expect(r.code).toBe(1);
    const [traced, failed, ...more] = r.stderr.trim().split("\n");
    expect(more).toEqual([]);
    expect(traced).toMatch(/^pop: call obs\.work\.boom [\d.]+ ms error: boom \(observed 2\.0\.0, test\/fixtures\/lifecycle\/observed\)$/);
    expect(failed).toMatch(/^pop: .*"obs\.work\.boom" failed: boom$/);
  });

  test("POP_LOG_FORMAT=json (or auto off a terminal) makes the trace and the failure JSON lines alike", async () => {
    for (const POP_LOG_FORMAT of ["json", "auto"]) {
      const r = await pop(["call", "obs.work.boom", ...PLUGINS, "--trace"], { env: { POP_LOG_FORMAT } });
      expect(r.code).toBe(1);
      const [traced, failed] = lines(r.stderr);
      expect(traced).toMatchObject({ level: "info", msg: "call", ref: "obs.work.boom", outcome: "error", error: "boom", ...at });
      expect(failed).toMatchObject({ level: "error", code: "POP_CALL", ref: "obs.work.boom" });
    }
  });

  test("a failing call is traced with its error, then reported as usual; --json keeps the same lines", async () => {
    const r = await pop(["call", "obs.work.boom", ...PLUGINS, "--trace", "--json"]);
    expect(r.code).toBe(1);
    const [traced, failed] = lines(r.stderr);
    expect(traced).toMatchObject({ msg: "call", ref: "obs.work.boom", outcome: "error", error: "boom", ...at });
    expect(failed).toMatchObject({ level: "error", code: "POP_CALL", ref: "obs.work.boom" });
  });

  test("POP_LOG_LEVEL=warn silences the trace lines, as it does every info line", async () => {
    expect(await pop(["call", "obs.work.chain", ...PLUGINS, "--trace"], { env: { POP_LOG_LEVEL: "warn" } })).toEqual({ code: 0, stdout: "6\n", stderr: "" });
  });

  test("off, nothing is traced; POP_TRACE=0 is off; a bad POP_TRACE is a usage error naming it", async () => {
    expect(await pop(["call", "obs.work.chain", ...PLUGINS], { env: { POP_TRACE: "0" } })).toEqual({ code: 0, stdout: "6\n", stderr: "" });
    const r = await pop(["call", "obs.work.chain", ...PLUGINS], { env: { POP_TRACE: "loud" } });
    expect(r).toEqual({ code: 2, stdout: "", stderr: 'pop: invalid value for POP_TRACE: "loud"; set it to 1 to trace every call, or 0\n' });
  });
});

describe("--audit FILE", () => {
  test("one JSON line per call: time, ref, caller, outcome (and the error of a failed one), appended run after run", async () => {
    const file = join(tmp(), "audit.jsonl");
    expect(await pop(["call", "obs.work.chain", ...PLUGINS, "--audit", file])).toEqual({ code: 0, stdout: "6\n", stderr: "" });
    await pop(["call", "obs.work.boom", ...PLUGINS, "--audit", file]);
    const got = lines(readFileSync(file, "utf8"));
    expect(got.map((l) => [l.ref, l.caller, l.outcome, l.error])).toEqual([
      ["obs.work.add", "obs.work.chain", "ok", undefined],
      ["obs.work.double", "obs.work.chain", "ok", undefined],
      ["obs.work.chain", null, "ok", undefined],
      ["obs.work.boom", null, "error", "boom"],
    ]);
    for (const l of got) expect(new Date(l.time as string).toISOString()).toBe(l.time as string);
  });

  test("kill -9 loses no line: every call that returned is in the file", async () => {
    const file = join(tmp(), "audit.jsonl");
    const proc = Bun.spawn([POP, "call", "obs.work.record", ...PLUGINS, "--audit", file], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const reader = proc.stderr.getReader();
    let seen = "";
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000); // bound: a run that never says ready fails below
    while (!seen.includes("ready\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    clearTimeout(timer);
    expect(seen).toBe("ready\n");
    proc.kill("SIGKILL");
    expect(await proc.exited).toBe(137);
    expect(proc.signalCode).toBe("SIGKILL");
    const got = lines(readFileSync(file, "utf8"));
    expect(got.map((l) => [l.ref, l.caller, l.outcome])).toEqual([
      ["obs.work.add", "obs.work.record", "ok"],
      ["obs.work.add", "obs.work.record", "ok"],
      ["obs.work.add", "obs.work.record", "ok"],
    ]);
  });

  test("a new file is created mode 0600; processes appending to one file at once leave whole lines, none lost", async () => {
    const file = join(tmp(), "audit.jsonl");
    const runs = await Promise.all(Array.from({ length: 8 }, () => pop(["call", "obs.work.chain", ...PLUGINS, "--audit", file])));
    for (const r of runs) expect(r).toEqual({ code: 0, stdout: "6\n", stderr: "" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const got = lines(readFileSync(file, "utf8"));
    expect(got.length).toBe(24);
    expect(got.filter((l) => l.ref === "obs.work.chain" && l.caller === null && l.outcome === "ok").length).toBe(8);
  });

  test("a file pop cannot append to is a usage error naming the option and the file, before anything runs", async () => {
    const file = join(tmp(), "no/such/dir/audit.jsonl");
    expect(await pop(["call", "obs.work.chain", ...PLUGINS, "--audit", file])).toEqual({
      code: 2,
      stdout: "",
      stderr: `pop: cannot open the audit file "${file}" (option --audit): its folder does not exist; give a file pop can append to\n`,
    });
    expect(await pop(["call", "obs.work.chain", ...PLUGINS, "--audit="])).toEqual({
      code: 2,
      stdout: "",
      stderr: 'pop: invalid value for option --audit: "" names no file; give a file to append to, e.g. --audit calls.jsonl\nrun "pop call --help" for usage\n',
    });
  });
});

describe("--audit FILE and a command that fails before any call", () => {
  test("a bad pop app project or an unknown ref leaves no empty audit file; a file that was there is kept as it was", async () => {
    const dir = writeTree(tmp(), { "other/x.ts": "export function f(hub) {}\n" });
    const file = join(tmp(), "audit.jsonl");
    const app = await pop(["app", "--audit", file, dir]);
    expect([app.code, app.stdout]).toEqual([2, ""]);
    expect(app.stderr).toContain("has no sub");
    expect(existsSync(file)).toBe(false);
    const call = await pop(["call", "obs.work.nope", ...PLUGINS, "--audit", file]);
    expect([call.code, call.stdout]).toEqual([2, ""]);
    expect(existsSync(file)).toBe(false);
    writeFileSync(file, "");
    expect((await pop(["call", "obs.work.nope", ...PLUGINS, "--audit", file])).code).toBe(2);
    expect(readFileSync(file, "utf8")).toBe(""); // the user's own (empty) file stays
    expect(await pop(["call", "obs.work.add", "a=1", "b=2", ...PLUGINS, "--audit", file])).toEqual({ code: 0, stdout: "3\n", stderr: "" });
    expect(
      readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).ref),
    ).toEqual(["obs.work.add"]);
  });
});

describe("--audit FILE that cannot be written", () => {
  test.skipIf(!existsSync("/dev/full"))("a line that cannot be written fails its call, naming the file and the OS error; the command exits 1", async () => {
    expect(await pop(["call", "obs.work.add", "a=1", "b=2", ...PLUGINS, "--audit", "/dev/full"])).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'pop: "obs.work.add" failed: call "obs.work.add" could not be recorded: cannot write to the audit file "/dev/full" (option --audit): ENOSPC: no space left on device, write; free space on its disk or give another file\n' +
        'pop: the audit file "/dev/full" (option --audit) is missing 1 call that could not be recorded: ENOSPC: no space left on device, write\n',
    });
    // A call made from another one fails that one too: nothing returns unrecorded.
    const chain = await pop(["call", "obs.work.chain", ...PLUGINS, "--audit", "/dev/full"]);
    expect(chain.code).toBe(1);
    expect(chain.stdout).toBe("");
    expect(chain.stderr).toContain("is missing 2 calls that could not be recorded: ENOSPC");
  });
});

describe("pop app", () => {
  test("--audit and --trace record the app's calls, its cli(hub) included; --timeout bounds them", async () => {
    const dir = writeTree(tmp(), {
      "conf.ts": 'export const NAME = "app";\nexport const DYNE = { app: ["app"] };',
      "app/init.ts": "export async function cli(hub) { console.log(await hub.app.calc.twice(21)); }",
      "app/calc.ts":
        "export async function twice(hub, x) { await null; return x * 2; }\nexport function hang(hub) { return new Promise(() => setInterval(() => {}, 60000)); }",
    });
    const file = join(tmp(), "audit.jsonl");
    const r = await pop(["app", "--audit", file, "--trace", dir], { env: { POP_LOG_FORMAT: "json" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("42\n");
    expect(lines(r.stderr).map((l) => [l.ref, l.caller, l.outcome])).toEqual([
      ["app.calc.twice", "app.init.cli", "ok"],
      ["app.init.cli", null, "ok"],
    ]);
    expect(lines(readFileSync(file, "utf8")).map((l) => [l.ref, l.caller, l.outcome])).toEqual([
      ["app.calc.twice", "app.init.cli", "ok"],
      ["app.init.cli", null, "ok"],
    ]);
    writeTree(dir, { "app/init.ts": "export async function cli(hub) { await hub.app.calc.hang(); }" });
    const t = await pop(["app", "--timeout", "50", dir]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('call "app.calc.hang" timed out after 50 ms');
    // The project's cli(hub) is a hub call too: a cli that itself runs past the limit is ended by it.
    writeTree(dir, { "app/init.ts": "export async function cli(hub) { await new Promise((r) => setTimeout(r, 60000)); }" });
    expect(await pop(["app", "--timeout", "50", dir])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'pop: call "app.init.cli" timed out after 50 ms; its result is abandoned (raise the limit with --timeout MS, or 0 for none)\n',
    });
  });
});

describe("an isolated sub", () => {
  test("the call into it is traced and audited, and so are its calls back into this hub (it is their caller); its own inner calls are not", async () => {
    const dir = writeTree(tmp(), {
      "iso/m.ts": "export async function go(hub) { return (await hub.host.m.add(1, 2)) + hub.iso.m.one(); }\nexport function one(hub) { return 1; }",
      "host/m.ts": "export function add(hub, a, b) { return a + b; }",
    });
    const file = join(tmp(), "audit.jsonl");
    const r = await pop(["call", "iso.m.go", "--plugins", dir, "--isolate", "iso=worker", "--trace", "--audit", file], { env: { POP_LOG_FORMAT: "json" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("4\n");
    const expected = [
      ["host.m.add", "iso.m.go", "ok"],
      ["iso.m.go", null, "ok"],
    ];
    expect(lines(r.stderr).map((l) => [l.ref, l.caller, l.outcome])).toEqual(expected);
    expect(lines(readFileSync(file, "utf8")).map((l) => [l.ref, l.caller, l.outcome])).toEqual(expected);
  });
});

describe("a remote sub", () => {
  test("its calls are traced naming the server they went to, not as built in", async () => {
    const server = Bun.spawn([POP, "serve", ...PLUGINS, "--sub", "obs", "--port", "0"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    try {
      const reader = server.stdout.getReader();
      let seen = "";
      const timer = setTimeout(() => server.kill("SIGKILL"), 10_000); // bound: a server that never listens fails below
      while (!/listening on (http:\/\/\S+) /.test(seen)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      clearTimeout(timer);
      const url = /listening on (http:\/\/\S+) /.exec(seen)?.[1];
      expect(url).toBeString();
      const text = await pop(["call", "obs.work.add", "a=1", "b=2", "--remote", `obs=${url}`, "--trace"]);
      expect(text).toEqual({
        code: 0,
        stdout: "3\n",
        stderr: expect.stringMatching(new RegExp(`^pop: call obs\\.work\\.add [0-9.]+ ms ok \\(remote ${url}\\)\\n$`)),
      });
      const json = await pop(["call", "obs.work.add", "a=1", "b=2", "--remote", `obs=${url}`, "--trace"], { env: { POP_LOG_FORMAT: "json" } });
      expect(lines(json.stderr)).toEqual([
        expect.objectContaining({ ref: "obs.work.add", root: null, plugin: null, version: null, remote: url, outcome: "ok" }),
      ]);
    } finally {
      server.kill("SIGKILL");
      await server.exited;
    }
  });
});

describe("--timeout MS", () => {
  test("a call still running after MS fails with a timeout error naming the ref, exit 1", async () => {
    expect(await pop(["call", "obs.work.hang", ...PLUGINS, "--timeout", "50"])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'pop: call "obs.work.hang" timed out after 50 ms; its result is abandoned (raise the limit with --timeout MS, or 0 for none)\n',
    });
  });

  test("a call that finishes in time is untouched; nested calls are bounded and traced as usual", async () => {
    const r = await pop(["call", "obs.work.chain", ...PLUGINS, "--timeout", "10000", "--trace"], { env: { POP_LOG_FORMAT: "json" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("6\n");
    expect(lines(r.stderr).map((l) => l.ref)).toEqual(["obs.work.add", "obs.work.double", "obs.work.chain"]);
  });
});

describe("the new options' bad values: exit 2, naming the option and the value", () => {
  test.each([
    [
      ["--timeout", "soon"],
      'pop: invalid value for option --timeout: "soon" is not a whole number of milliseconds; give e.g. --timeout 5000, or 0 for no limit',
    ],
    [["--timeout", "-5"], 'pop: invalid value for option --timeout: "-5" is not a whole number of milliseconds; give e.g. --timeout 5000, or 0 for no limit'],
    [["--isolate", "obs"], 'pop: invalid value for option --isolate: "obs" is not SUB=MODE with SUB a sub name, e.g. --isolate rpc=worker'],
    [["--isolate", "obs=thread"], 'pop: invalid value for option --isolate: "obs=thread": the mode must be worker or process, e.g. --isolate obs=worker'],
    [["--isolate", "1x=worker"], 'pop: invalid value for option --isolate: "1x=worker" is not SUB=MODE with SUB a sub name, e.g. --isolate rpc=worker'],
    [
      ["--remote", "obs=localhost:1"],
      'pop: invalid value for option --remote: "obs=localhost:1": "localhost:1" is not an http:// or https:// URL, e.g. --remote obs=http://127.0.0.1:8888',
    ],
    [["--remote", "obs="], 'pop: invalid value for option --remote: "obs=" is not SUB=URL with SUB a sub name, e.g. --remote rpc=http://127.0.0.1:8888'],
    [
      ["--isolate", "obs=worker", "--remote", "obs=http://127.0.0.1:1"],
      'pop: sub "obs" is placed twice (--isolate obs=worker and --remote obs=http://127.0.0.1:1); give one --isolate or --remote per sub',
    ],
  ])("%p", async (args, message) => {
    for (const [cmd, argv] of [
      ["call", ["call", "obs.work.chain", ...PLUGINS, ...args]],
      ["app", ["app", ...args, ROOTDIR]],
    ] as const) {
      const r = await pop([...argv]);
      expect(r).toEqual({ code: 2, stdout: "", stderr: `${message}\nrun "pop ${cmd} --help" for usage\n` });
    }
  });

  test("pop call --help lists them", async () => {
    const r = await pop(["call", "--help"]);
    for (const o of ["--isolate SUB=MODE", "--remote SUB=URL", "--timeout MS", "--trace", "--audit FILE"]) expect(r.stdout).toContain(o);
  });
});
