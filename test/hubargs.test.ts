// Which hub options each command takes: placement (--isolate, --remote) wherever subs are shown or called, the
// call options (--trace, --audit, --timeout) only where plugin functions are called.
import { describe, expect, test } from "bun:test";
import { pop, tmp, writeTree } from "./helpers.ts";

const RUN_ONLY = ["--trace", "--audit FILE", "--timeout MS"];
const PLACE = ["--isolate SUB=MODE", "--isolate-env SUB=VARS", "--isolate-memory SUB=MIB", "--remote SUB=URL"];

describe("hub options per command", () => {
  test.each(["config show", "config schema"])("pop %s takes the loading options only", async (cmd) => {
    const help = await pop([...cmd.split(" "), "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--plugins DIR");
    expect(help.stdout).toContain("--load-timeout MS");
    for (const opt of [...RUN_ONLY, ...PLACE]) expect(help.stdout).not.toContain(opt);
    // Before DIR the options are pop's: --trace there is unknown (it would mean nothing).
    const before = await pop([...cmd.split(" "), "--trace", "examples/poppy"]);
    expect(before.code).toBe(2);
    expect(before.stderr).toStartWith('pop: unknown option "--trace"');
  });

  test("pop tree takes the placement options, not the call ones", async () => {
    const help = await pop(["tree", "--help"]);
    expect(help.code).toBe(0);
    for (const opt of PLACE) expect(help.stdout).toContain(opt);
    for (const opt of RUN_ONLY) expect(help.stdout).not.toContain(opt);
    const bad = await pop(["tree", "--remote", "calc=ftp://x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith('pop: invalid value for option --remote: "calc=ftp://x": "ftp://x" is not an http:// or https:// URL');
  });

  test.each(["call", "app", "serve"])("pop %s takes every hub option", async (cmd) => {
    const help = await pop([cmd, "--help"]);
    for (const opt of [...RUN_ONLY, ...PLACE, "--plugins DIR"]) expect(help.stdout).toContain(opt);
  });
});

describe("timer options: at most the longest timer", () => {
  const MAX = 2147483647;
  const plugins = () => writeTree(tmp(), { "sl/m.ts": "export async function wait(hub, ms = 10) { await Bun.sleep(Number(ms)); return 'done'; }" });
  const over = (from: string, value: string, cmd = "call") =>
    `pop: invalid value for ${from}: ${JSON.stringify(value)} is more than ${MAX} ms (about 24.8 days), the longest timer pop can set; give at most ${MAX}, or 0 for no limit\nrun "pop ${cmd} --help" for usage\n`;

  test.each([
    ["--timeout", "3000000000"],
    ["--load-timeout", "3000000000"],
    ["--timeout", "2147483648"],
  ])("pop call %s %s: a usage error naming the option and the maximum", async (option, value) => {
    const r = await pop(["call", "sl.m.wait", "--plugins", plugins(), option, value]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: over(`option ${option}`, value) });
  });

  test("POP_LOAD_TIMEOUT over the maximum: the same usage error, naming the variable", async () => {
    const r = await pop(["call", "sl.m.wait", "--plugins", plugins()], { env: { POP_LOAD_TIMEOUT: "9999999999" } });
    expect(r).toEqual({ code: 2, stdout: "", stderr: over("POP_LOAD_TIMEOUT", "9999999999") });
  });

  test("pop serve --timeout over the maximum is refused the same way", async () => {
    const r = await pop(["serve", "--plugins", plugins(), "--port", "0", "--timeout", "3000000000"]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: over("option --timeout", "3000000000", "serve") });
  });

  test("the maximum itself is a real limit: the call runs to its end, with no warning", async () => {
    const r = await pop(["call", "sl.m.wait", "--plugins", plugins(), "--timeout", String(MAX), "--load-timeout", String(MAX)]);
    expect(r).toEqual({ code: 0, stdout: "done\n", stderr: "" });
    const isolated = await pop(["call", "sl.m.wait", "--plugins", plugins(), "--timeout", String(MAX), "--isolate", "sl=worker"]);
    expect(isolated).toEqual({ code: 0, stdout: "done\n", stderr: "" });
  }, 30_000);
});

describe("the built-in pop sub cannot be placed", () => {
  test("--isolate pop=..., --remote pop=... or a manifest placing it is a usage error naming where, exit 2", async () => {
    const dir = writeTree(tmp(), { "s/a.ts": "export function f(hub) { return 1; }" });
    const fix = `"pop" is pop's built-in sub, which always runs in pop itself; isolate or serve one of the plugins' subs instead\n`;
    for (const [opt, spec] of [
      ["--isolate", "pop=worker"],
      ["--remote", "pop=http://127.0.0.1:1"],
    ]) {
      expect(await pop(["call", "s.a.f", "--plugins", dir, opt!, spec!])).toEqual({ code: 2, stdout: "", stderr: `pop: ${opt} ${spec}: ${fix}` });
    }
    writeTree(dir, { "pop.json": JSON.stringify({ isolate: { pop: "process" } }) });
    expect(await pop(["call", "s.a.f", "--plugins", dir])).toEqual({ code: 2, stdout: "", stderr: `pop: ${dir}/pop.json: ${fix}` });
  });
});
