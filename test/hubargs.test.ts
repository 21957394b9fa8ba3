// Which hub options each command takes: placement (--isolate, --remote) wherever subs are shown or called, the
// call options (--trace, --audit, --timeout) only where plugin functions are called.
import { describe, expect, test } from "bun:test";
import { pop } from "./helpers.ts";

const RUN_ONLY = ["--trace", "--audit FILE", "--timeout MS"];
const PLACE = ["--isolate SUB=MODE", "--remote SUB=URL"];

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
