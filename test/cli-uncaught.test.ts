// What a plugin can do behind pop's back during a one-shot command: throw in a timer, leave a promise pending forever,
// return an exit code no process can have. Each is one pop: line naming the plugin's line and a documented exit code.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { POP, pop, tmp, writeTree } from "./helpers.ts";

const root = writeTree(tmp("pop-uncaught-"), {
  "s/late.ts": [
    "export function hang(hub: any) { return new Promise(() => {}); }",
    "export async function slow(hub: any) { setTimeout(() => { throw new Error('late'); }, 10); await new Promise((r) => setTimeout(r, 300)); return 1; }",
    "export function deep(hub: any) { const x: any = undefined; return x.foo.bar; }",
  ].join("\n"),
});
const file = join(root, "s/late.ts");

describe("pop call", () => {
  test("an error thrown in a timer while the call runs: one pop: line with the plugin's line, exit 1, no result", async () => {
    expect(await pop(["call", "s.late.slow", "--plugins", root])).toEqual({ code: 1, stdout: "", stderr: `pop: ${file}:2:69: uncaught error: late\n` });
  });

  test("under --json it is a JSON line with code POP_UNCAUGHT", async () => {
    const r = await pop(["call", "s.late.slow", "--plugins", root, "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const line = JSON.parse(r.stderr);
    expect(line).toMatchObject({ level: "error", msg: `${file}:2:69: uncaught error: late`, code: "POP_UNCAUGHT", exitCode: 1 });
  });

  test("a function's own failure names the file and line it came from", async () => {
    const r = await pop(["call", "s.late.deep", "--plugins", root]);
    expect(r).toEqual({ code: 1, stdout: "", stderr: `pop: ${file}:3:49: "s.late.deep" failed: undefined is not an object (evaluating '(void 0).foo')\n` });
  });

  test("a call whose promise never settles idles (no core spun) until a signal ends it", async () => {
    const proc = Bun.spawn([POP, "call", "s.late.hang", "--plugins", root], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    await Bun.sleep(1500);
    // utime + stime, in clock ticks (100 a second): a spinning process has used ~150 by now, an idle one a few.
    const ticks = readFileSync(`/proc/${proc.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const cpu = Number(ticks[11]) + Number(ticks[12]);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(143);
    expect(cpu).toBeLessThan(50);
    expect(await new Response(proc.stderr).text()).toBe("pop: SIGTERM received: closing the hub (send it again to stop at once)\n");
  }, 15_000);
});

describe("pop app", () => {
  const app = (ret: string) =>
    writeTree(tmp("pop-uncaught-app-"), {
      "conf.ts": 'export const NAME = "x";\nexport const DYNE = { x: ["x"] };',
      "x/init.ts": `export function cli(hub: any) { return ${ret}; }`,
    });

  for (const ret of ["256", "-1", "1.5"])
    test(`cli() returning ${ret} is an error (an exit status is 0 to 255), not a wrapped status`, async () => {
      expect(await pop(["app", app(ret)])).toEqual({
        code: 1,
        stdout: "",
        stderr: `pop: "x.init.cli" returned ${ret} as the exit code; return a whole number from 0 to 255 (or nothing, for process.exitCode)\n`,
      });
    });

  for (const [ret, shown] of [
    ['"3"', '"3" (a string)'],
    ["true", "true (a boolean)"],
  ] as const)
    test(`cli() returning ${ret} is an error naming what it returned, not exit 0`, async () => {
      expect(await pop(["app", app(ret)])).toEqual({
        code: 1,
        stdout: "",
        stderr: `pop: "x.init.cli" returned ${shown} as the exit code; return a whole number from 0 to 255 (or nothing, for process.exitCode)\n`,
      });
    });

  test("cli() returning 255 is exit 255", async () => {
    expect((await pop(["app", app("255")])).code).toBe(255);
  });
});
