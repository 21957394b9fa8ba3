// A root's conf.ts is part of the app: it may import from "pop", and one sub's init may add another dyne.
import { expect, test } from "bun:test";
import { pop, tmp, writeTree } from "./helpers.ts";

test('a root\'s conf.ts may import from "pop" under pop call and pop tree', async () => {
  const dir = writeTree(tmp(), {
    "app/conf.ts":
      'import { z } from "pop";\nexport const CONFIG = { n: { default: 1, help: "n", type: z.number() } };\nexport const DYNE = { calc: ["calc"] };\n',
    "app/calc/ops.ts": "export function inc(hub: unknown, { n }: { n: number }) { return n + 1; }\n",
  });
  const r = await pop(["call", "calc.ops.inc", "n=41", "--plugins", "app"], { cwd: dir });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("42\n");
  expect(r.code).toBe(0);
  const t = await pop(["tree", "--plugins", "app"], { cwd: dir });
  expect(t.stderr).toBe("");
  expect(t.code).toBe(0);
});

test("a sub whose init adds another dyne: the hub adds it once, without a warning", async () => {
  const dir = writeTree(tmp(), {
    "app/conf.ts": 'export const DYNE = { main: ["main"], rpc: ["rpc"] };\n',
    "app/main/init.ts":
      'export async function __init__(hub: any) { await hub.pop.sub.add({ dyneName: "rpc" }); hub.main.SEEN = Object.keys(hub).filter((k) => k !== "OPT"); }\nexport function seen(hub: any) { return hub.main.SEEN; }\n',
    "app/rpc/init.ts":
      "let n = 0;\nexport function __init__(hub: any) { n++; hub.rpc.INITS = n; }\nexport function inits(hub: any) { return hub.rpc.INITS; }\n",
  });
  const r = await pop(["call", "rpc.init.inits", "--plugins", "app"], { cwd: dir });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("1\n");
  expect(r.code).toBe(0);
});
