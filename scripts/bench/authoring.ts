#!/usr/bin/env bun
// Authoring benchmark (issue 9): `pop test` on a project `pop create project` writes, against `bun test` on the same
// files with the same preload (the `pop` module served the same way), measured in the same run, interleaved run by run.
// No target: the issue asks for the figure. Also, for the record, `pop test --no-types` (what refreshing the types
// costs) and `pop types` alone on an up-to-date project.
// Run: bun scripts/bench/authoring.ts (after `bun run build`; POP_BIN=... for another build, RUNS=... for more runs).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshCopy, report, timeCommand, timePair } from "./_util.ts";

const ROOT = join(import.meta.dir, "../..");
const BUILT = process.env.POP_BIN ?? join(ROOT, "dist/pop");
const BUN = join(ROOT, "node_modules/.bin/bun");
if (!existsSync(BUILT)) {
  console.error(`bench: ${BUILT} is missing; run \`bun run build\` first (or set POP_BIN)`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "pop-bench-authoring-"));
const POP = freshCopy(BUILT, work);
const runs = Number(process.env.RUNS ?? 20);
// The runs' own cache: pop test's runtime and Bun's types are written there by the warm-up run, not timed.
process.env.XDG_CACHE_HOME = join(work, "cache");

const dir = join(work, "shop");
const created = Bun.spawnSync([POP, "create", "project", "shop", "--dir", dir], { cwd: work, stdout: "pipe", stderr: "pipe" });
if (created.exitCode !== 0) {
  // A scaffolder-less build: the same shape by hand (conf.ts, the project's sub, one library sub, a test of each).
  console.log(`(pop create project failed: ${created.stderr.toString().trim()}; using a hand-written project of the same shape)`);
  handWritten(dir);
}
timeCommand([POP, "test", dir], { cwd: work, runs: 1, warmup: 0 }); // fails loudly if the tests do not pass
const runtime = join(process.env.XDG_CACHE_HOME, "pop");
const preload = readdirSync(runtime)
  .filter((d) => d.startsWith("test-"))
  .map((d) => join(runtime, d, "preload.js"))
  .find(existsSync);
if (!preload) throw new Error(`bench: pop test wrote no preload under ${runtime}`);

console.log(`pop test vs bun test --preload (same files, same pop module; median of ${runs} interleaved runs each)`);
const [popMs, bunMs, ratio] = timePair([POP, "test", dir], [BUN, "test", "--preload", preload], { cwd: dir, runs });
report("pop test (generated project) vs bun test on the same files", popMs, bunMs, undefined, "ms", ratio);
const [noTypes, bunAgain, noTypesRatio] = timePair([POP, "test", "--no-types", dir], [BUN, "test", "--preload", preload], { cwd: dir, runs });
report("     pop test --no-types (types not refreshed) vs bun test", noTypes, bunAgain, undefined, "ms", noTypesRatio);
const types = timeCommand([POP, "types", dir], { cwd: dir, runs });
const version = timeCommand([POP, "--version"], { cwd: dir, runs });
console.log(`     pop types, up to date: ${types.toFixed(3)} ms; pop --version: ${version.toFixed(3)} ms`);
rmSync(work, { recursive: true, force: true });

function handWritten(at: string): void {
  const files: Record<string, string> = {
    "conf.ts": 'export const CONFIG = { greeting: { default: "hello", help: "What to say" } };\nexport const DYNE = { shop: ["shop"], calc: ["calc"] };\n',
    "shop/init.ts":
      'import type { Hub } from "pop";\nexport function greet(hub: Hub, { num = 11 }: { num?: number } = {}): string {\n  return `${hub.OPT.shop.greeting} ${hub.calc.math.fib({ num })}`;\n}\n',
    "calc/math.ts":
      'import type { Hub } from "pop";\nexport function fib(hub: Hub, { num = 10 }: { num?: number } = {}): number {\n  let [a, b] = [0, 1];\n  for (let i = 0; i < num; i++) [a, b] = [b, a + b];\n  return hub ? a : 0;\n}\n',
    "test/shop.test.ts":
      'import { expect, test } from "bun:test";\nimport { mockHub, testHub } from "pop";\nconst hub = await testHub(import.meta.dir + "/..");\ntest("fib", () => expect(hub.calc.math.fib({ num: 11 })).toBe(89));\ntest("greet", async () => {\n  const m = await mockHub(hub, { real: ["shop.init.greet"] });\n  m.calc.math.fib.returns(1);\n  expect(m.shop.init.greet()).toBe("hello 1");\n});\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(at, path, ".."), { recursive: true });
    writeFileSync(join(at, path), text);
  }
}
