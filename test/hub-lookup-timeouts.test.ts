// loadHub / createHub from a program (here a test run by `pop test`): timeouts past the longest timer are refused, naming the option.
import { expect, test } from "bun:test";
import { pop, tmp, writeTree } from "./helpers.ts";

const PROGRAM = `import { test } from "bun:test";
import { closeHub, createHub, loadHub } from "pop";

const cases: Array<[string, unknown]> = [
  ["callTimeout", 2147483648],
  ["loadTimeout", 1e12],
  ["shutdownTimeout", 2147483648],
  ["callTimeout", -1],
  ["loadTimeout", "5"],
  ["loadTimeout", 2147483647],
];

test("timeouts", async () => {
  for (const [key, value] of cases) {
    try {
      const hub = await loadHub({ plugins: ["r"], packages: false, [key]: value });
      console.log(JSON.stringify({ key, value: await hub.u.m.one() }));
      await closeHub(hub);
    } catch (e: any) {
      console.log(JSON.stringify({ key, name: e.name, exitCode: e.exitCode, message: e.message }));
    }
  }
  try {
    createHub({ callTimeout: 3e9 });
  } catch (e: any) {
    console.log(JSON.stringify({ key: "callTimeout", name: e.name, exitCode: e.exitCode, message: e.message }));
  }
});
`;

const over = (fn: string, key: string, v: string) => ({
  key,
  name: "UsageError",
  exitCode: 2,
  message: `${fn}: option ${key} is ${v} ms, more than 2147483647 ms (about 24.8 days), the longest timer pop can set; give at most 2147483647, or 0 for no limit`,
});

test("loadHub and createHub refuse a callTimeout, loadTimeout or shutdownTimeout past 2147483647 ms, or not a whole number", async () => {
  const dir = writeTree(tmp(), {
    "r/u/m.ts": "export async function one(hub: any) { return 1; }\n",
    "test/timeouts.test.ts": PROGRAM,
  });
  const r = await pop(["test", "--no-types", "."], { cwd: dir });
  expect(r.code).toBe(0);
  const lines = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  expect(lines).toEqual([
    over("loadHub", "callTimeout", "2147483648"),
    over("loadHub", "loadTimeout", "1000000000000"),
    over("loadHub", "shutdownTimeout", "2147483648"),
    {
      key: "callTimeout",
      name: "UsageError",
      exitCode: 2,
      message: "loadHub: option callTimeout must be a whole number of milliseconds, 0 for no limit; got -1",
    },
    {
      key: "loadTimeout",
      name: "UsageError",
      exitCode: 2,
      message: 'loadHub: option loadTimeout must be a whole number of milliseconds, 0 for no limit; got "5"',
    },
    { key: "loadTimeout", value: 1 },
    over("createHub", "callTimeout", "3000000000"),
  ]);
}, 30_000);
