// The "pop" module plugin files and test files import: the hub's watching API (watchHub, addMonitor,
// setCallTimeout) is served at run time by the executable, in plugins (pop call) and in tests (pop test).
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { pop, tmp, writeTree } from "./helpers.ts";

const USE = `import { addMonitor, setCallTimeout, watchHub } from "pop";
export async function check(hub) {
  const seen = [];
  const undo = addMonitor(hub, { after: (c) => seen.push(c.ref + " " + c.outcome) });
  await hub.w.m.inner();
  undo();
  setCallTimeout(hub, 30);
  const timedOut = await hub.w.m.slow().then(() => "no", (e) => e.name);
  const stop = watchHub(hub, {});
  stop();
  return { seen, timedOut, watchHub: typeof watchHub };
}
export async function inner(hub) { return 1; }
export function slow(hub) { return new Promise((res) => setTimeout(res, 5000)); }
`;

describe('the "pop" module', () => {
  test("a plugin imports watchHub, addMonitor and setCallTimeout from it", async () => {
    const root = writeTree(tmp(), { "w/m.js": USE });
    const r = await pop(["call", "w.m.check", "--plugins", root, "--json"]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ seen: ["w.m.inner ok"], timedOut: "TimeoutError", watchHub: "function" });
    expect(r.code).toBe(0);
  });

  test("a test file run by pop test imports them too", async () => {
    const dir = join(tmp(), "proj");
    writeTree(dir, {
      "proj/init.ts": "export function cli(hub: any) {}\n",
      "test/api.test.ts":
        'import { expect, test } from "bun:test";\nimport { addMonitor, setCallTimeout, watchHub } from "pop";\n' +
        'test("api", () => { expect([typeof addMonitor, typeof setCallTimeout, typeof watchHub]).toEqual(["function", "function", "function"]); });\n',
    });
    const r = await pop(["test", "--no-types", dir]);
    expect(r.stderr).toContain("1 pass");
    expect(r.code).toBe(0);
  }, 30_000);
});
