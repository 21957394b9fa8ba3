// A plugin's function calling process.exit() while pop call or pop serve runs it: the call fails with an error that
// says so (exit 1 for pop call; a 500 for that request, the server going on), as at import. Before, pop call ended
// with the plugin's code (even 3, which pop's exit codes reserve for ZooKeeper) and pop serve ended silently, exit 0.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, tmp, writeTree } from "./helpers.ts";
import { post, serve } from "./fixtures/serve/_harness.ts";

const root = writeTree(tmp("pop-exit-call-"), {
  "s/m.ts": [
    "export function quit(hub: any) { process.exit(3); }",
    "export async function later(hub: any) { await Bun.sleep(5); process.exit(4); }",
    "export function ok(hub: any) { return 'ok'; }",
    "export async function lateExit(hub: any) { await Bun.sleep(300); process.exit(0); }",
  ].join("\n"),
});
const file = join(root, "s/m.ts");
const said = (code: number) => `process.exit(${code}) called while a plugin's function ran: a plugin must not end the process; throw an error instead`;

describe("process.exit() in a call", () => {
  test.each([
    ["the lean path", {}],
    ["the full path", { POP_LOAD_TIMEOUT: "30000" }],
  ] as const)("pop call (%s): the call's failure, exit 1, naming the line", async (_, env) => {
    expect(await pop(["call", "s.m.quit", "--plugins", root], { env })).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${file}:1:42: "s.m.quit" failed: ${said(3)}\n`,
    });
    expect(await pop(["call", "s.m.later", "--plugins", root], { env })).toEqual({
      code: 1,
      stdout: "",
      stderr: `pop: ${file}:2:69: "s.m.later" failed: ${said(4)}\n`,
    });
  });

  test("pop serve: that request is a 500 with the error, and the server answers the next", async () => {
    await using s = await serve(["--plugins", root, "--sub", "s"]);
    for (const ref of ["m.quit", "m.later"]) {
      const r = await post(s.url, { ref });
      expect(r.status).toBe(500);
      expect(r.json.error.message).toBe(said(ref === "m.quit" ? 3 : 4));
    }
    expect(await post(s.url, { ref: "m.ok" })).toMatchObject({ status: 200, json: { ref: "m.ok", result: "ok" } });
  });

  test("pop serve --timeout: a function that ends the process after its call timed out still cannot end the server", async () => {
    await using s = await serve(["--plugins", root, "--sub", "s", "--timeout", "50"]);
    expect((await post(s.url, { ref: "m.lateExit" })).status).toBe(504);
    await Bun.sleep(500); // past the function's own exit
    expect(await post(s.url, { ref: "m.ok" })).toMatchObject({ status: 200, json: { ref: "m.ok", result: "ok" } });
  });
});
